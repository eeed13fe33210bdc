"""A batch of terminations meets Genesys's per-token rate limit: paced, it stays under 5% 429s.

Genesys counts 300 requests per token in a sliding minute. Here the emulator and the client both
count in a 3 s window (30 requests), which compresses minutes into seconds; the batch needs ~80
calls, far above one window's worth.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from closer.temporal import terminate
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from genesys import ClientPool
from worker import build_worker
from workflows import TerminateRequest

from .conftest import EMULATOR_LOGS, emulator_profile, new_id

LIMIT, WINDOW_SECONDS, BATCH = 30, 3.0, 20


async def _run_batch(temporal_client: Client, client_requests_per_window: int) -> tuple[list[str], list[dict]]:
    config = EmulatorConfig(
        disconnect_delay_s=0.1, end_delay_s=0.1, rate_limit_per_minute=LIMIT, rate_limit_window_s=WINDOW_SECONDS
    )
    with EmulatorServer(config=config) as emu:
        profile = emulator_profile(
            emu.url, requests_per_minute=client_requests_per_window, rate_limit_window_seconds=WINDOW_SECONDS
        )
        clients = ClientPool({"default": profile})
        task_queue = f"rate-limit-{new_id()}"
        conversation_ids = [emu.admin.seed("agent")["conversationId"] for _ in range(BATCH)]
        try:
            async with build_worker(temporal_client, task_queue, clients):
                results = await asyncio.gather(
                    *(
                        terminate(temporal_client, TerminateRequest(conversation_id=c), task_queue=task_queue)
                        for c in conversation_ids
                    )
                )
        finally:
            await clients.aclose()
        log = emu.admin.requests()
        EMULATOR_LOGS.extend(log)
    return [r.outcome for r in results], [r for r in log if r["path"].startswith("/api/")]


def _share_429(calls: list[dict]) -> float:
    return sum(c["status"] == 429 for c in calls) / len(calls)


async def test_a_paced_batch_stays_under_five_percent_429s(temporal_client: Client, worker: str) -> None:
    paced_outcomes, paced = await _run_batch(temporal_client, client_requests_per_window=LIMIT)
    # The control: the same batch with the pacer's window off (only its hold-off after a 429 left).
    unpaced_outcomes, unpaced = await _run_batch(temporal_client, client_requests_per_window=100_000)
    print(
        f"\nrate limit {LIMIT} per {WINDOW_SECONDS:g}s: paced {len(paced)} calls, {_share_429(paced):.1%} 429s; "
        f"window off {len(unpaced)} calls, {_share_429(unpaced):.1%} 429s"
    )

    assert paced_outcomes == unpaced_outcomes == ["closed"] * BATCH  # 429s are retried: both end
    assert len(paced) > 2 * LIMIT  # the batch really meets the limit
    assert _share_429(paced) < 0.05
    assert _share_429(paced) < _share_429(unpaced)
