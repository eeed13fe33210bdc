"""The demo's second part: idle timeouts, on the emulator, in seconds where real life has minutes."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import click
from temporalio.client import Client

from emulator.server import EmulatorServer
from workflows import WatchConversation, WatchResult, watch_id

from . import sweeps, watches

IDLE = "6s"
WARN_BEFORE = "3s"
WARNING = "Are you still there? This chat closes in a moment."
#: The chatty conversation's customer writes this often, for this long, then its watch is cancelled.
CHAT_EVERY_S = 2.0
CHAT_FOR_S = 10.0
#: The sweep's policy: the stale conversation was last active 40 minutes ago.
SWEEP_IDLE = "30m"


@dataclass(frozen=True)
class WatchLine:
    label: str
    detail: str
    as_expected: bool


async def run_watch_demo(client: Client, task_queue: str, emulator: EmulatorServer) -> bool:
    """Two watched conversations and a sweep, one line each; True if all behaved as they should."""
    click.echo(
        f"\nIdle timeouts (seconds here; minutes in real life): idle {IDLE}, warning {WARN_BEFORE} before the close"
    )
    started = time.monotonic()
    lines = list(
        await asyncio.gather(
            _idle(client, task_queue, emulator, started), _chatty(client, task_queue, emulator, started)
        )
    )
    lines.append(await _stale(client, task_queue, emulator))
    for line in lines:
        mark = "" if line.as_expected else "  UNEXPECTED"
        click.echo(f"{line.label:<26}{line.detail}{mark}")
    return all(line.as_expected for line in lines)


async def _idle(client: Client, task_queue: str, emulator: EmulatorServer, started: float) -> WatchLine:
    """Nobody writes: the customer gets the warning, then the conversation closes."""
    cid = emulator.admin.seed("agent", last_message_age_s=0)["conversationId"]
    result = await _watch(client, task_queue, cid)
    warned = ", ".join(f"{w.status}" for w in result.warnings) or "none"
    termination = result.termination.outcome if result.termination else "none"
    return WatchLine(
        "idle conversation",
        f"warning {warned}; {result.outcome} after {time.monotonic() - started:.1f}s (termination {termination}); "
        f"{result.reads} reads, {result.api_calls} calls + {result.termination.api_calls if result.termination else 0} to close",
        result.outcome == "closed_idle" and [w.status for w in result.warnings] == ["sent"] and termination == "closed",
    )


async def _chatty(client: Client, task_queue: str, emulator: EmulatorServer, started: float) -> WatchLine:
    """The customer keeps writing: no warning, no close, until the watch is cancelled."""
    cid = emulator.admin.seed("agent", last_message_age_s=0)["conversationId"]
    watching = asyncio.create_task(_watch(client, task_queue, cid))
    sent = 0
    while time.monotonic() - started < CHAT_FOR_S:
        await asyncio.sleep(CHAT_EVERY_S)
        emulator.admin.send_message(cid, "customer", f"message {sent + 1}")
        sent += 1
    await watches.cancel(client, cid)
    result = await watching
    return WatchLine(
        "chatty conversation",
        f"{sent} customer messages in {CHAT_FOR_S:g}s, {len(result.warnings)} warnings; {result.outcome} "
        f"after {time.monotonic() - started:.1f}s; {result.reads} reads",
        result.outcome == "cancelled" and not result.warnings,
    )


async def _stale(client: Client, task_queue: str, emulator: EmulatorServer) -> WatchLine:
    """Nobody watches it and it has been quiet 40 minutes: a sweep (idle 30m) finds it, closes it."""
    cid = emulator.admin.seed("agent", started_ago_s=3000, last_message_age_s=2400)["conversationId"]
    swept = await sweeps.sweep(client, {"idle": SWEEP_IDLE}, task_queue=task_queue)
    result = await client.get_workflow_handle_for(WatchConversation.run, watch_id(cid)).result()
    termination = result.termination.outcome if result.termination else "none"
    return WatchLine(
        "stale, unwatched",
        f"sweep (idle {SWEEP_IDLE}): {swept.candidates} open, {swept.already_watched} already watched, "
        f"{swept.watches_started} watch started, {swept.api_calls} Genesys call{'' if swept.api_calls == 1 else 's'}; its watch: {result.outcome} "
        f"(termination {termination}) at its first read",
        swept.watches_started == 1 and result.outcome == "closed_idle" and termination == "closed",
    )


async def _watch(client: Client, task_queue: str, conversation_id: str) -> WatchResult:
    request = {"conversationId": conversation_id, "idle": IDLE, "warning": WARNING, "warnBefore": WARN_BEFORE}
    await watches.watch(client, request, task_queue=task_queue)
    return await client.get_workflow_handle_for(WatchConversation.run, watch_id(conversation_id)).result()
