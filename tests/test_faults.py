"""Terminations under Genesys faults: 429, 5xx, expiring tokens, missing permissions, bad profiles."""

from __future__ import annotations

from temporalio.client import Client

from workflows import workflow_id

from .conftest import (
    EMULATOR_CLIENT_SECRET,
    READ_ONLY_CLIENT_ID,
    Terminate,
    genesys_requests,
    seed,
)

CONVERSATION_GET = "/api/v2/conversations/{conversationId}"
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"


async def _attempts(temporal_client: Client, conversation_id: str) -> dict[str, int]:
    """The attempt that completed each activity, from the workflow history."""
    handle = temporal_client.get_workflow_handle(workflow_id(conversation_id))
    scheduled, attempts = {}, {}
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.activity_type.name
        if event.HasField("activity_task_started_event_attributes"):
            attrs = event.activity_task_started_event_attributes
            name = scheduled[attrs.scheduled_event_id]
            attempts[name] = max(attempts.get(name, 0), attrs.attempt)
    return attempts


async def test_429_waits_retry_after_through_a_temporal_retry(
    run_termination: Terminate, temporal_client: Client, emulator
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    emulator.admin.add_fault(
        conversation_id=cid,
        method="GET",
        route=CONVERSATION_GET,
        status=429,
        code="too.many.requests",
        retry_after=2,
        count=1,
    )

    result = await run_termination(cid)

    assert result.outcome == "closed"
    gets = [r for r in genesys_requests(emulator, cid) if r["route"] == CONVERSATION_GET]
    assert gets[0]["status"] == 429 and gets[1]["status"] == 200
    assert gets[1]["time"] - gets[0]["time"] >= 2.0  # exactly Retry-After, not the 1 s backoff
    assert (await _attempts(temporal_client, cid))["lookup"] == 2  # a Temporal retry, not a loop inside


async def test_server_errors_retry_with_backoff(run_termination: Terminate, temporal_client: Client, emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    emulator.admin.add_fault(
        conversation_id=cid, method="PATCH", route=PARTICIPANT_PATCH, status=503, code="service.unavailable", count=2
    )

    result = await run_termination(cid)

    assert result.outcome == "closed"
    assert (await _attempts(temporal_client, cid))["disconnect participant"] == 3


async def test_an_expired_token_is_refreshed_and_the_termination_completes(
    run_termination: Terminate, emulator
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    emulator.admin.config(token_ttl_s=0.3)  # every token dies almost at once

    result = await run_termination(cid)

    assert result.outcome == "closed"
    assert 401 in [r["status"] for r in genesys_requests(emulator, cid)]


async def test_a_missing_permission_fails_at_once_naming_it(
    run_termination: Terminate, temporal_client: Client, emulator
) -> None:
    emulator.admin.add_client(READ_ONLY_CLIENT_ID, EMULATOR_CLIENT_SECRET, ["conversation:communication:view"])
    cid = seed(emulator, "agent")["conversationId"]

    result = await run_termination(cid, profile="read-only")

    assert result.outcome == "failed"
    assert "missing.any.permissions" in (result.error or "")
    assert "conversation:communication:disconnect" in (result.error or "")
    assert (await _attempts(temporal_client, cid))["disconnect participant"] == 1  # no retry can fix it
    assert emulator.admin.conversation(cid)["endTime"] is None


async def test_an_unknown_profile_fails_naming_the_configured_ones(run_termination: Terminate, emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]

    result = await run_termination(cid, profile="nope")

    assert result.outcome == "failed"
    assert "unknown Genesys credentials profile 'nope'" in (result.error or "")
    assert "default" in (result.error or "")


async def test_a_failed_termination_runs_again_once_the_cause_is_fixed(run_termination: Terminate, emulator) -> None:
    emulator.admin.add_client(READ_ONLY_CLIENT_ID, EMULATOR_CLIENT_SECRET, ["conversation:communication:view"])
    cid = seed(emulator, "agent")["conversationId"]
    assert (await run_termination(cid, profile="read-only")).outcome == "failed"

    emulator.admin.add_client(READ_ONLY_CLIENT_ID, EMULATOR_CLIENT_SECRET, None)  # the role gets its permissions
    # (the worker's cached token still works: permissions are looked up per request)

    assert (await run_termination(cid, profile="read-only")).outcome == "closed"
