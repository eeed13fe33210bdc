"""A cached watch's memory next to its baseline: closer's watches and hand-written ones
(``bench/baseline_watch.py``: a read and a timer in a loop), N of each, every one in its worker's
cache, each side in its own worker process, one after the other on the same server and emulator.

- KiB per watch: the worker's VmRSS after ``PERIODS`` reads of each watch, minus after a warm-up (a
  few watches run and stopped), divided by N.
- The two sides read alike: closer's watches are kept busy by the ``watches`` part's keeper (so they
  sleep on instead of closing); the baseline's read at the mean interval closer's did. Both sides'
  reads per watch and the history events their runs hold are shown next to the memory: a cached
  run's memory grows with its events until it continues as new.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections import Counter

from temporalio.client import Client

from workflows import watch_id

from .baseline_watch import BaselineWatch
from .env import EmulatorProcess, new_id, scale, worker_env
from .watches import READ_PREFIX, REPO, Keeper, rss_mib, seed_and_watch, spawn_worker, stop_watches, warm_up

N = scale(2000, 200)
IDLE_S = scale(60, 20)
#: Reads of each watch after its first (closer's came every 40 s at idle 60 s, with the keeper's
#: messages landing 20 to 50% of the way to each due time).
PERIODS = 3
SAMPLED = 10


def read_counts(emu: EmulatorProcess) -> Counter[str]:
    """Each conversation's reads of its messages (the emulator's log), first included."""
    return Counter(
        r["path"][len(READ_PREFIX) :]
        for r in emu.api_requests()
        if r["method"] == "GET" and r["path"].startswith(READ_PREFIX)
    )


async def run_events(client: Client, workflow_ids: list[str]) -> float:
    """The mean length of these workflows' current runs (the events a cached run holds)."""
    described = [await client.get_workflow_handle(w).describe() for w in workflow_ids]
    return statistics.mean(d.raw_description.workflow_execution_info.history_length for d in described)


async def measure(client: Client) -> dict:
    cache = str(N + 100)  # every watch in the cache, on both sides
    with EmulatorProcess(rate_limit_per_minute=None, analytics_lag_s=0) as emu:
        queue = f"bench-watch-memory-{new_id()}"
        worker = spawn_worker(client, emu.url, queue, CLOSER_WORKFLOW_SANDBOX="off", CLOSER_MAX_CACHED_WORKFLOWS=cache)
        try:
            await warm_up(client, emu.url, queue, idle_s=IDLE_S)
            closer_before = rss_mib(worker.pid)
            keeper = Keeper(emu, set(), idle_s=IDLE_S)
            keeping = asyncio.create_task(keeper.run())
            first = time.time()
            ids = await seed_and_watch(client, emu.url, N, queue, keeper, idle_s=IDLE_S, arrivals_s=IDLE_S)
            # Until every watch has read PERIODS times after its first (the last started last).
            deadline = time.time() + 3 * PERIODS * IDLE_S
            while time.time() < deadline:
                if min(len(keeper.reads[c]) for c in ids) > PERIODS:
                    break
                await asyncio.sleep(2)
            closer_s = time.time() - first
            closer_after = rss_mib(worker.pid)
            closer_events = await run_events(client, [watch_id(c) for c in ids[:: N // SAMPLED]])
            interval_s = statistics.mean(
                (times[-1] - times[0]) / (len(times) - 1) for times in keeper.reads.values() if len(times) > 1
            )
            keeper.running = False
            await keeping
            await stop_watches(client, ids)
        finally:
            worker.terminate()
            worker.wait(timeout=30)

        queue = f"bench-watch-memory-baseline-{new_id()}"
        worker = spawn_baseline_worker(worker_env(client, emu.url, queue, CLOSER_MAX_CACHED_WORKFLOWS=cache))
        try:
            warm = await start_baseline(client, emu.url, queue, 20, interval_s, 0)
            await asyncio.sleep(3)
            await asyncio.gather(*(client.get_workflow_handle(baseline_id(c)).terminate() for c in warm))
            await asyncio.sleep(3)
            baseline_before = rss_mib(worker.pid)
            first = time.time()
            started = await start_baseline(client, emu.url, queue, N, interval_s, IDLE_S)
            # As long as closer's side ran, reading at the same interval.
            await asyncio.sleep(max(0.0, first + closer_s - time.time()))
            baseline_after = rss_mib(worker.pid)
            baseline_events = await run_events(client, [baseline_id(c) for c in started[:: N // SAMPLED]])
            await asyncio.gather(
                *(client.get_workflow_handle(baseline_id(c)).terminate() for c in started), return_exceptions=True
            )
        finally:
            worker.terminate()
            worker.wait(timeout=30)

        counts = read_counts(emu)
    closer_kib = (closer_after - closer_before) * 1024 / N
    baseline_kib = (baseline_after - baseline_before) * 1024 / N
    return {
        "n": N,
        "idle_s": IDLE_S,
        "read_interval_s": interval_s,
        "closer_kib_per_watch": closer_kib,
        "baseline_kib_per_watch": baseline_kib,
        "memory_ratio": closer_kib / baseline_kib,
        "closer_rss_mib": [closer_before, closer_after],
        "baseline_rss_mib": [baseline_before, baseline_after],
        "closer_reads_per_watch": statistics.mean(counts[c] for c in ids),
        "baseline_reads_per_watch": statistics.mean(counts[c] for c in started),
        "closer_run_events": closer_events,
        "baseline_run_events": baseline_events,
    }


def spawn_baseline_worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bench.baseline_watch"], cwd=REPO, env=env)


def baseline_id(conversation_id: str) -> str:
    return f"baseline-watch-{conversation_id}"


async def start_baseline(
    client: Client, emu_url: str, queue: str, n: int, interval_s: float, arrivals_s: float
) -> list[str]:
    """``n`` conversations seeded, a baseline watch on each, started as ``seed_and_watch`` starts
    closer's; their conversation ids."""

    async def start(conversation_id: str) -> None:
        await client.start_workflow(
            BaselineWatch.run, args=[conversation_id, interval_s], id=baseline_id(conversation_id), task_queue=queue
        )

    return await seed_and_watch(client, emu_url, n, queue, arrivals_s=arrivals_s, start=start)
