"""The worker's log under Genesys faults: one line per failed attempt, nothing that must stay secret.

A subprocess worker (``python worker.py``) ends a batch of conversations while the emulator
answers 429s, 5xx, a 409 and a 403; customers said unique things and every goodbye is unique.
The log must hold one line per failed attempt (step, conversation, Genesys status, code and
contextId), no traceback, no client secret, no token, no goodbye or customer text; with
CLOSER_LOG_FORMAT=json every line is a JSON object.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import uuid
from collections import Counter

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from closer.logs import JsonFormatter, LogFormatError, log_format
from closer.temporal import start_termination
from emulator.server import EmulatorServer
from workflows import TerminateRequest, workflow_id

from .api_server import ApiProcess
from .conftest import EMULATOR_CLIENT_SECRET, EMULATOR_LOGS, TEST_EMULATOR_CONFIG, emulator_env, new_id, seed
from .worker_process import WorkerProcess

CONVERSATION_GET = "/api/v2/conversations/{conversationId}"
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
MESSAGE_POST = "/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"
WRAPUP_CODE = "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11"
CONTEXT_ID = re.compile(r"contextId ([0-9a-f-]{36})")

# Per conversation: the faults its requests meet (each fires the given number of times).
PLAN: list[tuple[str, list[dict]]] = [
    ("agent", [{"method": "GET", "route": CONVERSATION_GET, "status": 503, "code": "service.unavailable", "count": 2}]),
    (
        "agent",
        [
            {
                "method": "GET",
                "route": CONVERSATION_GET,
                "status": 429,
                "code": "too.many.requests",
                "retry_after": 1,
                "count": 1,
            }
        ],
    ),
    ("agent", [{"method": "PATCH", "route": PARTICIPANT_PATCH, "status": 409, "code": "conflict", "count": 1}]),
    (
        "agent",
        [{"method": "PATCH", "route": PARTICIPANT_PATCH, "status": 500, "code": "internal.server.error", "count": 1}],
    ),
    ("agent", [{"method": "POST", "route": MESSAGE_POST, "status": 504, "code": "request.timeout", "count": 1}]),
    (
        "agent",
        [
            {
                "method": "PATCH",
                "route": PARTICIPANT_PATCH,
                "status": 429,
                "code": "too.many.requests",
                "retry_after": 1,
                "count": 1,
            }
        ],
    ),
    (
        "agent",
        [{"method": "PATCH", "route": PARTICIPANT_PATCH, "status": 403, "code": "missing.any.permissions", "count": 1}],
    ),
    ("bot", [{"method": "GET", "route": CONVERSATION_GET, "status": 502, "code": "bad.gateway", "count": 1}]),
    ("agent", []),
]


def _attempt_lines(log: str, log_format: str) -> list[dict]:
    """The failed-attempt lines as {conversationId, step, attempt, status, code, contextId, line}."""
    found = []
    for line in log.splitlines():
        if log_format == "json":
            entry = json.loads(line)
            if entry["logger"] == "closer.attempts":
                found.append({**entry, "line": line})
        elif " closer.attempts: " in line:
            match = re.search(
                r": (.+) attempt (\d+) failed for conversation ([0-9a-f-]{36}): (\d+) (\S+), contextId ([0-9a-f-]{36})",
                line,
            )
            assert match, line
            step, attempt, cid, status, code, context_id = match.groups()
            found.append(
                {
                    "step": step,
                    "attempt": int(attempt),
                    "conversationId": cid,
                    "status": int(status),
                    "code": code,
                    "contextId": context_id,
                    "line": line,
                }
            )
    return found


async def _last_failure_context_ids(client: Client, conversation_id: str) -> set[str]:
    """contextIds of the failures Temporal recorded (each retried activity's last failed attempt)."""
    found = set()
    async for event in client.get_workflow_handle(workflow_id(conversation_id)).fetch_history_events():
        if event.HasField("activity_task_started_event_attributes"):
            failure = event.activity_task_started_event_attributes.last_failure
            for payload in failure.application_failure_info.details.payloads:
                details = json.loads(payload.data)
                if isinstance(details, dict) and details.get("contextId"):
                    found.add(details["contextId"])
    return found


@pytest.mark.parametrize("log_format", ["text", "json"])
async def test_worker_log_of_a_faulty_batch(
    log_format: str, temporal_env: WorkflowEnvironment, temporal_client: Client
) -> None:
    with EmulatorServer(config=TEST_EMULATOR_CONFIG) as emu:
        conversations = []
        for scenario, faults in PLAN:
            cid = (
                seed(emu, scenario, wrapup_prompt="mandatory")["conversationId"]
                if scenario == "agent"
                else seed(emu, scenario)["conversationId"]
            )
            for fault in faults:
                emu.admin.add_fault(conversation_id=cid, **fault)
            conversations.append(cid)
        goodbyes = {
            cid: f"Thanks Jane Doe, refund {uuid.uuid4().hex[:10]} is on its way to card 4111" for cid in conversations
        }
        task_queue = f"logs-{new_id()}"
        worker = WorkerProcess(
            temporal_env.client.service_client.config.target_host, task_queue, emu.url, CLOSER_LOG_FORMAT=log_format
        )
        worker.start()
        try:
            handles = [
                await start_termination(
                    temporal_client,
                    TerminateRequest(conversation_id=cid, goodbye=goodbyes[cid], wrapup_code=WRAPUP_CODE),
                    task_queue=task_queue,
                )
                for cid in conversations
            ]
            results = await asyncio.wait_for(asyncio.gather(*(h.result() for h in handles)), timeout=120)
        finally:
            worker.stop()
        log = worker.output()
        requests = emu.admin.requests()
        EMULATOR_LOGS.extend(requests)
        tokens = emu.emulator.auth.issued_tokens()
        customer_texts = [m["text"] for cid in conversations for m in emu.admin.conversation(cid)["customer_messages"]]

    outcomes = Counter(r.outcome for r in results)
    assert outcomes == {"closed": len(PLAN) - 1, "failed": 1}, [r.error for r in results]
    lines = _attempt_lines(log, log_format)
    # One line per failed attempt: as many as Genesys error answers, conversation by conversation.
    errors = Counter(cid for r in requests if r["status"] >= 400 for cid in conversations if cid in r["path"])
    assert Counter(line["conversationId"] for line in lines) == errors
    assert sum(errors.values()) == sum(fault["count"] for _, faults in PLAN for fault in faults)
    assert len({line["contextId"] for line in lines}) == len(lines)  # each its own contextId
    by_conversation = {cid: [line for line in lines if line["conversationId"] == cid] for cid in conversations}
    first = by_conversation[conversations[0]]
    assert [(line["step"], line["attempt"], line["status"], line["code"]) for line in first] == [
        ("lookup", 1, 503, "service.unavailable"),
        ("lookup", 2, 503, "service.unavailable"),
    ]
    assert [(line["step"], line["status"]) for line in by_conversation[conversations[2]]] == [
        ("disconnect participant", 409)
    ]
    assert [(line["step"], line["status"]) for line in by_conversation[conversations[4]]] == [("send goodbye", 504)]
    # The contextIds are Genesys's: the ones Temporal recorded, and the one in the failed result.
    for cid in conversations:
        assert await _last_failure_context_ids(temporal_client, cid) <= {
            line["contextId"] for line in by_conversation[cid]
        }
    refused = next(r for r in results if r.outcome == "failed")
    (refused_line,) = by_conversation[refused.conversation_id]
    assert f"(contextId {refused_line['contextId']})" in (refused.error or "")
    assert "not retryable" in refused_line["line"] and "retry in 1s" in by_conversation[conversations[1]][0]["line"]

    assert "Traceback" not in log and "Completing activity as failed" not in log
    forbidden = {
        "the client secret": EMULATOR_CLIENT_SECRET,
        "a bearer header": "Bearer ",
        **{f"token {i}": token for i, token in enumerate(tokens)},
        **{f"goodbye of {cid}": text for cid, text in goodbyes.items()},
        **{f"customer text {i}": text for i, text in enumerate(customer_texts)},
    }
    assert tokens and customer_texts
    assert [what for what, value in forbidden.items() if value in log] == []
    if log_format == "json":
        entries = [json.loads(line) for line in log.splitlines()]  # every line is one JSON object
        assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
        assert all({"step", "conversationId", "status", "code", "contextId", "attempt"} <= set(line) for line in lines)
    print(
        f"\nworker log ({log_format}): {len(log.splitlines())} lines, {len(lines)} failed attempts, outcomes {dict(outcomes)}"
    )


def test_json_formatter_fields_and_exceptions() -> None:
    record = logging.LogRecord("closer.attempts", logging.WARNING, __file__, 1, "lookup attempt %d failed", (2,), None)
    record.__dict__.update({"step": "lookup", "conversationId": "c", "status": 503, "_private": 1})
    try:
        raise KeyError("boom")
    except KeyError:
        failed = logging.LogRecord("x", logging.ERROR, __file__, 1, "bug", None, sys.exc_info())

    entry = json.loads(JsonFormatter().format(record))
    crash = JsonFormatter().format(failed)

    assert (
        entry["message"] == "lookup attempt 2 failed"
        and entry["level"] == "WARNING"
        and entry["logger"] == "closer.attempts"
    )
    assert entry["time"].endswith("Z") and (entry["step"], entry["conversationId"], entry["status"]) == (
        "lookup",
        "c",
        503,
    )
    assert "_private" not in entry
    assert (
        "\n" not in crash and "KeyError: 'boom'" in json.loads(crash)["exception"]
    )  # a traceback stays in its one line


def test_log_format_setting() -> None:
    assert log_format({}) == "text" and log_format({"CLOSER_LOG_FORMAT": " JSON "}) == "json"
    with pytest.raises(LogFormatError, match="CLOSER_LOG_FORMAT is 'xml': set it to text or json"):
        log_format({"CLOSER_LOG_FORMAT": "xml"})


async def test_api_logs_json_lines_without_keys_or_goodbyes(
    temporal_env: WorkflowEnvironment, worker: str, emulator: EmulatorServer
) -> None:
    """``closer api`` with CLOSER_LOG_FORMAT=json: uvicorn's lines and closer's, all JSON, no key, no goodbye."""
    key, goodbye = f"key-{uuid.uuid4().hex}", f"Bye Jane, ticket {uuid.uuid4().hex[:8]}"
    env = {
        **emulator_env(temporal_env.client.service_client.config.target_host, worker, emulator.url),
        "CLOSER_API_KEYS": key,
        "CLOSER_LOG_FORMAT": "json",
    }
    api = ApiProcess(env, timeout=30)
    async with api as http:
        cid = seed(emulator, "agent")["conversationId"]
        started = await http.post(
            "/v1/terminations?wait=20",
            json={"conversationId": cid, "goodbye": goodbye},
            headers={"Authorization": f"Bearer {key}"},
        )
        refused = await http.get(f"/v1/terminations/{cid}", headers={"Authorization": "Bearer not-the-key"})

    assert started.status_code == 200 and started.json()["result"]["outcome"] == "closed", started.text
    assert refused.status_code == 401
    log = api.output
    entries = [json.loads(line) for line in log.splitlines()]  # every line is one JSON object
    assert any(e["logger"] == "uvicorn.error" and "Uvicorn running" in e["message"] for e in entries), log
    assert any(e["logger"] == "uvicorn.access" and "/v1/terminations" in e["message"] for e in entries), log
    assert key not in log and "not-the-key" not in log and goodbye not in log and "Bearer" not in log
