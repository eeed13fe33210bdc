"""Batch termination: many conversations from a file, with bounded concurrency, resumable.

The engine behind ``closer terminate --from-file`` (the command line is in ``batch_cli.py``):

- :func:`read_ids` turns a file's text (one id a line, or a CSV with a header) into the ids to
  terminate, each with its line number, and the lines it skips (not a UUID, empty, a CSV row
  without the column, a duplicate) with the reason. Only a file it cannot use at all (no such
  column, nothing in it) raises :class:`BatchInputError`.
- :func:`run_batch` starts (or joins) one termination per id, at most ``concurrency`` at a time,
  and reports each as it ends. The workflow ids make a batch resumable: a conversation whose
  termination already finished is not run again, its result comes back at once as already done.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode

from workflows import TerminateRequest, TerminateResult, workflow_id
from workflows.contract import check_uuid

from .temporal import start_or_join

#: Columns a CSV's conversation id is looked for in without ``--column`` (compared ignoring case,
#: spaces, dashes and underscores, so "Conversation ID" from an export matches too).
DEFAULT_COLUMNS = ("conversationId", "conversation_id", "id")
#: Delimiters a CSV header is recognised by, in order of preference.
DELIMITERS = (",", "\t", ";")
#: Outcome of an id whose termination could not run (the workflow failed, Temporal refused it).
FAILED = "failed"
#: Outcome of an id started with ``wait=False`` and not finished yet.
STARTED = "started"


class BatchInputError(ValueError):
    """The file cannot be used at all; the message says what to fix."""


@dataclass(frozen=True)
class Item:
    """An id to terminate: its canonical spelling and the line it came from."""

    line: int
    conversation_id: str


@dataclass(frozen=True)
class SkippedLine:
    """A line that names no conversation to terminate, and why."""

    line: int
    problem: str
    #: For a duplicate: the id (terminated once, for its first line).
    conversation_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "conversationId": self.conversation_id, "skipped": self.problem}


@dataclass
class BatchInput:
    items: list[Item]
    skipped: list[SkippedLine]
    #: The CSV column the ids were read from (None: one id a line).
    column: str | None = None


def read_ids(text: str, column: str | None = None) -> BatchInput:
    """The ids in ``text``: one a line, or a CSV with a header (``column``, or a default column).

    A CSV is recognised by ``column`` being given, or by its first line holding a delimiter or
    being a default column's name. Lines starting with ``#`` are comments. Ids are checked and
    spelled as the contract does (the same messages), so a duplicate is found however it is spelled.
    """
    text = text.removeprefix("\ufeff")  # a spreadsheet's byte order mark
    first = next((line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")), None)
    if first is None:
        raise BatchInputError("no conversation ids in it (one a line, or a CSV with a header)")
    delimiter = next((d for d in DELIMITERS if d in first), None)
    if column is None and delimiter is None and _normalized(first) not in {_normalized(c) for c in DEFAULT_COLUMNS}:
        return _dedupe(_plain_lines(text))
    return _dedupe(_csv_rows(text, column, delimiter or ","))


def _plain_lines(text: str) -> BatchInput:
    found = BatchInput([], [])
    for number, raw in enumerate(text.splitlines(), start=1):
        value = raw.strip()
        if value.startswith("#"):
            continue
        _add(found, number, value, "empty line")
    return found


def _csv_rows(text: str, column: str | None, delimiter: str) -> BatchInput:
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header: list[str] | None = None
    for row in reader:
        if any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#"):
            header = [cell.strip() for cell in row]
            break
    assert header is not None  # read_ids found a first line
    index = _column_index(header, column)
    name = header[index]
    found = BatchInput([], [], column=name)
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            found.skipped.append(SkippedLine(number, "empty line"))
        elif row[0].lstrip().startswith("#"):
            continue
        else:
            _add(found, number, row[index].strip() if index < len(row) else "", f"no {name} value")
    return found


def _column_index(header: list[str], column: str | None) -> int:
    shown = ", ".join(header)
    if column is not None:
        if column in header:
            return header.index(column)
        matches = [index for index, name in enumerate(header) if name.lower() == column.lower()]
        if matches:
            return matches[0]
        raise BatchInputError(f"no column {column!r} in its header (columns: {shown})")
    for wanted in DEFAULT_COLUMNS:
        for index, name in enumerate(header):
            if _normalized(name) == _normalized(wanted):
                return index
    raise BatchInputError(
        f"no column named conversationId, conversation_id or id in its header (columns: {shown}): name the one with the ids with --column"
    )


def _add(found: BatchInput, line: int, value: str, empty_problem: str) -> None:
    if not value:
        found.skipped.append(SkippedLine(line, empty_problem))
        return
    try:
        found.items.append(Item(line, check_uuid(value)))
    except ValueError as error:
        found.skipped.append(SkippedLine(line, str(error)))


def _dedupe(found: BatchInput) -> BatchInput:
    first_line: dict[str, int] = {}
    items = []
    for item in found.items:
        if item.conversation_id in first_line:
            found.skipped.append(
                SkippedLine(item.line, f"duplicate of line {first_line[item.conversation_id]}", item.conversation_id)
            )
        else:
            first_line[item.conversation_id] = item.line
            items.append(item)
    found.skipped.sort(key=lambda skipped: skipped.line)
    return BatchInput(items, found.skipped, found.column)


def _normalized(name: str) -> str:
    return "".join(ch for ch in name.strip().lower() if ch not in " _-")


@dataclass(frozen=True)
class ItemOutcome:
    """How one id of the batch went."""

    item: Item
    #: The termination's result (None: not finished, or it could not run).
    result: TerminateResult | None = None
    #: It had finished before this run and was not run again.
    already_done: bool = False
    #: Why it could not run (the workflow failed, Temporal refused it): counted as failed.
    error: str | None = None

    @property
    def outcome(self) -> str:
        if self.result is not None:
            return self.result.outcome
        return FAILED if self.error is not None else STARTED

    @property
    def failed(self) -> bool:
        return self.outcome == FAILED

    @property
    def failure(self) -> str:
        """What went wrong, for a failed one."""
        return self.error or (self.result.error if self.result else None) or "no error recorded"

    def to_json(self) -> dict[str, Any]:
        """One line of ``--json``: the contract's result (camelCase) plus where it came from."""
        head = {
            "line": self.item.line,
            "workflowId": workflow_id(self.item.conversation_id),
            "alreadyDone": self.already_done,
        }
        if self.result is not None:
            return {**head, **self.result.model_dump(mode="json")}
        return {
            **head,
            "conversationId": self.item.conversation_id,
            "outcome": None if self.error is None else FAILED,
            "error": self.error,
        }


@dataclass
class Tally:
    """The batch so far: what the progress line and the summary show."""

    total: int
    done: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    #: Of ``outcomes``, those that had finished before this run.
    already_done: Counter[str] = field(default_factory=Counter)
    failures: list[ItemOutcome] = field(default_factory=list)
    #: Ids not started because Temporal became unavailable (rerun to resume): why.
    abandoned: int = 0
    abandoned_because: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    finished_at: float | None = None

    def add(self, outcome: ItemOutcome) -> None:
        self.done += 1
        self.outcomes[outcome.outcome] += 1
        if outcome.already_done:
            self.already_done[outcome.outcome] += 1
        if outcome.failed:
            self.failures.append(outcome)

    @property
    def elapsed(self) -> float:
        return (self.finished_at or time.monotonic()) - self.started_at

    @property
    def rate(self) -> float:
        """Ids done per second so far."""
        return self.done / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def eta(self) -> float | None:
        """Seconds left at the rate so far (None before the first is done)."""
        remaining = self.total - self.done - self.abandoned
        if remaining <= 0:
            return 0.0
        return remaining / self.rate if self.rate > 0 else None

    @property
    def failed(self) -> int:
        return self.outcomes[FAILED]


async def run_batch(
    client: Client,
    items: Sequence[Item],
    template: TerminateRequest,
    *,
    task_queue: str,
    concurrency: int = 20,
    wait: bool = True,
    on_outcome: Callable[[ItemOutcome], None] | None = None,
    tally: Tally | None = None,
) -> Tally:
    """Terminate every item with ``template``'s options, at most ``concurrency`` at a time.

    Each item is started or joined (``start_or_join``): one that had finished is reported at once
    as already done, one running is waited for, one that ended `failed` runs again. With ``wait``
    False an item is done once started. ``on_outcome`` hears of each item as it is done. A
    failure of one item (its workflow failed, Temporal refused it) is that item's outcome; only
    Temporal becoming unavailable stops the batch from taking more (they count as ``abandoned``).
    """
    tally = tally or Tally(total=len(items))
    pending = iter(items)

    async def take_turns() -> None:
        for item in pending:  # shared: each item is taken by one of the runners
            if tally.abandoned_because is not None:
                tally.abandoned += 1
                continue
            outcome = await _terminate_one(client, item, template, task_queue, wait, tally)
            if outcome is None:  # Temporal unavailable: nothing more can start
                tally.abandoned += 1
                continue
            tally.add(outcome)
            if on_outcome is not None:
                on_outcome(outcome)

    try:
        await asyncio.gather(*(take_turns() for _ in range(max(1, min(concurrency, len(items))))))
    finally:
        tally.finished_at = time.monotonic()
    return tally


async def _terminate_one(
    client: Client, item: Item, template: TerminateRequest, task_queue: str, wait: bool, tally: Tally
) -> ItemOutcome | None:
    """One item's outcome; None when Temporal is unavailable (noted in ``tally``)."""
    request = template.model_copy(update={"conversation_id": item.conversation_id})
    try:
        termination = await start_or_join(client, request, task_queue=task_queue)
        if termination.finished is not None:
            return ItemOutcome(item, termination.finished, already_done=True)
        if not wait:
            return ItemOutcome(item)
        return ItemOutcome(item, await termination.handle.result())
    except WorkflowFailureError as failure:
        return ItemOutcome(item, error=f"the termination workflow failed: {_root_message(failure)}")
    except RPCError as error:
        if error.status == RPCStatusCode.UNAVAILABLE:
            tally.abandoned_because = tally.abandoned_because or f"Temporal unavailable: {error.message}"
            return None
        return ItemOutcome(item, error=f"Temporal refused it: {error.message} ({error.status.name})")


def _root_message(error: BaseException) -> str:
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error)
