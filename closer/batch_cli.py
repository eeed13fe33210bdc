"""``closer terminate --from-file FILE``: terminate every conversation a file names.

The engine is ``batch.py``; this module reads the file, shows progress on stderr (a live line on
a terminal, a plain line every few seconds otherwise), prints a line per id with ``--json`` and a
summary at the end. Exit status: 0 when no termination failed, 1 otherwise, 2 when nothing could
start (the file unreadable or without ids, bad options, no Temporal).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import IO, Any, get_args

import click

from workflows import TerminateRequest
from workflows.models import Outcome

from .batch import STARTED, BatchInput, BatchInputError, ItemOutcome, Tally, read_ids, run_batch
from .cli import EXIT_FAILED, CannotStart, _check_profile, _valid, reach_temporal
from .settings import TemporalSettings

DEFAULT_CONCURRENCY = 20
#: A stand-in id to check the options once, before reading the file.
_ANY_ID = "00000000-0000-4000-8000-000000000000"
#: How often the live progress line is redrawn on a terminal, and a plain one written otherwise.
TTY_REFRESH_SECONDS = 0.2
PLAIN_PROGRESS_SECONDS = 5.0
#: Outcomes in the order the summary lists them.
OUTCOME_ORDER = (*get_args(Outcome), STARTED)


def terminate_batch(
    source: str, *, column: str | None, concurrency: int | None, wait: bool, as_json: bool, **options: Any
) -> None:
    """Run the batch; exits 1 if any termination failed (2 through CannotStart, before starting)."""
    concurrency = concurrency or DEFAULT_CONCURRENCY
    template = _valid(TerminateRequest, conversation_id=_ANY_ID, **options)
    _check_profile(template.profile)
    name = "stdin" if source == "-" else source
    batch = _read(source, name, column)
    out = sys.stdout
    for skipped in batch.skipped:
        click.echo(f"{name} line {skipped.line}: skipped: {skipped.problem}", err=True)
        if as_json:
            out.write(json.dumps(skipped.to_json()) + "\n")
    if not batch.items:
        raise CannotStart(f"{name}: no conversation id to terminate ({len(batch.skipped)} line(s) skipped)")
    settings = TemporalSettings.from_env()
    tally = Tally(total=len(batch.items))
    try:
        asyncio.run(_run(settings, batch, template, tally, concurrency=concurrency, wait=wait, as_json=as_json))
    except KeyboardInterrupt:
        click.echo(
            f"interrupted after {tally.done} of {tally.total}: terminations already started go on; "
            "run the same command again to resume (finished ones are skipped)",
            err=True,
        )
        sys.exit(130)
    click.echo(summary(tally, batch, wait=wait), err=as_json)
    if tally.failed or tally.abandoned:
        sys.exit(EXIT_FAILED)


def _read(source: str, name: str, column: str | None) -> BatchInput:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as error:
        raise CannotStart(f"cannot read {name}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise CannotStart(f"cannot read {name}: not UTF-8 text") from None
    try:
        return read_ids(text, column)
    except BatchInputError as error:
        raise CannotStart(f"{name}: {error}") from None


async def _run(
    settings: TemporalSettings,
    batch: BatchInput,
    template: TerminateRequest,
    tally: Tally,
    *,
    concurrency: int,
    wait: bool,
    as_json: bool,
) -> None:
    client = await reach_temporal(settings)
    stderr = sys.stderr
    progress = Progress(tally, stderr, tty=stderr.isatty())
    out = sys.stdout

    def report(outcome: ItemOutcome) -> None:
        if as_json:
            out.write(json.dumps(outcome.to_json()) + "\n")
            out.flush()
        if outcome.failed:
            progress.above(f"line {outcome.item.line} {outcome.item.conversation_id} failed: {outcome.failure}")

    tally.started_at = time.monotonic()
    progress.start()
    try:
        await run_batch(
            client,
            batch.items,
            template,
            task_queue=settings.task_queue,
            concurrency=concurrency,
            wait=wait,
            on_outcome=report,
            tally=tally,
        )
    finally:
        await progress.stop()


class Progress:
    """The batch's progress on stderr: one live line on a terminal, a plain line now and then otherwise."""

    def __init__(self, tally: Tally, stream: IO[str], *, tty: bool, interval: float | None = None) -> None:
        self.tally = tally
        self.stream = stream
        self.tty = tty
        self.interval = interval or (TTY_REFRESH_SECONDS if tty else PLAIN_PROGRESS_SECONDS)
        self._task: asyncio.Task[None] | None = None
        self._shown = False

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._clear()

    def above(self, text: str) -> None:
        """Write a line (a failure, say) without breaking the live line."""
        self._clear()
        self.stream.write(text + "\n")
        if self.tty:
            self._draw()
        self.stream.flush()

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            if self.tty:
                self._draw()
            else:
                self.stream.write(f"progress: {self.line()}\n")
            self.stream.flush()

    def _draw(self) -> None:
        self.stream.write("\r\x1b[K" + self.line())
        self._shown = True

    def _clear(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False

    def line(self) -> str:
        """``12/30 done: closed 9, not_found 2, failed 1 (4 already done); 3.1/s, ETA 6s``"""
        tally = self.tally
        counts = ", ".join(
            f"{outcome} {tally.outcomes[outcome]}" for outcome in OUTCOME_ORDER if tally.outcomes[outcome]
        )
        already = sum(tally.already_done.values())
        eta = tally.eta
        parts = [f"{tally.done}/{tally.total} done" + (f": {counts}" if counts else "")]
        if already:
            parts[0] += f" ({already} already done)"
        parts.append(f"{tally.rate:.1f}/s, ETA {format_seconds(eta) if eta is not None else '?'}")
        return "; ".join(parts)


def summary(tally: Tally, batch: BatchInput, *, wait: bool) -> str:
    """The table printed at the end: outcome counts (of which already done), failures, skipped lines."""
    rows = [
        (outcome, tally.outcomes[outcome], tally.already_done[outcome])
        for outcome in OUTCOME_ORDER
        if tally.outcomes[outcome]
    ]
    rows.append(("total", tally.done, sum(tally.already_done.values())))
    width = max(len("skipped lines"), *(len(row[0]) for row in rows)) + 2
    lines = [f"{'outcome':<{width}}{'count':>6}  already done"]
    lines += [f"{outcome:<{width}}{count:>6}  {already:>12}" for outcome, count, already in rows]
    if batch.skipped:
        duplicates = sum(1 for skipped in batch.skipped if skipped.conversation_id is not None)
        lines.append(
            f"{'skipped lines':<{width}}{len(batch.skipped):>6}  ({duplicates} duplicate(s); each reported above with its line)"
        )
    if tally.failures:
        lines.append("failures:")
        lines += [
            f"  line {f.item.line:<5} {f.item.conversation_id}  {f.failure}"
            for f in sorted(tally.failures, key=lambda f: f.item.line)
        ]
    verb = "done" if wait else "started or done"
    lines.append(
        f"{tally.done} of {tally.total} conversation(s) {verb} in {format_seconds(tally.elapsed)} ({tally.rate:.1f}/s): "
        f"{sum(tally.already_done.values())} already done, {tally.failed} failed"
    )
    if tally.abandoned:
        lines.append(
            f"{tally.abandoned} not started ({tally.abandoned_because}): run the same command again to resume; "
            "finished ones are skipped"
        )
    return "\n".join(lines)


def format_seconds(seconds: float) -> str:
    """``0.4s``, ``42s``, ``3m05s``, ``1h02m``."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
