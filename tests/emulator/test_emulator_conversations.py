"""Reading and ending conversations: timed effects, conflicts, wrap-up, stuck conversations."""

from __future__ import annotations

import time

import pytest

from emulator import EmulatorServer

from .conftest import GenesysApi, ids, wait_until
from .test_emulator_auth import assert_error_body


def communication(participant: dict) -> dict:
    return participant["messages"][0]


def test_get_conversation_and_message_conversation(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent")
    cid = seeded["conversationId"]

    generic = api.conversation(cid)
    messaging = api.http.get(f"/api/v2/conversations/messages/{cid}").json()

    assert generic["id"] == messaging["id"] == cid and "endTime" not in generic
    assert {p["purpose"]: communication(p)["id"] for p in generic["participants"]} == {
        purpose: ids(seeded, purpose)[2] for purpose in ("customer", "acd", "agent")
    }
    assert {p["purpose"]: p["state"] for p in messaging["participants"]} == {
        "customer": "connected", "acd": "disconnected", "agent": "connected"
    }  # fmt: skip
    assert all("endTime" not in p for p in messaging["participants"] if p["state"] == "connected")


def test_unknown_conversation_is_404(api: GenesysApi) -> None:
    assert_error_body(api.http.get("/api/v2/conversations/3c1e9f5e-0000-4000-8000-000000000000"), 404, "not.found")
    assert_error_body(api.http.get("/api/v2/not/an/operation"), 404, "not.found")


def test_disconnect_is_202_then_takes_effect_and_the_conversation_ends_later(
    emu: EmulatorServer, api: GenesysApi
) -> None:
    emu.admin.config(disconnect_delay_s=0.2, end_delay_s=0.2)
    seeded = emu.admin.seed("agent")
    cid, agent, _ = ids(seeded, "agent")
    _, customer, _ = ids(seeded, "customer")

    response = api.disconnect(cid, agent, wrapup={"code": "resolved"})
    assert response.status_code == 202 and response.content == b""
    assert communication(api.participant(cid, agent))["state"] == "connected"  # not yet
    assert api.disconnect(cid, customer).status_code == 202

    time.sleep(0.25)
    state = api.conversation(cid)
    agent_now = next(p for p in state["participants"] if p["id"] == agent)
    assert communication(agent_now)["state"] == "disconnected"
    assert communication(agent_now)["disconnectType"] == "client"
    assert agent_now["endTime"] == communication(agent_now)["disconnectedTime"]
    assert agent_now["wrapup"] == {"code": "resolved"}
    assert "endTime" not in state  # end_delay_s after the last disconnect

    ended = wait_until(lambda: api.conversation(cid).get("endTime"), 1)
    assert ended >= communication(agent_now)["disconnectedTime"]


def test_a_change_in_flight_is_409_and_a_second_disconnect_is_400(emu: EmulatorServer, api: GenesysApi) -> None:
    emu.admin.config(disconnect_delay_s=0.3)
    cid, agent, _ = ids(emu.admin.seed("agent"), "agent")

    assert api.disconnect(cid, agent).status_code == 202
    assert_error_body(api.disconnect(cid, agent), 409, "conflict")
    assert_error_body(api.patch_participant(cid, agent, {"wrapupSkipped": True}), 409, "conflict")

    time.sleep(0.35)
    assert_error_body(api.disconnect(cid, agent), 400, "conversation.error.participant.no.active.conversations")


def test_optional_wrapup_can_be_skipped(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent", wrapup_prompt="optional"), "agent")

    assert api.disconnect(cid, agent, wrapupSkipped=True).status_code == 202

    participant = wait_until(lambda: _disconnected(api, cid, agent))
    assert participant["wrapupSkipped"] is True and "wrapup" not in participant and "startAcwTime" not in participant


def test_mandatory_wrapup_cannot_be_skipped_and_needs_a_code(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, comm = ids(emu.admin.seed("agent", wrapup_prompt="mandatory"), "agent")

    assert_error_body(api.disconnect(cid, agent, wrapupSkipped=True), 400, "conversation.error.wrapup.cannot.skip")
    assert_error_body(
        api.disconnect(cid, agent, wrapup={"notes": "no code"}), 400, "conversation.error.wrapup.code.required"
    )
    assert communication(api.participant(cid, agent))["state"] == "connected"  # refused: nothing changed

    # Disconnected without a wrap-up: after-call work until the wrap-up POST.
    assert api.disconnect(cid, agent).status_code == 202
    in_acw = wait_until(lambda: _disconnected(api, cid, agent))
    assert "startAcwTime" in in_acw and "wrapup" not in in_acw and "endAcwTime" not in in_acw
    wrapup_url = f"/api/v2/conversations/messages/{cid}/participants/{agent}/communications/{comm}/wrapup"
    assert_error_body(api.http.post(wrapup_url, json={"notes": "x"}), 400, "conversation.error.wrapup.code.required")

    assert api.http.post(wrapup_url, json={"code": "resolved", "notes": "done"}).status_code == 202

    done = api.participant(cid, agent)
    assert done["wrapup"] == {"code": "resolved", "notes": "done"} and "endAcwTime" in done
    assert emu.admin.conversation(cid)["participants"][2]["pending_acw"] is False


def test_a_wrapup_only_patch_ends_after_call_work(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent"), "agent")
    api.disconnect(cid, agent)
    wait_until(lambda: _disconnected(api, cid, agent))

    assert api.patch_participant(cid, agent, {"wrapup": {"code": "resolved"}}).status_code == 202

    assert api.participant(cid, agent)["wrapup"] == {"code": "resolved"}


def test_after_call_work_times_out_with_a_system_wrapup(emu: EmulatorServer, api: GenesysApi) -> None:
    emu.admin.config(wrapup_timeout_s=0.1)
    cid, agent, _ = ids(emu.admin.seed("agent", wrapup_prompt="timeout"), "agent")

    api.disconnect(cid, agent)

    participant = wait_until(lambda: api.participant(cid, agent).get("wrapup") and api.participant(cid, agent))
    assert participant["wrapup"]["code"] == "ININ-WRAP-UP-TIMEOUT"
    assert emu.admin.conversation(cid)["participants"][2]["wrapup_by_system"] is True


def test_conversation_patch_disconnects_everyone_without_wrapup(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent"), "agent")
    url = f"/api/v2/conversations/messages/{cid}"

    assert_error_body(api.http.patch(url, json={"state": "connected"}), 400, "bad.request")
    assert_error_body(api.http.patch(url, json={"state": "disconnected", "closed": True}), 400, "bad.request")
    response = api.http.patch(url, json={"state": "disconnected"})

    assert response.status_code == 200 and response.json()["id"] == cid
    wait_until(lambda: api.conversation(cid).get("endTime"))
    agent_now = api.participant(cid, agent)
    assert "wrapup" not in agent_now and "startAcwTime" in agent_now  # wrap-up required: after-call work
    assert_error_body(
        api.http.patch(url, json={"state": "disconnected"}),
        400,
        "conversation.error.participant.no.active.conversations",
    )


def test_communication_patch_disconnects_without_touching_wrapup(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, comm = ids(emu.admin.seed("agent"), "agent")
    url = f"/api/v2/conversations/messages/{cid}/participants/{agent}/communications/{comm}"

    assert_error_body(api.http.patch(url, json={"state": "connected"}), 400, "communication.state.required")
    response = api.http.patch(url, json={"state": "disconnected", "wrapup": {"code": "ignored"}})

    assert response.status_code == 200
    participant = wait_until(lambda: _disconnected(api, cid, agent))
    assert "wrapup" not in participant and "startAcwTime" in participant


def test_stuck_conversation_only_ends_by_teardown_with_a_system_wrapup(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("stuck")
    cid, agent, _ = ids(seeded, "agent")
    _, customer, _ = ids(seeded, "customer")

    assert api.disconnect(cid, agent).status_code == 202
    assert api.disconnect(cid, customer).status_code == 202
    assert api.http.patch(f"/api/v2/conversations/messages/{cid}", json={"state": "disconnected"}).status_code == 200
    time.sleep(0.15)
    assert all(
        communication(p)["state"] == "connected" for p in api.conversation(cid)["participants"] if p["purpose"] != "acd"
    )

    response = api.teardown(cid)

    assert response.status_code == 202 and response.json() == "Accepted"
    ended = wait_until(lambda: api.conversation(cid).get("endTime") and api.conversation(cid))
    agent_now = next(p for p in ended["participants"] if p["id"] == agent)
    assert communication(agent_now)["disconnectType"] == "system"
    assert agent_now["wrapup"]["code"] == "ININ-WRAP-UP-TIMEOUT"
    assert emu.admin.conversation(cid)["teardowns"] == 1


def test_teardown_wraps_up_an_agent_already_in_after_call_work(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent", wrapup_prompt="mandatory"), "agent")
    api.disconnect(cid, agent)
    wait_until(lambda: _disconnected(api, cid, agent))

    api.teardown(cid)

    assert api.participant(cid, agent)["wrapup"]["code"] == "ININ-WRAP-UP-TIMEOUT"


def test_ended_scenario_is_over_and_wrapped_up(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("ended"), "agent")

    state = api.conversation(cid)

    assert "endTime" in state
    assert all(communication(p)["state"] == "disconnected" for p in state["participants"])
    assert api.participant(cid, agent)["wrapup"]["code"]
    assert_error_body(api.disconnect(cid, agent), 400, "conversation.error.participant.no.active.conversations")


def test_bot_and_open_messaging_scenarios(emu: EmulatorServer, api: GenesysApi) -> None:
    bot = emu.admin.seed("bot")
    assert set(bot["participants"]) == {"customer", "workflow"}
    cid, workflow, _ = ids(bot, "workflow")
    assert api.disconnect(cid, workflow).status_code == 202  # system participants accept it by default

    open_messaging = emu.admin.seed("not_web_messaging")
    types = {communication(p)["type"] for p in api.conversation(open_messaging["conversationId"])["participants"]}
    assert types == {"open"}


def test_system_participants_can_be_made_to_refuse_the_patch(emu: EmulatorServer, api: GenesysApi) -> None:
    emu.admin.config(system_participants_accept_patch=False)
    cid, workflow, _ = ids(emu.admin.seed("bot"), "workflow")

    assert_error_body(api.disconnect(cid, workflow), 400, "bad.request")


@pytest.mark.parametrize("ends_everything", [False, True])
def test_customer_disconnect_ends_conversation_is_a_switch(
    emu: EmulatorServer, api: GenesysApi, ends_everything: bool
) -> None:
    emu.admin.config(customer_disconnect_ends_conversation=ends_everything)
    seeded = emu.admin.seed("agent")
    cid, customer, _ = ids(seeded, "customer")
    _, agent, _ = ids(seeded, "agent")

    api.disconnect(cid, customer)
    wait_until(lambda: _disconnected(api, cid, customer))

    agent_comm = communication(api.participant(cid, agent))
    assert agent_comm["state"] == ("disconnected" if ends_everything else "connected")
    if ends_everything:
        assert agent_comm["disconnectType"] == "peer"


def test_undeclared_or_invalid_fields_are_400(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent"), "agent")

    assert_error_body(api.patch_participant(cid, agent, {"status": "closed"}), 400, "bad.request")
    assert_error_body(api.patch_participant(cid, agent, {"state": "closed"}), 400, "invalid.value")
    assert_error_body(
        api.http.patch(f"/api/v2/conversations/messages/{cid}/participants/{agent}", content=b"{"), 400, "bad.request"
    )


def _disconnected(api: GenesysApi, cid: str, pid: str) -> dict | None:
    participant = api.participant(cid, pid)
    return participant if communication(participant)["state"] == "disconnected" else None
