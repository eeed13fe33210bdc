"""The API budget: a backlog of terminations against the emulator's per-token limit (Genesys's 300
a minute, counted in a compressed window), over several windows: the share of the limit used and
the share of calls answered 429."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from closer.temporal import start_termination
from workflows import TerminateRequest

from .env import EmulatorProcess, closer_worker, scale

LIMIT = 300
#: Genesys's per-token limit counted in a compressed window: 300 per 15 s (short: 10 s), not a minute.
WINDOW_S = float(scale(15, 10))
#: The emulator's settings for a run against the limit.
RATE_LIMITED = {
    "disconnect_delay_s": 0.2,
    "end_delay_s": 0.3,
    "rate_limit_per_minute": LIMIT,
    "rate_limit_window_s": WINDOW_S,
    "analytics_lag_s": 0,
}


async def measure(client: Client) -> dict:
    windows = scale(6, 5)
    # Enough terminations (4 calls each) to keep the limit busy for `windows` windows and more.
    backlog = int(LIMIT * (windows + 1) / 4)
    with EmulatorProcess(**RATE_LIMITED) as emu:
        ids = [emu.admin.seed("agent", customer_messages=["hi"])["conversationId"] for _ in range(backlog)]
        emu.admin.clear_requests()
        async with closer_worker(client, emu.url, requests_per_minute=LIMIT, rate_limit_window_seconds=WINDOW_S) as (
            _,
            queue,
        ):
            handles = await asyncio.gather(
                *(start_termination(client, TerminateRequest(conversation_id=c), task_queue=queue) for c in ids)
            )
            outcomes = [r.outcome for r in await asyncio.gather(*(h.result() for h in handles))]
        calls = emu.api_requests()
    assert set(outcomes) == {"closed"}, set(outcomes)
    start = min(c["time"] for c in calls)
    # Whole windows from the first call while the backlog lasted (the last, draining one left out).
    full = min(windows, int((max(c["time"] for c in calls) - start) // WINDOW_S) - 1)
    admitted = sum(1 for c in calls if c["status"] != 429 and c["time"] < start + full * WINDOW_S)
    return {
        "limit": f"{LIMIT} per {WINDOW_S:g} s",
        "terminations": backlog,
        "calls": len(calls),
        "windows": full,
        "budget_use": admitted / (full * LIMIT),
        "rate_limited_share": sum(c["status"] == 429 for c in calls) / len(calls),
    }
