"""Watches beyond the worker's cache: what a read costs as the watch's run grows.

A watch that is not in the worker's cache when its timer fires is replayed from the start of its
run (the worker fetches the run's history and runs the workflow code over it) before it reads. With
more watches than the cache holds, nearly every read is such a replay (README "the cache"), so a
read's cost grows with the run until it continues as new (at a length each run draws, from
``WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST`` to ``WATCH_CONTINUE_AS_NEW_EVENTS``). The ``watches`` part
sees each watch's first few periods; this one holds ``N`` watches, ten for each place in the cache,
kept busy as there, started together so that their runs stay in step until the first of them
continues as new, through their whole first run, and shows the worker's CPU per read against the
runs' length at the time.

- CPU per read: the worker's CPU time (/proc) over the reads in each window of ``WINDOW_S``.
- events: the mean history length of a few sampled watches' current runs at the window's middle.
- the fit: least squares, CPU per read = fixed + per event x events, over the windows in which no
  run continued as new.
- the mean: of the windows' CPU per read through the last in which runs continued as new (whole
  runs: what a run's length costs on average, continuing as new included).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import NamedTuple

from temporalio.client import Client

from workflows.policies import WATCH_CONTINUE_AS_NEW_EVENTS, WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST

from .env import SHORT, EmulatorProcess, new_id, percentile, scale
from .tail import event_time, run_histories
from .watches import Keeper, closed_watches, cpu_s, seed_and_watch, spawn_worker, stop_watches, warm_up

N = scale(300, 100)
#: ~12 reads a second for 300 watches (the keeper's period is ~0.6 of it), well within what this
#: machine serves with every read replayed; a run of 50 events lasts ~7 periods, ~3 min (of 100
#: events, before short-runs-v2: ~16 periods, ~6.5 min).
IDLE_S = scale(40, 15)
DURATION_S = scale(540, 180)
WINDOW_S = 30.0
SAMPLED = 5


class Window(NamedTuple):
    """``WINDOW_S`` of the part: the sampled runs' mean length at its middle, the worker's CPU per
    read in it, and whether runs continued as new in it."""

    events: float
    cpu_ms_per_read: float
    continued: bool


async def measure(client: Client) -> dict:
    cache = max(1, N // 10)
    with EmulatorProcess(rate_limit_per_minute=None, analytics_lag_s=0) as emu:
        queue = f"bench-watches-replayed-{new_id()}"
        worker = spawn_worker(
            client, emu.url, queue, CLOSER_WORKFLOW_SANDBOX="off", CLOSER_MAX_CACHED_WORKFLOWS=str(cache)
        )
        try:
            await warm_up(client, emu.url, queue, idle_s=IDLE_S)
            keeper = Keeper(emu, set(), idle_s=IDLE_S)
            keeping = asyncio.create_task(keeper.run())
            ids = await seed_and_watch(client, emu.url, N, queue, keeper, idle_s=IDLE_S)
            started = time.time()
            samples: list[tuple[float, float]] = []  # (when, the worker's CPU seconds)
            while time.time() < started + DURATION_S:
                samples.append((time.time(), cpu_s(worker.pid)))
                await asyncio.sleep(WINDOW_S)
            keeper.running = False
            await keeping
            cutoff = time.time() - 2
            closed_early = await closed_watches(client, ids)
            await stop_watches(client, ids)
            runs = await _event_times(client, ids[:SAMPLED])
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    reads, dues, timed = keeper.periods(ids, cutoff)
    all_reads = sorted(t for times in keeper.reads.values() for t in times)
    windows: list[Window] = []
    # The first window holds the starts' burst of first reads (not replays): left out.
    for (t0, cpu0), (t1, cpu1) in zip(samples[1:], samples[2:], strict=False):
        if in_window := sum(1 for t in all_reads if t0 <= t < t1):
            windows.append(
                Window(
                    events=statistics.mean(_length_at(watch, (t0 + t1) / 2) for watch in runs),
                    cpu_ms_per_read=(cpu1 - cpu0) / in_window * 1000,
                    continued=any(_length_at(watch, t1) < _length_at(watch, t0) for watch in runs),
                )
            )
    # A window in which runs continued as new also holds their last, longest replays and the new
    # runs' first tasks: out of the fit, in the mean. The mean covers whole runs (through the last
    # such window), so the part's length does not weigh short or long runs more.
    growing = [w for w in windows if not w.continued]
    fixed, per_event = _fit([(w.events, w.cpu_ms_per_read) for w in growing])
    last_new_run = max((i for i, w in enumerate(windows) if w.continued), default=len(windows) - 1)
    whole_runs = windows[: last_new_run + 1]
    return {
        "n": N,
        "idle_s": IDLE_S,
        "cache": cache,
        "continue_as_new_events": [WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST, WATCH_CONTINUE_AS_NEW_EVENTS],
        "windows": [w._asdict() for w in windows],
        "cpu_ms_per_read_mean": statistics.mean(w.cpu_ms_per_read for w in whole_runs) if whole_runs else float("nan"),
        "mean_windows": len(whole_runs),
        "cpu_ms_per_read_fixed": fixed,
        "cpu_ms_per_read_per_event": per_event,
        "reads_per_idle_period": reads / dues if dues else float("nan"),
        "timer_lateness_p50_s": percentile((r.lateness for r in timed), 0.5),
        "timer_lateness_p99_s": percentile((r.lateness for r in timed), 0.99),
        "closed_early": closed_early,
        "short": SHORT,
    }


async def _event_times(client: Client, ids: list[str]) -> list[list[list[float]]]:
    """For each watch, each of its runs' event times (in order, run after run)."""
    return [[[event_time(e) for e in run] for run in await run_histories(client, c)] for c in ids]


def _length_at(runs: list[list[float]], when: float) -> int:
    """The history length, at ``when``, of the run current then (the last one started by then)."""
    current = [run for run in runs if run and run[0] <= when]
    return sum(1 for t in current[-1] if t <= when) if current else 0


def _fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    if len(points) < 2:
        return float("nan"), float("nan")
    slope, intercept = statistics.linear_regression([p[0] for p in points], [p[1] for p in points])
    return intercept, slope
