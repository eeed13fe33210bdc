"""Each outcome of a termination, end to end: real Temporal dev server, emulator over loopback."""

from __future__ import annotations

import httpx
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from workflows import workflow_id
from workflows.policies import VERIFY_SETTLE

from .conftest import Terminate, genesys_requests, new_id, seed

PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"


async def test_agent_conversation_closes_within_the_call_budget(
    run_termination: Terminate, emulator, temporal_client: Client
) -> None:
    seeded = seed(emulator, "agent", wrapup_prompt="optional")
    cid = seeded["conversationId"]

    result = await run_termination(cid)

    assert result.outcome == "closed"
    assert result.verified_at is not None
    calls = genesys_requests(emulator, cid)
    # lookup, agent disconnect, customer disconnect, verify
    assert [f"{c['method']} {c['route']}" for c in calls] == [
        "GET /api/v2/conversations/{conversationId}",
        f"PATCH {PARTICIPANT_PATCH}",
        f"PATCH {PARTICIPANT_PATCH}",
        "GET /api/v2/conversations/{conversationId}",
    ]
    assert result.api_calls == len(calls)
    # The first verify read waits in its activity: no durable timer (the server fires sub-second
    # ones about a second late), and no step of its own to learn the worker has no callback URL.
    history = await temporal_client.get_workflow_handle(workflow_id(cid)).fetch_history()
    kinds = {EventType.Name(event.event_type) for event in history.events}
    assert "EVENT_TYPE_TIMER_STARTED" not in kinds
    assert "EVENT_TYPE_MARKER_RECORDED" in kinds  # the patch marker
    assert sum(e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED for e in history.events) == 4
    # The settle counts from the last PATCH's answer: the read never reaches Genesys sooner than
    # VERIFY_SETTLE after the PATCH did (emulator log times, this machine's clock).
    assert calls[3]["time"] - calls[2]["time"] >= VERIFY_SETTLE.total_seconds()
    # verifiedAt is when the confirming read was answered: after it reached Genesys, before its
    # step reported back to Temporal (not the later workflow task that took the result in).
    verify_done = [e for e in history.events if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED][-1]
    assert calls[3]["time"] <= result.verified_at.timestamp() <= verify_done.event_time.ToMicroseconds() / 1e6
    agent = seeded["participants"]["agent"]["participantId"]
    outcomes = {p.participant_id: p for p in result.participants}
    assert outcomes[agent].action == "disconnected"
    assert outcomes[agent].wrapup == "skipped"  # optional wrap-up and no code: skipped
    # Only who was there to end: the acd participant had left when the agent answered.
    assert {p.purpose: p.action for p in result.participants} == {"agent": "disconnected", "customer": "disconnected"}
    state = emulator.admin.conversation(cid)
    assert state["endTime"] is not None


async def test_mandatory_wrapup_gets_the_code(run_termination: Terminate, emulator) -> None:
    seeded = seed(emulator, "agent", wrapup_prompt="mandatory")
    cid = seeded["conversationId"]

    result = await run_termination(cid, wrapup_code="c0de-0001")

    assert result.outcome == "closed"
    agent = seeded["participants"]["agent"]["participantId"]
    patch = next(r for r in genesys_requests(emulator, cid) if r["route"] == PARTICIPANT_PATCH and agent in r["path"])
    assert patch["body"] == {"state": "disconnected", "wrapup": {"code": "c0de-0001"}}
    agent_state = _participant(emulator.admin.conversation(cid), agent)
    assert agent_state["wrapup"]["code"] == "c0de-0001"


async def test_mandatory_wrapup_without_a_code_needs_the_teardown(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "agent", wrapup_prompt="mandatory")["conversationId"]

    result = await run_termination(cid)

    assert result.outcome == "forced"
    assert emulator.admin.conversation(cid)["teardowns"] == 1
    outcomes = {p.purpose: (p.action, p.wrapup) for p in result.participants}
    assert outcomes == {"agent": ("torn_down", "system"), "customer": ("disconnected", "none")}


async def test_mandatory_wrapup_without_code_or_teardown_fails_saying_what_to_fix(
    run_termination: Terminate, emulator
) -> None:
    cid = seed(emulator, "agent", wrapup_prompt="mandatory")["conversationId"]

    result = await run_termination(cid, allow_teardown=False)

    assert result.outcome == "failed"
    assert "wrap-up code" in (result.error or "")
    assert emulator.admin.conversation(cid)["teardowns"] == 0


@pytest.mark.parametrize("bots_take_the_participant_patch", [True, False])
async def test_bot_only_conversation_ends_with_one_conversation_patch(
    run_termination: Terminate, emulator, bots_take_the_participant_patch: bool
) -> None:
    """No agent, so no wrap-up to lose: the conversation PATCH ends everyone in one call, whether or
    not Genesys lets a client PATCH a bot participant (UNCONFIRMED), where a PATCH each costs more."""
    emulator.admin.config(system_participants_accept_patch=bots_take_the_participant_patch)
    cid = seed(emulator, "bot")["conversationId"]

    result = await run_termination(cid, goodbye="Thanks for chatting!")

    assert result.outcome == "closed"
    assert result.goodbye == "no_agent"  # agentless sends do not support web messaging
    assert {p.purpose: p.action for p in result.participants} == {"workflow": "closed", "customer": "closed"}
    calls = [f"{c['method']} {c['route']}" for c in genesys_requests(emulator, cid)]
    assert calls == [
        "GET /api/v2/conversations/{conversationId}",
        "PATCH /api/v2/conversations/messages/{conversationId}",
        "GET /api/v2/conversations/{conversationId}",
    ]
    assert result.api_calls == 3
    assert emulator.admin.conversation(cid)["endTime"] is not None


async def test_already_ended_conversation_is_left_alone(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "ended")["conversationId"]

    result = await run_termination(cid)

    assert result.outcome == "already_closed"
    calls = genesys_requests(emulator, cid)
    assert [r["method"] for r in calls] == ["GET"]
    # verifiedAt: when that one read was answered, before the run recorded its first step.
    assert result.verified_at is not None
    assert calls[0]["time"] <= result.verified_at.timestamp() < result.steps[0].at.timestamp()


async def test_unknown_conversation_is_not_found(run_termination: Terminate, emulator) -> None:
    result = await run_termination(new_id())

    assert result.outcome == "not_found"
    assert result.error is None


async def test_other_media_is_not_touched(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "not_web_messaging")["conversationId"]

    result = await run_termination(cid)

    assert result.outcome == "not_web_messaging"
    assert [r["method"] for r in genesys_requests(emulator, cid)] == ["GET"]


async def test_stuck_conversation_is_torn_down(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "stuck")["conversationId"]

    result = await run_termination(cid, verify_timeout_seconds=2)

    assert result.outcome == "forced"
    assert [s.name for s in result.steps].count("teardown") == 1
    assert {p.purpose: p.action for p in result.participants} == {"agent": "torn_down", "customer": "torn_down"}
    state = emulator.admin.conversation(cid)
    assert state["teardowns"] == 1 and state["endTime"] is not None


async def test_stuck_conversation_without_teardown_fails(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "stuck")["conversationId"]

    result = await run_termination(cid, verify_timeout_seconds=2, allow_teardown=False)

    assert result.outcome == "failed"
    assert "teardown" in (result.error or "")
    assert emulator.admin.conversation(cid)["teardowns"] == 0


async def test_goodbye_is_sent_once_on_the_agent_communication(run_termination: Terminate, emulator) -> None:
    seeded = seed(emulator, "agent")
    cid = seeded["conversationId"]

    result = await run_termination(cid, goodbye="We are closing this chat now. Goodbye!")

    assert result.outcome == "closed" and result.goodbye == "sent"
    sent = emulator.admin.conversation(cid)["sent_messages"]
    assert sent == [
        {
            "communicationId": seeded["participants"]["agent"]["communicationId"],
            "text": "We are closing this chat now. Goodbye!",
        }
    ]


async def test_transcript_deletion_is_scheduled(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]

    result = await run_termination(cid, delete_transcript=True)

    assert result.outcome == "closed"
    assert result.transcript_recordings_scheduled == 1
    puts = [r for r in genesys_requests(emulator, cid) if r["method"] == "PUT"]
    assert len(puts) == 1 and set(puts[0]["body"]) == {"deleteDate"}


async def test_a_409_resumes_to_closed(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    emulator.admin.add_fault(
        conversation_id=cid, method="PATCH", route=PARTICIPANT_PATCH, status=409, code="conflict", count=1
    )

    result = await run_termination(cid)

    assert result.outcome == "closed"
    statuses = [r["status"] for r in genesys_requests(emulator, cid) if r["route"] == PARTICIPANT_PATCH]
    assert statuses[0] == 409 and statuses[-1] == 202


async def test_a_change_already_in_flight_gives_409_and_then_400_and_still_closes(
    run_termination: Terminate, emulator
) -> None:
    """The agent's own client disconnects a moment before closer does (a real conflict)."""
    seeded = seed(emulator, "agent")
    cid = seeded["conversationId"]
    agent = seeded["participants"]["agent"]["participantId"]
    emulator.admin.config(disconnect_delay_s=1.5)
    _disconnect_directly(emulator, cid, agent)

    result = await run_termination(cid)

    assert result.outcome == "closed"
    agent_patches = [
        r for r in genesys_requests(emulator, cid) if r["route"] == PARTICIPANT_PATCH and agent in r["path"]
    ]
    disconnects = [r["status"] for r in agent_patches if r["body"].get("state") == "disconnected"]
    # The agent UI's own 202, then closer's: 409 while it is in flight, 400 once it landed.
    assert disconnects[0] == 202 and 409 in disconnects[1:] and disconnects[-1] == 400, disconnects
    # The agent UI left the agent in after-call work; the optional wrap-up is skipped for them.
    assert agent_patches[-1]["body"] == {"wrapupSkipped": True} and agent_patches[-1]["status"] == 202
    outcomes = {p.participant_id: p for p in result.participants}
    assert outcomes[agent].action == "already_disconnected"
    assert _participant(emulator.admin.conversation(cid), agent)["wrapupSkipped"] is True


def _disconnect_directly(emulator, conversation_id: str, participant_id: str) -> None:
    """PATCH a participant as another Genesys client would (the agent's own UI)."""
    token = httpx.post(
        f"{emulator.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("emulator-client", "emulator-secret"),
    ).json()["access_token"]
    response = httpx.patch(
        f"{emulator.url}/api/v2/conversations/messages/{conversation_id}/participants/{participant_id}",
        json={"state": "disconnected"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 202


def _participant(state: dict, participant_id: str) -> dict:
    return next(p for p in state["participants"] if p["id"] == participant_id)
