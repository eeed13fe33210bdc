"""Every emulator response is what the official SDK (`PureCloudPlatformClientV2`) reads: only
fields its models declare, JSON kinds it expects, enum values it lists, and it deserializes."""

from __future__ import annotations

from typing import Any

import httpx

from emulator import EmulatorServer

from ..sdk_oracle import check_value, deserialize
from .conftest import GenesysApi, ids, wait_until
from .test_emulator_analytics import last_hours, open_web_messaging


def sdk_read(response: httpx.Response, type_name: str) -> Any:
    """The response body as SDK objects, after checking it field by field against the SDK."""
    assert check_value(type_name, response.json()) == [], response.text
    return deserialize(response.json(), type_name)


def test_reads_of_every_scenario_and_state_deserialize(emu: EmulatorServer, api: GenesysApi) -> None:
    emu.admin.config(wrapup_timeout_s=None)
    conversations = [
        emu.admin.seed(scenario)["conversationId"]
        for scenario in ("agent", "bot", "ended", "stuck", "not_web_messaging")
    ]
    in_acw = emu.admin.seed("agent", wrapup_prompt="mandatory")
    cid, agent, comm = ids(in_acw, "agent")
    api.post_message(cid, comm, "Goodbye")
    api.disconnect(cid, agent)
    wrapped = emu.admin.seed("agent")
    wcid, wagent, _ = ids(wrapped, "agent")
    api.disconnect(wcid, wagent, wrapup={"code": "resolved", "notes": "n", "tags": ["a"], "durationSeconds": 3})
    api.teardown(conversations[3])
    wait_until(lambda: api.participant(cid, agent).get("startAcwTime"))
    wait_until(lambda: api.participant(wcid, wagent).get("wrapup"))

    for conversation_id in [*conversations, cid, wcid]:
        generic = sdk_read(api.http.get(f"/api/v2/conversations/{conversation_id}"), "Conversation")
        messaging = sdk_read(api.http.get(f"/api/v2/conversations/messages/{conversation_id}"), "MessageConversation")
        [recording] = sdk_read(api.http.get(f"/api/v2/conversations/{conversation_id}/recordings"), "list[Recording]")
        assert generic.id == messaging.id == recording.conversation_id == conversation_id

    acw_agent = next(p for p in deserialize(api.conversation(cid), "Conversation").participants if p.id == agent)
    assert acw_agent.messages[0].id == comm and acw_agent.messages[0].state == "disconnected"
    assert acw_agent.start_acw_time is not None and acw_agent.wrapup is None and acw_agent.wrapup_prompt == "mandatory"
    assert acw_agent.messages[0].messages[0].message_status == "sent"


def test_write_responses_deserialize(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent")
    cid, _, comm = ids(seeded, "agent")

    sent = sdk_read(api.post_message(cid, comm, "Goodbye"), "MessageData")
    listing = sdk_read(
        api.http.post(f"/api/v2/conversations/messages/{cid}/messages/bulk", json=[sent.id]), "TextMessageListing"
    )
    [recording] = api.http.get(f"/api/v2/conversations/{cid}/recordings").json()
    updated = sdk_read(
        api.http.put(
            f"/api/v2/conversations/{cid}/recordings/{recording['id']}", json={"deleteDate": "2031-01-01T00:00:00Z"}
        ),
        "Recording",
    )
    patched = sdk_read(
        api.http.patch(f"/api/v2/conversations/messages/{cid}", json={"state": "disconnected"}), "Conversation"
    )

    assert sent.normalized_message.text == "Goodbye" and listing.entities[0].id == sent.id
    assert updated.delete_date.year == 2031 and patched.id == cid


def test_error_bodies_deserialize(emu: EmulatorServer, api: GenesysApi) -> None:
    emu.admin.add_client("nothing", "nothing-secret", [])
    seeded = emu.admin.seed("agent")
    cid, agent, _ = ids(seeded, "agent")
    emu.admin.config(disconnect_delay_s=1)
    api.disconnect(cid, agent)
    emu.admin.add_fault(route="/api/v2/conversations/{conversationId}/recordings", status=429, count=1)

    with GenesysApi(emu.url, ("nothing", "nothing-secret")) as powerless:
        forbidden = powerless.http.get(f"/api/v2/conversations/{cid}")

    failures = [
        httpx.get(f"{emu.url}/api/v2/conversations/{cid}"),  # 401
        forbidden,  # 403
        api.http.get("/api/v2/conversations/unknown"),  # 404
        api.disconnect(cid, agent),  # 409
        api.http.get(f"/api/v2/conversations/{cid}/recordings"),  # 429
        api.patch_participant(cid, agent, {"state": 1}),  # 400
    ]

    assert [r.status_code for r in failures] == [401, 403, 404, 409, 429, 400]
    for response in failures:
        error = sdk_read(response, "ErrorBody")
        assert error.context_id == response.headers["inin-correlation-id"] and error.code


def test_details_query_and_message_activity_read_back_with_the_sdk(emu: EmulatorServer, api: GenesysApi) -> None:
    open_now = emu.admin.seed("bot", started_ago_s=900, last_message_age_s=600)["conversationId"]
    ended = emu.admin.seed("ended", started_ago_s=900)["conversationId"]
    emu.admin.send_message(open_now, "bot", "Still there?")
    query = open_web_messaging(last_hours())
    with_an_end = open_web_messaging(last_hours())
    with_an_end["conversationFilters"][0]["predicates"][0]["operator"] = "exists"
    nothing = open_web_messaging("2001-01-01T00:00:00.000Z/2001-01-02T00:00:00.000Z")

    for body in (query, with_an_end, nothing):
        assert check_value("ConversationQuery", body) == []
    found = sdk_read(api.query_details(query), "AnalyticsConversationQueryResponse")
    found_ended = sdk_read(api.query_details(with_an_end), "AnalyticsConversationQueryResponse")
    empty = sdk_read(api.query_details(nothing), "AnalyticsConversationQueryResponse")

    hit = next(c for c in found.conversations if c.conversation_id == open_now)
    assert hit.conversation_end is None and hit.participants[0].sessions[0].media_type == "message"
    assert next(c for c in found_ended.conversations if c.conversation_id == ended).conversation_end is not None
    assert empty.total_hits == 0 and empty.conversations is None
    for placement in ("sender", "customer"):
        emu.admin.config(message_placement=placement)
        activity = sdk_read(api.http.get(f"/api/v2/conversations/messages/{open_now}"), "MessageConversation")
        times = [m.message_time for p in activity.participants for m in p.messages]
        assert len(times) == 3 and all(t.tzinfo is not None for t in times)
