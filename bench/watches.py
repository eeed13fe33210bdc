"""Watches at scale: N concurrent watches held by one worker process (``python worker.py``, so its
RSS can be read from /proc), the emulator in another.

Each watch (mode ``any``, idle ``IDLE_S``, no warning) is on a conversation seeded with
``last_message_age_s=0``; the conversations arrive spread over ``ARRIVALS_S`` (one idle period by
default), as a service's conversations do. After each of the watch's reads a keeper sends a customer
message (admin API) at a random point (20 to 50%) of the way to the due time that read left, so
every read finds newer activity and the watch sleeps on instead of closing (timers then fire about
every 0.6 of the idle time: each due time is the latest message + idle). Each due time is exact: the
latest message the previous read saw + idle.

- RSS per watch: the worker's VmRSS with all N watches waiting, minus after a warm-up (a few watches
  run and cancelled), divided by N; shown for 10k.
- reads per idle period: the watch's reads of ``GET …/messages/{id}`` (emulator log) after its first,
  divided by the due times that passed.
- timer lateness: each read's time in the emulator log minus its due time (same clock: the message's
  ``messageTime`` comes from the emulator too). It includes the read's own request, so it bounds the
  timer's lateness from above.
- history events per idle period: from a few watches' histories, the events between their first and
  last timer firing divided by the timers fired in between.
- worker CPU per read: the worker's CPU time (/proc) once steady, divided by the reads in that time.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from closer.watches import cancel, watch, watch_state

from .env import SHORT, EmulatorProcess, free_port, new_id, percentile, scale, worker_env
from .tail import TimedRead, breakdown, by_window, run_histories

#: The run's shape; 10k watches take a longer idle time (the reads of 10k watches every 30 s would
#: be 333 a second): BENCH_WATCHES_N=10000 BENCH_WATCHES_IDLE_S=600 BENCH_WATCHES_PERIODS=2
#: BENCH_WATCHES_CACHE=1000 BENCH_WATCHES_WORKFLOW_TASKS=8 (README "Performance").
IDLE_S = int(os.environ.get("BENCH_WATCHES_IDLE_S") or 30)
PERIODS = int(os.environ.get("BENCH_WATCHES_PERIODS") or 4)
#: Over how many seconds the watches start (evenly). Conversations arrive over time, and the due
#: times of watches started together stay together: N starts faster than the worker reads put the
#: same burst on it every period. BENCH_WATCHES_ARRIVALS_S=0 starts them all at once (as fast as
#: the server takes them), the worst case.
ARRIVALS_S = float(os.environ.get("BENCH_WATCHES_ARRIVALS_S") or IDLE_S)
#: The steady reads' lateness is also given by windows of this many seconds of due time (the 95-minute
#: 10k run's p99 of 283 s was one 15-minute storm among windows at or under 1 s).
WINDOW_S = float(os.environ.get("BENCH_WATCHES_WINDOW_S") or max(300, IDLE_S))
READ_PREFIX = "/api/v2/conversations/messages/"
REPO = Path(__file__).resolve().parent.parent
#: The worker's settings for this run (the same variables as in production): its workflow cache
#: holds every watch by default; BENCH_WATCHES_CACHE bounds it (watches beyond it are replayed from
#: their histories when their timers fire).
#: BENCH_WATCHES_WORKFLOW_TASKS bounds the workflow tasks it runs at once (unset: the SDK's default).
#: The ``watches`` part runs its workflows outside the sandbox (CLOSER_WORKFLOW_SANDBOX=off, the
#: README's setting for many watches), ``watches-sandboxed`` in it (the default), side by side.
WORKER_ENV = {
    "CLOSER_MAX_CACHED_WORKFLOWS": os.environ.get("BENCH_WATCHES_CACHE") or "1000",
    "CLOSER_MAX_CONCURRENT_WORKFLOW_TASKS": os.environ.get("BENCH_WATCHES_WORKFLOW_TASKS") or "",
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    """The process's CPU time so far (user + system), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _time(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


class Keeper:
    """Sends each watched conversation a customer message shortly after each read of it."""

    def __init__(
        self, emu: EmulatorProcess, ids: set[str], idle_s: int = IDLE_S, way: tuple[float, float] = (0.2, 0.5)
    ) -> None:
        """``way``: how far between a read and the due time it leaves the next message goes (a
        random share in that range)."""
        self.emu, self.ids, self.idle_s, self.way = emu, ids, idle_s, way
        self.reads: dict[str, list[float]] = defaultdict(list)
        self.messages: dict[str, list[float]] = defaultdict(list)
        self.cursor = 0
        self.running = True
        self.failures = 0
        # Customers write at random times, not in step: a fixed point would keep watches that
        # started together reading together. Seeded: runs are comparable.
        self.random = random.Random(8)

    async def run(self) -> None:
        async with httpx.AsyncClient(base_url=f"{self.emu.url}/emulator", timeout=60) as http:
            gate = asyncio.Semaphore(16)

            async def message(conversation_id: str, at: float) -> None:
                await asyncio.sleep(max(0.0, at - time.time()))
                async with gate:
                    for attempt in range(3):
                        try:
                            answer = await http.post(
                                f"/conversations/{conversation_id}/messages",
                                json={"from": "customer", "text": "still here"},
                            )
                            break
                        except httpx.TransportError:
                            # The emulator, loaded, reset a connection (once in a 95-minute 10k
                            # run): send again, or the watch closes on the message it missed. If
                            # the first went in, the second is later, and it is the one the watch
                            # reads and the due time is counted from.
                            if attempt == 2:
                                self.failures += 1
                                return
                if answer.status_code >= 300:
                    self.failures += 1
                    return
                self.messages[conversation_id].append(_time(answer.json()["messageTime"]))

            pending: set[asyncio.Task[None]] = set()
            while self.running:
                answer = await http.get("/requests", params={"since": self.cursor})
                answer.raise_for_status()
                body = answer.json()
                self.cursor = body["next"]
                for entry in body["requests"]:
                    path = entry["path"]
                    if entry["method"] != "GET" or not path.startswith(READ_PREFIX):
                        continue
                    conversation_id = path[len(READ_PREFIX) :]
                    if conversation_id in self.ids:
                        read_at = entry["time"]
                        self.reads[conversation_id].append(read_at)
                        # Between this read and the due time it leaves (the latest message it saw
                        # + idle; the seed's, at the start, is at most the first read): the next
                        # read finds it, and the watch sleeps on.
                        seen = [m for m in self.messages[conversation_id] if m < read_at]
                        due = max(seen, default=read_at) + self.idle_s
                        # No later than halfway: a message too close to the due time can land after
                        # it (the keeper sees a read up to half a second late), and the watch closes.
                        at = read_at + self.random.uniform(*self.way) * (due - read_at)
                        task = asyncio.create_task(message(conversation_id, at))
                        pending.add(task)
                        task.add_done_callback(pending.discard)
                await asyncio.sleep(0.5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def periods(self, ids: list[str], cutoff: float) -> tuple[int, int, list[TimedRead]]:
        """The reads after each watch's first and the due times that passed (before ``cutoff``:
        dues in the last moments may not have been read yet), and each due with the read that
        answered it."""
        timed: list[TimedRead] = []
        reads = dues = 0
        for conversation_id in ids:
            read_times, message_times = self.reads[conversation_id], self.messages[conversation_id]
            if not read_times:
                continue
            # Read 0 is the watch's first, at its start; the first due (the seeded message + idle)
            # comes at most an idle period later. Read k >= 2 is due at (the latest message before
            # read k-1) + idle.
            reads += sum(1 for t in read_times[1:] if t <= cutoff)
            dues += read_times[0] + self.idle_s <= cutoff
            for k in range(2, len(read_times) + 1):
                seen = [m for m in message_times if m < read_times[k - 1]]
                due = max(seen, default=read_times[k - 1]) + self.idle_s
                if due > cutoff:
                    break
                dues += 1
                if k < len(read_times):
                    timed.append(TimedRead(conversation_id, due, read_times[k]))
        return reads, dues, timed


def spawn_worker(client: Client, emu_url: str, queue: str, **settings: str) -> subprocess.Popen[bytes]:
    """``python worker.py``: closer's own worker process, as deployed, its Genesys budget unbounded
    (the watch parts measure the worker, not the pacer); ``settings``: further CLOSER_ variables."""
    env = worker_env(client, emu_url, queue, CLOSER_GENESYS_REQUESTS_PER_MINUTE="1000000", **settings)
    return subprocess.Popen([sys.executable, "worker.py"], cwd=REPO, env=env, stdout=subprocess.DEVNULL)


async def warm_up(client: Client, emu_url: str, queue: str, idle_s: int = IDLE_S) -> None:
    """A few watches through their first read, then cancelled: the worker's imports, sandbox and
    token, so that its RSS after this is the baseline the watches' memory is counted from."""
    warm = await seed_and_watch(client, emu_url, 20, queue, idle_s=idle_s)
    await asyncio.sleep(3)
    await stop_watches(client, warm)
    await asyncio.sleep(3)


async def seed_and_watch(
    client: Client,
    emu_url: str,
    n: int,
    queue: str,
    keeper: Keeper | None = None,
    idle_s: int = IDLE_S,
    arrivals_s: float = 0,
    start: Callable[[str], Awaitable[object]] | None = None,
) -> list[str]:
    """``n`` conversations, each seeded (last message now) just before its watch starts: a watch
    started long after its seed would find its conversation already idle. They start evenly over
    ``arrivals_s`` (0: as fast as they are taken). ``start`` starts the watch on a conversation
    id (closer's, by default)."""

    async def closer_watch(conversation_id: str) -> None:
        await watch(client, {"conversationId": conversation_id, "idle": f"PT{idle_s}S"}, task_queue=queue)

    start_watch = start or closer_watch
    gate = asyncio.Semaphore(50)
    ids: list[str] = []
    first = time.monotonic()
    async with httpx.AsyncClient(base_url=f"{emu_url}/emulator", timeout=60) as http:

        async def one(i: int) -> None:
            await asyncio.sleep(max(0.0, first + i * arrivals_s / n - time.monotonic()))
            async with gate:
                seeded = await http.post("/conversations", json={"scenario": "agent", "last_message_age_s": 0})
                seeded.raise_for_status()
                conversation_id = seeded.json()["conversationId"]
                ids.append(conversation_id)
                if keeper is not None:
                    keeper.ids.add(conversation_id)
                await start_watch(conversation_id)

        await asyncio.gather(*(one(i) for i in range(n)))
    return ids


async def stop_watches(client: Client, ids: list[str]) -> None:
    gate = asyncio.Semaphore(50)

    async def one(conversation_id: str) -> None:
        async with gate:
            await cancel(client, conversation_id)

    await asyncio.gather(*(one(c) for c in ids), return_exceptions=True)


async def cache_counts(metrics_url: str) -> tuple[float, float]:
    """The worker's workflow-cache hits and misses so far (the SDK's Prometheus counters): a miss is
    a workflow task for a run not in the cache, which the worker replays from its history first."""
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.get(metrics_url)
    answer.raise_for_status()
    totals = {"hit": 0.0, "miss": 0.0}
    for line in answer.text.splitlines():
        for kind in totals:
            if line.startswith(f"temporal_sticky_cache_{kind}"):
                totals[kind] += float(line.rsplit(" ", 1)[1])
    return totals["hit"], totals["miss"]


async def closed_watches(client: Client, ids: list[str]) -> int:
    """How many of these watches have finished (a query to a watch out of the worker's cache
    replays it first: on a loaded worker some time out, and count as open)."""
    states = await asyncio.gather(*(watch_state(client, c) for c in ids), return_exceptions=True)
    return sum(1 for s in states if getattr(s, "outcome", None) is not None)


async def _events_per_period(client: Client, ids: list[str]) -> float:
    """From each run of these watches with two timers fired or more: the events between its first
    and last firing over the timers fired in between. Every run, not only the latest: a watch
    that has just continued as new has fired no timer in its new run yet."""
    ratios = []
    for conversation_id in ids:
        for events in await run_histories(client, conversation_id):
            fired = [i for i, e in enumerate(events) if e.event_type == EventType.EVENT_TYPE_TIMER_FIRED]
            if len(fired) >= 2:
                ratios.append((fired[-1] - fired[0]) / (len(fired) - 1))
    return sum(ratios) / len(ratios) if ratios else float("nan")


async def measure(client: Client) -> dict:
    return await _measure(client, sandbox="off")


async def measure_sandboxed(client: Client) -> dict:
    return await _measure(client, sandbox="on")


async def _measure(client: Client, sandbox: str) -> dict:
    n = int(os.environ.get("BENCH_WATCHES_N") or scale(1000, 300))
    metrics_port = free_port()
    settings = {**WORKER_ENV, "CLOSER_WORKFLOW_SANDBOX": sandbox, "CLOSER_METRICS_PORT": str(metrics_port)}
    metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"
    with EmulatorProcess(rate_limit_per_minute=None, analytics_lag_s=0) as emu:
        queue = f"bench-watches-{new_id()}"
        worker = spawn_worker(client, emu.url, queue, **settings)
        try:
            await warm_up(client, emu.url, queue)
            rss_before = rss_mib(worker.pid)

            keeper = Keeper(emu, set())
            keeping = asyncio.create_task(keeper.run())
            started = time.time()
            ids = await seed_and_watch(client, emu.url, n, queue, keeper, arrivals_s=ARRIVALS_S)
            start_s = time.time() - started
            # Started all at once, the first due times come as fast as the starts went and take a
            # while to read out; spread, every due time after the last start is steady.
            steady_from = time.time() + (0 if ARRIVALS_S else 1.5 * IDLE_S)
            # Every watch through PERIODS idle periods (from the last start).
            rss_samples = []
            # Once steady: (when, the worker's CPU seconds, the cache's (hits, misses)).
            steady_start: tuple[float, float, tuple[float, float]] | None = None
            end = time.time() + PERIODS * (IDLE_S + 1.5) + 1
            while time.time() < end:
                await asyncio.sleep(5)
                rss_samples.append(rss_mib(worker.pid))
                if steady_start is None and time.time() >= steady_from:
                    steady_start = (time.time(), cpu_s(worker.pid), await cache_counts(metrics_url))
            end_of_run = (time.time(), cpu_s(worker.pid), await cache_counts(metrics_url))
            rss_after = rss_mib(worker.pid)
            closed_early = await closed_watches(client, ids[:: max(1, n // 50)])
            keeper.running = False
            await keeping
            cutoff = time.time() - 2  # dues in the last 2 s may not have been read yet
            await stop_watches(client, ids)
            events = await _events_per_period(client, ids[:5])
            reads, dues, timed = keeper.periods(ids, cutoff)
            steady_reads = [r for r in timed if r.due >= steady_from]
            steady_p99 = percentile((r.lateness for r in steady_reads), 0.99)
            # The latest 1% of the steady reads, split from their watches' histories.
            tail = await breakdown(client, [r for r in steady_reads if r.lateness >= steady_p99])
        finally:
            worker.terminate()
            worker.wait(timeout=30)

    if dump := os.environ.get("BENCH_WATCHES_DUMP"):
        data = json.dumps({"reads": keeper.reads, "messages": keeper.messages, "cutoff": cutoff})
        await asyncio.to_thread(Path(dump).write_text, data)
    lateness = [r.lateness for r in timed]
    steady = [r.lateness for r in steady_reads]
    # The worker's CPU per read once steady: what one watch's idle period costs it (the timer's
    # task, the read, the task after it, replays of watches beyond the cache), whatever else the
    # machine runs; so one core holds about 1000 / ms reads a second.
    cpu_ms_per_read = cores_used = cache_hit_share = float("nan")
    if steady_start is not None:
        (t0, cpu0, (hits0, misses0)), (t1, cpu1, (hits1, misses1)) = steady_start, end_of_run
        window_reads = sum(1 for times in keeper.reads.values() for t in times if t0 <= t <= t1)
        if window_reads:
            cpu_ms_per_read = (cpu1 - cpu0) / window_reads * 1000
        cores_used = (cpu1 - cpu0) / (t1 - t0)
        hits, misses = hits1 - hits0, misses1 - misses0
        if hits + misses:
            # Of the workflow tasks once steady, the share whose run was in the worker's cache.
            cache_hit_share = hits / (hits + misses)
    return {
        "n": n,
        "idle_s": IDLE_S,
        "start_s": start_s,
        "arrivals_s": ARRIVALS_S,
        "worker_env": settings,
        "rss_before_mib": rss_before,
        "rss_after_mib": rss_after,
        "rss_peak_mib": max(rss_samples, default=rss_after),
        "watch_rss_mib_per_10k": (rss_after - rss_before) / n * 10_000,
        "reads_per_idle_period": reads / dues if dues else float("nan"),
        "idle_periods": dues,
        "reads_timed": len(lateness),
        "timer_lateness_p50_s": percentile(lateness, 0.5),
        "timer_lateness_p99_s": percentile(lateness, 0.99),
        "timer_lateness_steady_p50_s": percentile(steady, 0.5),
        "timer_lateness_steady_p99_s": steady_p99,
        "reads_timed_steady": len(steady),
        "late_tail": tail,
        "lateness_window_s": WINDOW_S,
        "lateness_by_window": by_window(steady_reads, WINDOW_S),
        "history_events_per_idle_period": events,
        "worker_cpu_ms_per_read": cpu_ms_per_read,
        "cache_hit_share": cache_hit_share,
        "worker_cores_used": cores_used,
        "closed_early": closed_early,
        "keeper_failures": keeper.failures,
        "extrapolated": n < 10_000,
        "short": SHORT,
        "lateness_window": str(timedelta(seconds=PERIODS * IDLE_S)),
    }
