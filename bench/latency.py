"""Latency from the trigger (the start of a termination) to the verified end, with the emulator's
effect delays: a disconnect lands `disconnect_delay_s` after its 202, `endTime` `end_delay_s` later."""

from __future__ import annotations

import asyncio
import time

from temporalio.client import Client

from closer.temporal import start_termination
from workflows import TerminateRequest

from .env import EmulatorProcess, closer_worker, percentile, scale

DISCONNECT_DELAY_S, END_DELAY_S = 0.2, 0.3
EFFECT_DELAY_S = DISCONNECT_DELAY_S + END_DELAY_S


async def measure(client: Client) -> dict:
    n = scale(100, 40)
    emulator = {
        "disconnect_delay_s": DISCONNECT_DELAY_S,
        "end_delay_s": END_DELAY_S,
        "rate_limit_per_minute": None,
        "analytics_lag_s": 0,
    }
    with EmulatorProcess(**emulator) as emu:
        async with closer_worker(client, emu.url, requests_per_minute=1_000_000) as (_, queue):

            async def one(conversation_id: str) -> tuple[float, float]:
                """Seconds from the start to the read that confirmed the end (the result's
                verifiedAt), and to the result in the caller's hands."""
                started = time.time()
                handle = await start_termination(
                    client, TerminateRequest(conversation_id=conversation_id), task_queue=queue
                )
                result = await handle.result()
                assert result.outcome == "closed" and result.verified_at is not None, result.outcome
                return result.verified_at.timestamp() - started, time.time() - started

            latencies: list[tuple[float, float]] = []
            for _ in range(n // 10):  # ten at a time: latency, not a batch's queueing
                ids = [emu.admin.seed("agent", customer_messages=["hi"])["conversationId"] for _ in range(10)]
                latencies += await asyncio.gather(*(one(c) for c in ids))
    verified, answered = zip(*latencies)
    return {
        "effect_delay_s": EFFECT_DELAY_S,
        "n": len(latencies),
        "latency_p50_s": percentile(verified, 0.5),
        "latency_p99_s": percentile(verified, 0.99),
        "result_latency_p50_s": percentile(answered, 0.5),
        "result_latency_p99_s": percentile(answered, 0.99),
    }
