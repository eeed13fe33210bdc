"""Scale-out: terminations a second against Genesys's per-token limit with one worker process and
with two (``python worker.py`` each, on one task queue), each with an OAuth client of its own, so a
token and a budget of its own. The limit is the emulator's 300 requests per token, counted in a
compressed window; the figure is the ratio of the two rates, measured in the same run."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from temporalio.client import Client, WorkflowHandle

from closer.temporal import start_termination
from emulator.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from workflows import TerminateRequest, TerminateResult

from .budget import LIMIT, RATE_LIMITED, WINDOW_S
from .env import EmulatorProcess, new_id, scale, worker_env

CALLS_PER_TERMINATION = 4  # agent, no wrap-up code: read, two PATCHes, read (the calls part checks it)
REPO = Path(__file__).resolve().parent.parent
READY_LINE = "closer worker polling"


class WorkerProcesses:
    """``count`` closer workers on one task queue, worker i signing in as OAuth client i."""

    def __init__(self, client: Client, emu: EmulatorProcess, count: int) -> None:
        self.task_queue = f"bench-scaleout-{new_id()}"
        self._envs = []
        for i in range(count):
            client_id, secret = DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
            if i:
                client_id, secret = f"bench-worker-{i}", f"secret-{new_id()}"
                emu.admin.add_client(client_id, secret, None)
            env = worker_env(
                client,
                emu.url,
                self.task_queue,
                client_id=client_id,
                client_secret=secret,
                CLOSER_GENESYS_REQUESTS_PER_MINUTE=str(LIMIT),
                CLOSER_GENESYS_RATE_LIMIT_WINDOW_SECONDS=str(WINDOW_S),
            )
            self._envs.append(env)
        self._processes: list[tuple[subprocess.Popen[bytes], Path]] = []

    def __enter__(self) -> WorkerProcesses:
        for env in self._envs:
            log = Path(tempfile.mkstemp(prefix="closer-bench-worker-", suffix=".log")[1])
            with log.open("w") as out:
                process = subprocess.Popen(
                    [sys.executable, "worker.py"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
                )
            self._processes.append((process, log))
        deadline = time.monotonic() + 30
        for process, log in self._processes:
            while READY_LINE not in log.read_text():
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"a bench worker did not start:\n{log.read_text()}")
                time.sleep(0.1)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process, log in self._processes:
            process.terminate()
            process.wait(timeout=30)
            log.unlink()


async def _rate(client: Client, emu: EmulatorProcess, workers: int, windows: int) -> dict:
    """Terminations a second with ``workers`` processes: a backlog of ``windows`` windows of every
    worker's budget, over the time to its last end (the first window's burst, a window's worth
    that the steady state does not have, is a smaller share the more windows)."""
    backlog = workers * int(windows * LIMIT / CALLS_PER_TERMINATION)
    ids = [emu.admin.seed("agent", customer_messages=["hi"])["conversationId"] for _ in range(backlog)]
    with WorkerProcesses(client, emu, workers) as processes:
        started = time.monotonic()
        handles = await asyncio.gather(
            *(
                start_termination(client, TerminateRequest(conversation_id=c), task_queue=processes.task_queue)
                for c in ids
            )
        )
        finished: list[float] = []

        async def wait(handle: WorkflowHandle[Any, TerminateResult]) -> str:
            outcome = (await handle.result()).outcome
            finished.append(time.monotonic() - started)
            return outcome

        outcomes = await asyncio.gather(*(wait(h) for h in handles))
    assert set(outcomes) == {"closed"}, set(outcomes)
    # The backlog's whole time: its terminations run breadth-first (every lookup before most
    # disconnects), so completions come late and in a bunch; only the total time is fair to both.
    return {"workers": workers, "terminations": backlog, "seconds": max(finished), "per_s": backlog / max(finished)}


async def measure(client: Client) -> dict:
    windows = scale(6, 4)
    with EmulatorProcess(**RATE_LIMITED) as emu:
        one = await _rate(client, emu, 1, windows)
        two = await _rate(client, emu, 2, windows)
        calls = emu.api_requests()
    # What one token's budget allows: LIMIT per window at CALLS_PER_TERMINATION calls each.
    budget_per_s = LIMIT / WINDOW_S / CALLS_PER_TERMINATION
    return {
        "limit": f"{LIMIT} per {WINDOW_S:g} s per token",
        "budget_per_worker_per_s": budget_per_s,
        "one_worker": one,
        "two_workers": two,
        "one_worker_per_s": one["per_s"],
        "two_workers_per_s": two["per_s"],
        "scale_out_ratio": two["per_s"] / one["per_s"],
        "rate_limited_share": sum(c["status"] == 429 for c in calls) / len(calls),
    }
