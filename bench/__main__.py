"""``python -m bench [part ...]``: runs the measurements, prints a table, writes bench/latest.json."""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

from closer.dev_server import start_dev_server

from . import budget, calls, latency, scaleout, throughput, watch_memory, watches, watches_long, watches_replayed
from .env import SHORT
from .tail import LATENESS_PARTS

PARTS = {
    "throughput": throughput.measure,
    "calls": calls.measure,
    "latency": latency.measure,
    "budget": budget.measure,
    "watches": watches.measure,
    "watches-sandboxed": watches.measure_sandboxed,
    "watches-long": watches_long.measure,
    "watches-replayed": watches_replayed.measure,
    "watch-memory": watch_memory.measure,
    "scaleout": scaleout.measure,
}
LATEST = Path(__file__).with_name("latest.json")
#: The dev server keeps 512 workflows' state in memory per history shard (it has one) and reloads
#: any other from its store on each task: the 10k-watch part then measures that store. A cluster
#: sized for its load keeps them all; so does the bench's server.
DEV_SERVER_ARGS = ["--dynamic-config-value", "history.cacheMaxSize=20000"]


async def run(selected: list[str]) -> dict:
    results: dict = {}
    for name in selected:
        started = time.monotonic()
        print(f"[bench] {name} ...", file=sys.stderr, flush=True)
        # A dev server of its own per part: no part measures a server that the parts before it
        # filled with thousands of runs (its store is in memory), so a part's figures do not
        # depend on which parts ran first.
        env = await start_dev_server(dev_server_extra_args=DEV_SERVER_ARGS)
        try:
            results[name] = await PARTS[name](env.client)
        except Exception as error:  # one part failing must not lose the others' figures
            results.setdefault("failed", {})[name] = f"{type(error).__name__}: {error}"
            print(f"[bench] {name} failed: {error!r}", file=sys.stderr, flush=True)
            continue
        finally:
            await env.shutdown()
        print(f"[bench] {name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return results


def table(results: dict) -> str:
    rows = [("figure", "closer", "baseline / goal")]
    if t := results.get("throughput"):
        rows.append(
            (
                f"throughput, {t['n']} terminations x{t['rounds']}",
                f"{t['closer_per_s']:.1f}/s",
                f"{t['baseline_per_s']:.1f}/s (Temporal + httpx)",
            )
        )
        spread = ", ".join(f"{r:.2f}" for r in t["round_ratios"])
        rows.append(
            ("throughput_ratio (median of rounds)", f"{t['throughput_ratio']:.2f}x", f">= 0.9x (rounds {spread})")
        )
    if b := results.get("budget"):
        rows.append(
            (f"budget_use ({b['limit']}, {b['windows']} windows)", f"{b['budget_use']:.1%}", ">= 95% of the limit")
        )
        rows.append(("rate_limited_share (429s)", f"{b['rate_limited_share']:.2%}", f"< 0.5% of {b['calls']} calls"))
    if lat := results.get("latency"):
        goal = lat["effect_delay_s"] + 0.5
        rows.append(
            (
                f"latency p50, effect delay {lat['effect_delay_s']:g} s",
                f"{lat['latency_p50_s']:.2f} s",
                f"<= {goal:g} s",
            )
        )
        rows.append(("latency p99", f"{lat['latency_p99_s']:.2f} s", ""))
        rows.append(
            (
                "latency to the result in hand, p50 / p99",
                f"{lat['result_latency_p50_s']:.2f} s / {lat['result_latency_p99_s']:.2f} s",
                "(the run's last workflow task; the callback goes then)",
            )
        )
    for part, how in (("watches", "no sandbox"), ("watches-sandboxed", "sandboxed")):
        if w := results.get(part):
            rows.extend(_watch_rows(w, how))
    if wl := results.get("watches-long"):
        rows.extend(_long_watch_rows(wl))
    if wr := results.get("watches-replayed"):
        rows.extend(_replayed_watch_rows(wr))
    if wm := results.get("watch-memory"):
        rows.append(
            (
                f"memory of a cached watch ({wm['n']} of each, one worker each)",
                f"{wm['closer_kib_per_watch']:.0f} KiB ({wm['memory_ratio']:.2f}x)",
                f"baseline {wm['baseline_kib_per_watch']:.0f} KiB (a read and a timer in a loop)",
            )
        )
        rows.append(
            (
                "  at the time: reads per watch / events in its run",
                f"{wm['closer_reads_per_watch']:.1f} / {wm['closer_run_events']:.0f}",
                f"baseline {wm['baseline_reads_per_watch']:.1f} / {wm['baseline_run_events']:.0f}",
            )
        )
    if so := results.get("scaleout"):
        rows.append(
            (
                f"scale-out: terminations/s, 1 worker ({so['limit']})",
                f"{so['one_worker_per_s']:.2f}/s",
                f"the token's budget {so['budget_per_worker_per_s']:.2f}/s (+ the first window's burst)",
            )
        )
        rows.append(("scale-out: 2 workers, 2 tokens", f"{so['two_workers_per_s']:.2f}/s", ""))
        rows.append(
            (
                "scale_out_ratio (2 workers / 1)",
                f"{so['scale_out_ratio']:.2f}x",
                f"2x while the budget binds (429s {so['rate_limited_share']:.2%})",
            )
        )
    for shape, (measured, minimum) in (results.get("calls") or {}).get("calls_per_termination", {}).items():
        rows.append((f"calls: {shape}", str(measured), f"minimum {minimum}"))
    for name, error in (results.get("failed") or {}).items():
        rows.append((f"{name}: FAILED", error[:60], ""))
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(cell.ljust(width[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in width))
    return "\n".join(lines)


def _watch_rows(w: dict, how: str) -> list[tuple[str, str, str]]:
    scaled = f", scaled from {w['n']}" if w["extrapolated"] else ""
    arrivals = f"started over {w['arrivals_s']:.0f} s" if w["arrivals_s"] else "started at once"
    return [
        (
            f"watch_rss_mib_per_10k ({w['n']} watches, one worker, {how})",
            f"{w['watch_rss_mib_per_10k']:.0f} MiB{scaled}",
            f"<= 1024 MiB (worker {w['rss_before_mib']:.0f} -> {w['rss_after_mib']:.0f} MiB)",
        ),
        (
            f"reads_per_idle_period (idle {w['idle_s']} s, {how})",
            f"{w['reads_per_idle_period']:.2f}",
            f"1 ({w['idle_periods']} periods)",
        ),
        (
            f"timer lateness p99 (read - due), steady, {how}, {arrivals}",
            f"{w['timer_lateness_steady_p99_s']:.2f} s",
            f"<= 1 s (p50 {w['timer_lateness_steady_p50_s']:.2f} s; all dues p99 {w['timer_lateness_p99_s']:.2f} s)",
        ),
        *_window_rows(w, how),
        (f"history events per watch per idle period, {how}", f"{w['history_events_per_idle_period']:.1f}", ""),
        (
            f"worker CPU per read, steady, {how}",
            f"{w['worker_cpu_ms_per_read']:.1f} ms",
            f"one core: ~{1000 / w['worker_cpu_ms_per_read']:.0f} reads/s (worker used {w['worker_cores_used']:.2f} cores)",
        ),
        (
            f"workflow tasks whose run was cached, steady, {how}",
            f"{w['cache_hit_share']:.0%}",
            f"cache {w['worker_env']['CLOSER_MAX_CACHED_WORKFLOWS']} for {w['n']} watches (a miss replays the run)",
        ),
        *_tail_rows(w["late_tail"], how),
    ]


def _window_rows(w: dict, how: str) -> list[tuple[str, str, str]]:
    """The steady lateness p99 window by window: its worst, and how many windows met the goal."""
    windows = w["lateness_by_window"]
    if len(windows) < 2:
        return []
    worst = max(windows, key=lambda x: x["p99_s"])
    return [
        (
            f"timer lateness p99 by {w['lateness_window_s'] / 60:.0f}-minute window, steady, {how}",
            f"{sum(x['p99_s'] <= 1 for x in windows)} of {len(windows)} <= 1 s",
            f"worst {worst['p99_s']:.2f} s (p50 {worst['p50_s']:.2f} s), {worst['from_s'] / 60:.0f} minutes "
            "after the first steady due",
        )
    ]


def _tail_rows(tail: dict, how: str) -> list[tuple[str, str, str]]:
    """Where the latest 1% of the steady reads spent their lateness (medians, bench/tail.py)."""
    if not tail.get("reads"):
        return []
    return [
        (
            f"latest 1% of reads (>= {tail['lateness_min_s']:.2f} s late), {how}: set / timer / queued / in worker",
            " / ".join(f"{tail[f]:.2f}" for f in LATENESS_PARTS) + " s",
            f"medians of {tail['reads']} of {tail['of']}; {tail['sticky_timeouts']} sticky timeouts, "
            f"{tail['shared_queue']} on the shared queue, {tail['dropped']} dropped by the worker",
        )
    ]


def _long_watch_rows(w: dict) -> list[tuple[str, str, str]]:
    how = f"{w['n']} watches, {w['idle_periods_per_watch']:.0f} periods, {w['runs_per_watch']:.1f} runs each"
    return [
        (
            f"RSS per cached watch, late peak ({how})",
            f"{w['rss_kib_per_watch_late_peak']:.0f} KiB",
            f"early {w['rss_kib_per_watch_early']:.0f} KiB: {w['rss_growth_ratio']:.2f}x (late mean "
            f"{w['rss_kib_per_watch_late_mean']:.0f} KiB; whole part's peak {w['rss_kib_per_watch_peak']:.0f} KiB)",
        ),
        (
            "worker CPU per read, late (long watches)",
            f"{w['cpu_ms_per_read_late']:.1f} ms",
            f"early {w['cpu_ms_per_read_early']:.1f} ms",
        ),
        (
            f"reads_per_idle_period (continue as new at {w['continue_as_new_events']} events)",
            f"{w['reads_per_idle_period']:.2f}",
            f"1 ({w['closed_early']} of {w['n']} watches closed though kept busy)",
        ),
        (
            "timer lateness p99, steady (long watches)",
            f"{w['timer_lateness_steady_p99_s']:.2f} s",
            f"<= 1 s (p50 {w['timer_lateness_steady_p50_s']:.2f} s)",
        ),
    ]


def _replayed_watch_rows(w: dict) -> list[tuple[str, str, str]]:
    how = f"{w['n']} watches, cache {w['cache']}, idle {w['idle_s']} s"
    # Windows in which no run continued as new; a short run may have none (since
    # fresh-run-after-update-v1 every watch continues as new after its first read): then all.
    growing = [x for x in w["windows"] if not x["continued"]] or w["windows"]
    shortest = min(growing, key=lambda x: x["events"])
    longest = max(growing, key=lambda x: x["events"])
    fixed, per_event = w["cpu_ms_per_read_fixed"], w["cpu_ms_per_read_per_event"]
    return [
        (
            f"worker CPU per replayed read, by run length ({how})",
            f"{fixed:.1f} ms + {per_event * 10:.2f} ms per 10 events"
            if not math.isnan(fixed)
            else "no fit (runs continued as new in every window)",
            f"{shortest['cpu_ms_per_read']:.1f} ms at {shortest['events']:.0f} events, "
            f"{longest['cpu_ms_per_read']:.1f} ms at {longest['events']:.0f}",
        ),
        (
            f"worker CPU per replayed read, mean over whole runs (continue as new at {w['continue_as_new_events']})",
            f"{w['cpu_ms_per_read_mean']:.1f} ms",
            f"{w['mean_windows']} windows of 30 s",
        ),
        (
            "timer lateness p99 / reads per idle period (replayed watches)",
            f"{w['timer_lateness_p99_s']:.2f} s / {w['reads_per_idle_period']:.2f}",
            f"<= 1 s / 1 ({w['closed_early']} of {w['n']} closed though kept busy)",
        ),
    ]


def main() -> None:
    selected = sys.argv[1:] or list(PARTS)
    results = asyncio.run(run(selected))
    latest = {
        "scale": "short" if SHORT else "full",
        "machine": f"{os.cpu_count()} cores, {platform.system()} {platform.machine()}, Python {platform.python_version()}",
        "throughput_ratio": results.get("throughput", {}).get("throughput_ratio"),
        "budget_use": results.get("budget", {}).get("budget_use"),
        "rate_limited_share": results.get("budget", {}).get("rate_limited_share"),
        "latency_p50_s": results.get("latency", {}).get("latency_p50_s"),
        "latency_p99_s": results.get("latency", {}).get("latency_p99_s"),
        "watch_rss_mib_per_10k": results.get("watches", {}).get("watch_rss_mib_per_10k"),
        "reads_per_idle_period": results.get("watches", {}).get("reads_per_idle_period"),
        "timer_lateness_p99_s": results.get("watches", {}).get("timer_lateness_steady_p99_s"),
        "history_events_per_idle_period": results.get("watches", {}).get("history_events_per_idle_period"),
        "watch_rss_growth_ratio": results.get("watches-long", {}).get("rss_growth_ratio"),
        "watch_memory_ratio": results.get("watch-memory", {}).get("memory_ratio"),
        "calls_per_termination": results.get("calls", {}).get("calls_per_termination"),
        "scale_out_ratio": results.get("scaleout", {}).get("scale_out_ratio"),
        "details": results,
    }
    LATEST.write_text(json.dumps(latest, indent=2) + "\n")
    print(table(results))
    print(f"\nwritten: {LATEST}")


if __name__ == "__main__":
    main()
