"""Watches over many idle periods: what a watch costs its worker as its run grows, and after the
run continues as new.

The SDK keeps every finished timer and read of a cached run in memory, and a watch beyond the
worker's cache is replayed from the start of its run: a watch's cost grows with its run until it
continues as new (past a length each run draws, ``WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST`` to
``WATCH_CONTINUE_AS_NEW_EVENTS``: 3 to 7 idle periods). The ``watches`` part
sees a few periods of each watch; this one holds ``N`` watches (all cached, no sandbox) through
several runs each, kept busy as there, and shows the worker's RSS per watch and CPU per read late
(after several runs) next to early (in the first run), from the same run.

- RSS per watch: (the worker's VmRSS - before the watches) / N, sampled every 5 s. Early: once the
  starts' burst is read out; late peak and mean: over the last two runs' worth of time; peak: the
  whole part's (the first runs, which all continue as new at once, peak higher).
- CPU per read: the worker's CPU time over the reads in a window of a run's length, early (from
  the burst read out) and late (the last).
- runs per watch: each sampled watch's runs (continued as new), listed from Temporal.
- reads per idle period and timer lateness: as in ``watches`` (a continue-as-new must cost neither).
"""

from __future__ import annotations

import asyncio
import statistics
import time

from temporalio.client import Client

from workflows.policies import WATCH_CONTINUE_AS_NEW_EVENTS, WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST

from .env import SHORT, EmulatorProcess, new_id, percentile, scale
from .tail import watch_runs
from .watches import (
    Keeper,
    closed_watches,
    cpu_s,
    rss_mib,
    seed_and_watch,
    spawn_worker,
    stop_watches,
    warm_up,
)

N = scale(500, 200)
#: A short idle time, so that a run (~7 periods of ~2/3 of it: the keeper writes halfway) takes
#: about 50 s.
IDLE_S = 10
DURATION_S = scale(420, 150)
SAMPLE_S = 5.0


async def measure(client: Client) -> dict:
    with EmulatorProcess(rate_limit_per_minute=None, analytics_lag_s=0) as emu:
        queue = f"bench-watches-long-{new_id()}"
        worker = spawn_worker(
            client, emu.url, queue, CLOSER_WORKFLOW_SANDBOX="off", CLOSER_MAX_CACHED_WORKFLOWS=str(2 * N)
        )
        try:
            await warm_up(client, emu.url, queue, idle_s=IDLE_S)
            rss_before = rss_mib(worker.pid)

            # Halfway, in step, as when the part was first run (README "Long watches"): its figures
            # compare across code changes. (At idle 10 s, 500 watches make ~75 reads a second, near
            # what this machine serves: a random keeper's shorter waits made reads later and
            # closed some watches.)
            keeper = Keeper(emu, set(), idle_s=IDLE_S, way=(0.5, 0.5))
            keeping = asyncio.create_task(keeper.run())
            ids = await seed_and_watch(client, emu.url, N, queue, keeper, idle_s=IDLE_S)
            started = time.time()
            steady_from = started + 1.5 * IDLE_S
            samples: list[tuple[float, float, float, int]] = []  # (when, RSS MiB, CPU s, reads so far)
            while time.time() < started + DURATION_S:
                await asyncio.sleep(SAMPLE_S)
                reads = sum(len(times) for times in keeper.reads.values())
                samples.append((time.time(), rss_mib(worker.pid), cpu_s(worker.pid), reads))
            keeper.running = False
            await keeping
            cutoff = time.time() - 2
            closed_early = await closed_watches(client, ids)
            await stop_watches(client, ids)
            runs = [len(await watch_runs(client, c)) for c in ids[:5]]
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    reads, dues, timed = keeper.periods(ids, cutoff)
    steady = [r.lateness for r in timed if r.due >= steady_from]
    periods_per_watch = dues / N
    run_s = DURATION_S / max(statistics.mean(runs), 1)  # a run's length in this part's time
    late = [s for s in samples if s[0] >= samples[-1][0] - 2 * run_s] or samples[-1:]
    early = next(s for s in samples if s[0] >= steady_from)

    def per_watch_kib(sample: tuple[float, float, float, int]) -> float:
        return (sample[1] - rss_before) / N * 1024

    def cpu_ms_per_read(first: tuple[float, float, float, int], last: tuple[float, float, float, int]) -> float:
        return (last[2] - first[2]) / max(last[3] - first[3], 1) * 1000

    late_peak = max(per_watch_kib(s) for s in late)
    window = max(1, round(min(run_s, DURATION_S / 3) / SAMPLE_S))
    first_window = samples.index(early)
    return {
        "n": N,
        "idle_s": IDLE_S,
        "duration_s": DURATION_S,
        "continue_as_new_events": [WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST, WATCH_CONTINUE_AS_NEW_EVENTS],
        "idle_periods_per_watch": periods_per_watch,
        "runs_per_watch": statistics.mean(runs),
        "reads_per_idle_period": reads / dues if dues else float("nan"),
        "timer_lateness_steady_p50_s": percentile(steady, 0.5),
        "timer_lateness_steady_p99_s": percentile(steady, 0.99),
        "rss_kib_per_watch_early": per_watch_kib(early),
        "rss_kib_per_watch_peak": max(per_watch_kib(s) for s in samples),
        "rss_kib_per_watch_late_peak": late_peak,
        "rss_kib_per_watch_late_mean": statistics.mean(per_watch_kib(s) for s in late),
        "rss_growth_ratio": late_peak / per_watch_kib(early),
        "cpu_ms_per_read_early": cpu_ms_per_read(early, samples[min(first_window + window, len(samples) - 1)]),
        "cpu_ms_per_read_late": cpu_ms_per_read(samples[max(0, len(samples) - 1 - window)], samples[-1]),
        "closed_early": closed_early,
        "rss_kib_per_watch_series": [round(per_watch_kib(s), 1) for s in samples],
        "short": SHORT,
    }
