"""``closer terminate --from-file``: many conversations from a file, resumable, as a user runs it.

The end-to-end tests run the real CLI in its own process against the session's Temporal dev
server, its worker and the emulator; the reading of files and the progress line are checked on
their own (no server) first.
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from closer.batch import BatchInputError, Item, ItemOutcome, Tally, read_ids
from closer.batch_cli import Progress, format_seconds, summary
from emulator.server import EmulatorServer
from workflows import TerminateResult

from .conftest import free_port, new_id, seed

WRAPUP_CODE = "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11"
PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
A, B, C = (str(uuid.UUID(int=n, version=4)) for n in (1, 2, 3))


# --- reading the file -------------------------------------------------------------------------


def test_one_id_a_line_with_bad_lines_and_a_duplicate() -> None:
    text = f"# incident 4711\n{A}\n\n  {B}  \nnot-a-uuid\n{A.upper()}\n{C}\n"

    found = read_ids(text)

    assert found.items == [Item(2, A), Item(4, B), Item(7, C)]
    assert [(s.line, s.problem) for s in found.skipped] == [
        (3, "empty line"),
        (5, "'not-a-uuid' is not a UUID (Genesys ids look like 3fa85f64-5717-4562-b3fc-2c963f66afa6)"),
        (6, "duplicate of line 2"),
    ]
    assert found.column is None


def test_csv_finds_a_default_column_however_it_is_spelled() -> None:
    text = f'queue,Conversation ID,notes\nsupport,{A},x\nsales,,y\nsales\n\nbilling,{B},"a, b"\n'

    found = read_ids(text)

    assert found.column == "Conversation ID"
    assert found.items == [Item(2, A), Item(6, B)]
    assert [(s.line, s.problem) for s in found.skipped] == [
        (3, "no Conversation ID value"),
        (4, "no Conversation ID value"),
        (5, "empty line"),
    ]


def test_csv_column_by_name_tab_separated_and_a_header_only_file() -> None:
    assert read_ids(f"id\tconv\n1\t{A}\n", column="conv").items == [Item(2, A)]
    assert read_ids(f"conversation_id\n{B}\n").items == [Item(2, B)]
    assert read_ids(f"\ufeffconversationId;x\n{C};1\n").column == "conversationId"  # Excel: BOM, semicolons


@pytest.mark.parametrize(
    ("text", "column", "problem"),
    [
        ("", None, "no conversation ids"),
        ("\n# only a comment\n", None, "no conversation ids"),
        (
            f"queue,agent\nsupport,{A}\n",
            None,
            "no column named conversationId, conversation_id or id in its header (columns: queue, agent)",
        ),
        (f"id,x\n{A},1\n", "conv", "no column 'conv' in its header (columns: id, x)"),
    ],
)
def test_files_that_cannot_be_used_at_all(text: str, column: str | None, problem: str) -> None:
    with pytest.raises(BatchInputError) as raised:
        read_ids(text, column)
    assert problem in str(raised.value)


# --- progress and summary ---------------------------------------------------------------------


def _result(conversation_id: str, outcome: str, error: str | None = None) -> TerminateResult:
    return TerminateResult(conversation_id=conversation_id, outcome=outcome, error=error)


def test_progress_line_and_summary() -> None:
    tally = Tally(total=4)
    tally.add(ItemOutcome(Item(1, A), _result(A, "closed")))
    tally.add(ItemOutcome(Item(2, B), _result(B, "not_found"), already_done=True))
    tally.add(ItemOutcome(Item(3, C), _result(C, "failed", "disconnect participant: 403 missing.any.permissions")))
    tally.started_at -= 3.0  # three items in (about) 3 s

    line = Progress(tally, io.StringIO(), tty=True).line()

    assert line.startswith("3/4 done: closed 1, not_found 1, failed 1 (1 already done); 1.0/s, ETA ")
    text = summary(tally, read_ids(f"{A}\n{B}\n{C}\nnope\n"), wait=True)
    assert text.splitlines()[0].split() == ["outcome", "count", "already", "done"]
    assert _table(text) == {"closed": (1, 0), "not_found": (1, 1), "failed": (1, 0), "total": (3, 1)}
    assert f"line 3     {C}  disconnect participant: 403 missing.any.permissions" in text
    assert text.split("skipped lines")[1].split()[0] == "1"
    assert format_seconds(3725) == "1h02m" and format_seconds(65) == "1m05s" and format_seconds(4.21) == "4.2s"


async def test_live_line_on_a_terminal_plain_lines_otherwise() -> None:
    tally = Tally(total=2)
    terminal, pipe = io.StringIO(), io.StringIO()
    live, plain = Progress(tally, terminal, tty=True, interval=0.01), Progress(tally, pipe, tty=False, interval=0.01)
    live.start()
    plain.start()
    await asyncio.sleep(0.05)
    live.above("line 7 … failed: something")
    await asyncio.sleep(0.05)
    await live.stop()
    await plain.stop()

    assert "\r\x1b[K0/2 done" in terminal.getvalue()
    assert "\r\x1b[Kline 7 … failed: something\n" in terminal.getvalue()
    assert terminal.getvalue().endswith("\r\x1b[K")  # the live line is cleared at the end
    assert pipe.getvalue().startswith("progress: 0/2 done; 0.0/s, ETA ?\n")
    assert "\r" not in pipe.getvalue()


# --- the command, end to end ------------------------------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


async def closer(env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 120) -> Run:
    loop = asyncio.get_running_loop()
    started = loop.time()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "closer", *args, env=env,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(stdin.encode() if stdin is not None else None), timeout)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode(), loop.time() - started)


def _table(text: str) -> dict[str, tuple[int, int]]:
    """The summary's rows: outcome -> (count, of which already done)."""
    rows = (line.split() for line in text.splitlines())
    return {
        row[0]: (int(row[1]), int(row[2])) for row in rows if len(row) == 3 and row[1].isdigit() and row[2].isdigit()
    }


def seeded_purposes(emulator: EmulatorServer, conversation_id: str) -> set[str]:
    return {p["purpose"] for p in emulator.admin.conversation(conversation_id)["participants"]}


def _seq(emulator: EmulatorServer) -> int:
    return max((r["seq"] for r in emulator.admin.requests()), default=0)


async def test_a_file_of_30_ids_then_a_rerun_that_skips_what_finished(
    cli_env: dict[str, str], emulator: EmulatorServer, tmp_path: Path
) -> None:
    expected: dict[str, str] = {}
    for scenario, fields, outcome, count in [
        ("agent", {}, "closed", 9),
        ("agent", {"wrapup_prompt": "mandatory"}, "closed", 4),
        ("bot", {}, "closed", 5),
        ("ended", {}, "already_closed", 3),
        ("not_web_messaging", {}, "not_web_messaging", 2),
        ("stuck", {}, "forced", 1),
    ]:
        for _ in range(count):
            expected[seed(emulator, scenario, **fields)["conversationId"]] = outcome
    for _ in range(3):
        expected[new_id()] = "not_found"
    refused = seed(emulator, "agent")["conversationId"]  # the OAuth client lacks a permission, once
    expected[refused] = "failed"
    emulator.admin.add_fault(
        conversation_id=refused,
        method="PATCH",
        route=PARTICIPANT_PATCH,
        status=403,
        code="missing.any.permissions",
        count=1,
    )
    ids = list(expected)
    lines = [
        "# ids from the incident channel",
        *ids[:10],
        "not-a-uuid",
        *ids[10:20],
        "",
        ids[3].upper(),
        *ids[20:],
        "3fa85f64-5717",
    ]
    bad = {
        lines.index("not-a-uuid") + 1: "'not-a-uuid' is not a UUID",
        lines.index("") + 1: "empty line",
        lines.index(ids[3].upper()) + 1: f"duplicate of line {lines.index(ids[3]) + 1}",
        len(lines): "'3fa85f64-5717' is not a UUID",
    }
    file = tmp_path / "incident.txt"
    file.write_text("\n".join(lines) + "\n")
    options = [
        "--goodbye",
        "Sorry, we are closing this chat.",
        "--wrapup-code",
        WRAPUP_CODE,
        "--verify-timeout",
        "5",
        "--reason",
        "batch test",
    ]

    first = await closer(cli_env, "terminate", "--from-file", str(file), "--json", "--concurrency", "8", *options)

    assert first.code == 1, first  # one termination failed
    objects = [json.loads(line) for line in first.stdout.splitlines()]
    skipped = {o["line"]: o["skipped"] for o in objects if "skipped" in o}
    assert set(skipped) == set(bad) and all(bad[n] in skipped[n] for n in bad), skipped
    results = {o["conversationId"]: o for o in objects if "skipped" not in o}
    assert {cid: r["outcome"] for cid, r in results.items()} == expected
    assert all(r["alreadyDone"] is False and r["workflowId"] == f"terminate-{cid}" for cid, r in results.items())
    assert [results[cid]["line"] for cid in ids] == [lines.index(cid) + 1 for cid in ids]
    assert {"apiCalls", "verifiedAt", "participants", "steps"} <= set(
        results[ids[0]]
    )  # the contract's camelCase result
    assert "missing.any.permissions" in results[refused]["error"]
    for n, problem in bad.items():  # reported on stderr too, by line number
        assert f"incident.txt line {n}: skipped: " in first.stderr and problem in first.stderr
    assert f"{refused} failed: " in first.stderr
    assert "failures:" in first.stderr  # the summary goes to stderr with --json
    assert _table(first.stderr)["total"] == (len(ids), 0)
    for cid, outcome in expected.items():  # the options reached every one: each agent got the goodbye once
        if outcome in ("closed", "forced", "failed") and "agent" in seeded_purposes(emulator, cid):
            assert len(emulator.admin.conversation(cid)["sent_messages"]) == 1, cid
    before_rerun = _seq(emulator)

    again = await closer(cli_env, "terminate", "--from-file", str(file), *options)

    assert again.code == 0, again  # the failed one ran again, and closed
    called_about = {cid for r in emulator.admin.requests(since=before_rerun) for cid in ids if cid in r["path"]}
    assert called_about == {refused}  # nothing that had finished called Genesys again
    table = _table(again.stdout)
    counts = Counter(expected.values())
    assert table["closed"] == (counts["closed"] + 1, counts["closed"])
    assert table["not_found"] == (3, 3) and table["already_closed"] == (3, 3) and table["forced"] == (1, 1)
    assert table["total"] == (len(ids), len(ids) - 1)
    assert (
        f"{len(ids)} of {len(ids)} conversation(s) done" in again.stdout
        and f"{len(ids) - 1} already done, 0 failed" in again.stdout
    )
    print(f"\nbatch: {len(ids)} ids, concurrency 8: first run {first.seconds:.1f}s, rerun {again.seconds:.1f}s")


async def test_ids_from_stdin_and_a_csv_column(
    cli_env: dict[str, str], emulator: EmulatorServer, tmp_path: Path
) -> None:
    piped = [seed(emulator, "bot")["conversationId"] for _ in range(3)]

    from_stdin = await closer(cli_env, "terminate", "--from-file", "-", "--json", stdin="\n".join(piped) + "\n")

    assert from_stdin.code == 0, from_stdin
    assert [json.loads(line)["outcome"] for line in from_stdin.stdout.splitlines()] == ["closed"] * 3

    agents = [seed(emulator, "agent")["conversationId"] for _ in range(2)]
    csv_file = tmp_path / "export.csv"
    csv_file.write_text(f'queue,conv,note\nsupport,{agents[0]},"late, angry"\nsupport,,\nsales,{agents[1]},\n')

    from_csv = await closer(cli_env, "terminate", "--from-file", str(csv_file), "--column", "conv")

    assert from_csv.code == 0, from_csv
    assert "export.csv line 3: skipped: no conv value" in from_csv.stderr
    assert _table(from_csv.stdout) == {"closed": (2, 0), "total": (2, 0)}, from_csv.stdout
    assert all(emulator.admin.conversation(cid)["endTime"] is not None for cid in agents)


async def test_no_wait_starts_them_and_returns(
    cli_env: dict[str, str], emulator: EmulatorServer, temporal_env: WorkflowEnvironment
) -> None:
    ids = [seed(emulator, "bot")["conversationId"] for _ in range(3)]

    run = await closer(cli_env, "terminate", "--from-file", "-", "--no-wait", "--json", stdin="\n".join(ids))

    assert run.code == 0, run
    assert {json.loads(line)["workflowId"] for line in run.stdout.splitlines()} == {f"terminate-{cid}" for cid in ids}
    for cid in ids:
        assert (await temporal_env.client.get_workflow_handle(f"terminate-{cid}").result())["outcome"] == "closed"


@pytest.mark.parametrize(
    ("args", "stdin", "fix"),
    [
        (["--from-file", "/nonexistent/ids.txt"], None, "cannot read /nonexistent/ids.txt: No such file or directory"),
        (["--from-file", "-"], "queue,agent\nsupport,x\n", "stdin: no column named conversationId"),
        (["--from-file", "-"], "nope\n\n", "stdin: no conversation id to terminate (2 line(s) skipped)"),
        (["--from-file", "-", A], "", "not both"),
        (["--column", "id", A], None, "--column goes with --from-file FILE"),
        (["--from-file", "-", "--goodbye", "x" * 2001], A, "at most 2000"),
    ],
)
async def test_nothing_starts_exit_2(cli_env: dict[str, str], args: list[str], stdin: str | None, fix: str) -> None:
    run = await closer(cli_env, "terminate", *args, stdin=stdin)

    assert run.code == 2, run
    assert fix in run.stderr.splitlines()[-1], run.stderr


async def test_unreachable_temporal_exit_2(cli_env: dict[str, str]) -> None:
    address = f"127.0.0.1:{free_port()}"

    run = await closer({**cli_env, "TEMPORAL_ADDRESS": address}, "terminate", "--from-file", "-", stdin=f"{A}\n")

    assert run.code == 2, run
    [line] = run.stderr.splitlines()
    assert line.startswith(f"Error: cannot reach Temporal at {address}") and "TEMPORAL_ADDRESS" in line, line
