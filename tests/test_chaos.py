"""Chaos: 100 terminations while the worker is SIGKILLed and restarted at random moments,
Genesys answers 10% of calls with 5xx under a tight rate limit, and agents' own clients race closer.

Every termination must end `closed` or `forced`, none `failed`, no goodbye twice, 429s under 5% of
calls. Prints the figures (calls, 429 share, 5xx, retries, kills, wall time).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import httpx
import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from closer.temporal import start_termination
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from workflows import TerminateRequest, TerminateResult

from .conftest import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, EMULATOR_LOGS, new_id
from .worker_process import WorkerProcess

pytestmark = pytest.mark.chaos

CONVERSATIONS = 100
# Genesys's default per-token limit, 300 a minute, counted in 4 s windows (20 per window): a fresh
# worker gets a fresh token, so only a compressed window makes the limit bind between kills.
RATE_LIMIT, RATE_LIMIT_WINDOW_SECONDS = 20, 4.0
SERVER_ERROR_SHARE = 0.10
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"


def _plan(rng: random.Random) -> list[dict]:
    """A varied batch: agents (optional and mandatory wrap-up), bots, a few stuck, half with a goodbye."""
    plan = []
    for i in range(CONVERSATIONS):
        kind = rng.choices(["agent", "agent_mandatory", "bot", "stuck"], weights=[60, 20, 15, 5])[0]
        plan.append(
            {
                "scenario": "agent" if kind == "agent_mandatory" else kind,
                "seed": {"wrapup_prompt": "mandatory"} if kind == "agent_mandatory" else {},
                "request": {
                    "goodbye": f"Goodbye from closer #{i}" if kind != "bot" and rng.random() < 0.5 else None,
                    "wrapup_code": "c0de-0001" if kind == "agent_mandatory" else None,
                    "verify_timeout_seconds": 5 if kind == "stuck" else 60,
                },
                # The agent's own client disconnects a moment before closer does: real 409s.
                "race": kind == "agent" and rng.random() < 0.2,
            }
        )
    return plan


async def _kill_and_restart(worker: WorkerProcess, done: asyncio.Event, rng: random.Random, kills: list[float]) -> None:
    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), timeout=rng.uniform(2, 8))
        except asyncio.TimeoutError:
            worker.kill()
            kills.append(time.monotonic())
            await asyncio.sleep(rng.uniform(0, 1.5))
            await asyncio.to_thread(worker.start)


def _agent_ui_disconnect(url: str, token: str, conversation_id: str, participant_id: str) -> None:
    httpx.patch(
        f"{url}/api/v2/conversations/messages/{conversation_id}/participants/{participant_id}",
        json={"state": "disconnected"},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_chaos_batch_ends_every_conversation(temporal_env: WorkflowEnvironment, temporal_client: Client) -> None:
    rng = random.Random(20261121)
    config = EmulatorConfig(
        disconnect_delay_s=0.3,
        end_delay_s=0.3,
        rate_limit_per_minute=RATE_LIMIT,
        rate_limit_window_s=RATE_LIMIT_WINDOW_SECONDS,
        seed=7,
    )
    with EmulatorServer(config=config) as emu:
        for status, code in ((500, "internal.server.error"), (503, "service.unavailable"), (504, "request.timeout")):
            emu.admin.add_fault(status=status, code=code, rate=SERVER_ERROR_SHARE / 3)
        # Conflicts beyond the agent races: some disconnects find a change in flight.
        emu.admin.add_fault(method="PATCH", route=PARTICIPANT_PATCH, status=409, code="conflict", rate=0.05)
        plan = _plan(rng)
        for item in plan:
            item["seeded"] = emu.admin.seed(item["scenario"], **item["seed"])
        task_queue = f"chaos-{new_id()}"
        worker = WorkerProcess(
            temporal_env.client.service_client.config.target_host,
            task_queue,
            emu.url,
            CLOSER_GENESYS_REQUESTS_PER_MINUTE=str(RATE_LIMIT),
            CLOSER_GENESYS_RATE_LIMIT_WINDOW_SECONDS=str(RATE_LIMIT_WINDOW_SECONDS),
        )
        ui_token = httpx.post(
            f"{emu.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET),
        ).json()["access_token"]

        started = time.monotonic()
        worker.start()
        done, kills = asyncio.Event(), []
        killer = asyncio.create_task(_kill_and_restart(worker, done, rng, kills))
        try:
            handles = []
            for item in plan:
                cid = item["seeded"]["conversationId"]
                request = TerminateRequest(
                    conversation_id=cid, **{k: v for k, v in item["request"].items() if v is not None}
                )
                handles.append(await start_termination(temporal_client, request, task_queue=task_queue))
                if item["race"]:
                    agent = item["seeded"]["participants"]["agent"]["participantId"]
                    await asyncio.to_thread(_agent_ui_disconnect, emu.url, ui_token, cid, agent)
            results: list[TerminateResult] = await asyncio.wait_for(
                asyncio.gather(*(h.result() for h in handles)), timeout=600
            )
        finally:
            done.set()
            await killer
            worker.stop()
        wall = time.monotonic() - started

        log = emu.admin.requests()
        EMULATOR_LOGS.extend(log)
        api_calls = [r for r in log if r["path"].startswith("/api/")]
        statuses = Counter(r["status"] for r in api_calls)
        retries = 0
        for handle in handles:
            async for event in handle.fetch_history_events():
                if event.HasField("activity_task_started_event_attributes"):
                    retries += event.activity_task_started_event_attributes.attempt - 1
        outcomes = Counter(r.outcome for r in results)
        duplicates = []
        missing_goodbyes = []
        for item, result in zip(plan, results):
            sent = emu.admin.conversation(item["seeded"]["conversationId"])["sent_messages"]
            if len(sent) > 1:
                duplicates.append(item["seeded"]["conversationId"])
            agent_left_first = item["race"] and result.goodbye in ("agent_left", "no_agent")
            if item["request"]["goodbye"] and len(sent) != 1 and not agent_left_first:
                missing_goodbyes.append((item["seeded"]["conversationId"], result.goodbye))
        share_429 = statuses[429] / len(api_calls)

    print(
        f"\nchaos: {CONVERSATIONS} terminations in {wall:.1f}s; outcomes {dict(outcomes)}; "
        f"worker SIGKILLs {len(kills)}; Genesys API calls {len(api_calls)} "
        f"(429: {statuses[429]} = {share_429:.1%}; injected 5xx: {sum(statuses[s] for s in (500, 503, 504))}; "
        f"409: {statuses[409]}); activity retries {retries}; duplicate goodbyes {len(duplicates)}"
    )
    assert outcomes["failed"] == 0, [r.error for r in results if r.outcome == "failed"]
    assert set(outcomes) <= {"closed", "forced"}, outcomes
    assert not duplicates, duplicates
    assert not missing_goodbyes, missing_goodbyes
    assert share_429 < 0.05
    assert len(kills) >= 3, "the worker should have been killed several times during the batch"
