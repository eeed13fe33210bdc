"""Calls per termination, per shape, against the fewest the API allows (README "Performance")."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from closer.temporal import terminate
from workflows import TerminateRequest

from .env import EmulatorProcess, closer_worker

#: shape: (seed, request fields, the minimum). Minimums (reasoning in the README): a read to
#: know who is there (and that it is web messaging and still open), the ending calls, one read
#: that confirms the end.
SHAPES: dict[str, tuple[dict, dict, int]] = {
    "agent, optional wrap-up": ({"scenario": "agent"}, {}, 4),
    "agent, wrap-up code": ({"scenario": "agent", "wrapup_prompt": "mandatory"}, {"wrapup_code": "c0de-0001"}, 4),
    "bot-only": ({"scenario": "bot"}, {}, 3),
    "agent + goodbye": ({"scenario": "agent"}, {"goodbye": "Thanks, goodbye!"}, 5),
    "stuck (teardown)": ({"scenario": "stuck"}, {"verify_timeout_seconds": 3}, 6),
}
EMULATOR = {"disconnect_delay_s": 0.2, "end_delay_s": 0.3, "rate_limit_per_minute": None, "analytics_lag_s": 0}


async def measure(client: Client) -> dict:
    results: dict[str, list[int]] = {}
    with EmulatorProcess(**EMULATOR) as emu:
        async with closer_worker(client, emu.url) as (_, queue):
            for shape, (seed, fields, minimum) in SHAPES.items():
                seeded = emu.admin.seed(**seed)
                conversation_id = seeded["conversationId"]
                result = await terminate(
                    client, TerminateRequest(conversation_id=conversation_id, **fields), task_queue=queue
                )
                assert result.outcome in ("closed", "forced"), (shape, result.outcome, result.error)
                await asyncio.sleep(0.1)
                calls = [r for r in emu.api_requests() if conversation_id in r["path"]]
                assert len(calls) == result.api_calls, (len(calls), result.api_calls)
                results[shape] = [len(calls), minimum]
    return {"calls_per_termination": results}
