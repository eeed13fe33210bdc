"""Throughput: N terminations at once through closer, and through the hand-written baseline, in the
same run against the same emulator process (no rate limit, zero effect delays), alternating."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable

from temporalio.client import Client

from closer.temporal import start_termination
from workflows import TerminateRequest

from .baseline import BaselineActivities, baseline_worker
from .baseline_workflow import BaselineTerminate
from .env import EmulatorProcess, closer_worker, new_id, scale

EMULATOR = {"disconnect_delay_s": 0, "end_delay_s": 0, "rate_limit_per_minute": None, "analytics_lag_s": 0}


async def _timed(n: int, emu: EmulatorProcess, run_one: Callable[[str], Awaitable[str]]) -> float:
    ids = [emu.admin.seed("agent", customer_messages=["hi"])["conversationId"] for _ in range(n)]
    started = time.monotonic()
    outcomes = await asyncio.gather(*(run_one(c) for c in ids))
    elapsed = time.monotonic() - started
    assert set(outcomes) == {"closed"}, set(outcomes)
    return n / elapsed


async def _closer(client: Client, emu: EmulatorProcess, n: int) -> float:
    async with closer_worker(client, emu.url, requests_per_minute=1_000_000) as (_, queue):

        async def one(conversation_id: str) -> str:
            handle = await start_termination(
                client, TerminateRequest(conversation_id=conversation_id), task_queue=queue
            )
            return (await handle.result()).outcome

        return await _timed(n, emu, one)


async def _baseline(client: Client, emu: EmulatorProcess, n: int) -> float:
    activities = BaselineActivities(emu.url)
    queue = f"bench-baseline-{new_id()}"
    try:
        async with baseline_worker(client, queue, activities):

            async def one(conversation_id: str) -> str:
                return await client.execute_workflow(
                    BaselineTerminate.run, conversation_id, id=f"baseline-{conversation_id}", task_queue=queue
                )

            return await _timed(n, emu, one)
    finally:
        await activities.aclose()


async def measure(client: Client) -> dict:
    n, rounds = scale(500, 100), 5
    pairs: list[tuple[float, float]] = []  # (closer, baseline) per round
    with EmulatorProcess(**EMULATOR) as emu:
        await _closer(client, emu, 20)  # warm-up: imports, sandbox, connections
        await _baseline(client, emu, 20)
        for round_ in range(rounds):
            # Back to back and alternating which goes first, so drift in the machine's load hits
            # both alike; the ratio is the median of the rounds' ratios (one slow round is noise).
            if round_ % 2:
                closer_rate = await _closer(client, emu, n)
                baseline_rate = await _baseline(client, emu, n)
            else:
                baseline_rate = await _baseline(client, emu, n)
                closer_rate = await _closer(client, emu, n)
            pairs.append((closer_rate, baseline_rate))
    ratios = [closer / baseline for closer, baseline in pairs]
    return {
        "n": n,
        "rounds": rounds,
        "closer_per_s": statistics.median(closer for closer, _ in pairs),
        "baseline_per_s": statistics.median(baseline for _, baseline in pairs),
        "round_ratios": ratios,
        "throughput_ratio": statistics.median(ratios),
    }
