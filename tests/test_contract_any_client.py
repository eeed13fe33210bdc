"""The termination's contract as clients in other languages meet it: the `temporal` CLI and
Temporal's own HTTP API, sending the JSON the README documents. Neither is closer's code.

Bad input must end the run at once, FAILED, with a message naming the field: never a workflow
task retrying forever, which would leave the run open and join every later start for the
conversation to it. A correct start for the same conversation then closes it.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import pytest
from jsonschema import Draft202012Validator

from closer.dev_server import TEMPORAL_CLI, start_dev_server
from emulator.server import EmulatorServer
from genesys import ClientPool
from worker import build_worker
from workflows import workflow_id
from workflows.contract import INVALID_INPUT
from workflows.models import WORKFLOW_TYPE
from workflows.schemas import DIRECTORY as SCHEMAS

from .conftest import TASK_QUEUE, free_port, seed, unconfigured_env

WRAPUP_CODE = "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11"
#: "Fails at once": the first workflow task fails the run; this leaves room for a slow machine.
FAILS_WITHIN_SECONDS = 5.0
#: A correct termination of the emulator's conversations takes a second or two.
CLOSES_WITHIN_SECONDS = 30.0
REQUEST_SCHEMA = Draft202012Validator(json.loads((SCHEMAS / "TerminateRequest.json").read_text()))
RESULT_SCHEMA = Draft202012Validator(json.loads((SCHEMAS / "TerminateResult.json").read_text()))


@dataclass(frozen=True)
class Server:
    address: str  # the gRPC frontend, for the temporal CLI
    http_api: str  # Temporal's HTTP API


@pytest.fixture(scope="module")
async def server(client_pool: ClientPool) -> AsyncIterator[Server]:
    """A dev server of this module's own, with its HTTP API on a known port and a worker.

    Not the session's: the history check at the end expects every history there to name its
    conversation, and a run started with no argument names none.
    """
    http_port = free_port()
    env = await start_dev_server(dev_server_extra_args=["--http-port", str(http_port)])
    async with build_worker(env.client, TASK_QUEUE, client_pool):
        yield Server(env.client.service_client.config.target_host, f"http://127.0.0.1:{http_port}")
    await env.shutdown()


@dataclass(frozen=True)
class Ended:
    """How a run ended, from its close event in Temporal's JSON (the same from every client)."""

    status: str  # COMPLETED, FAILED, ...
    result: dict[str, Any] | None
    failure: dict[str, Any] | None

    @classmethod
    def from_close_event(cls, event: dict[str, Any]) -> Ended:
        status = event["eventType"].removeprefix("EVENT_TYPE_WORKFLOW_EXECUTION_")
        if status == "COMPLETED":
            # Payloads in shorthand: the result is the list of the workflow's return values.
            (result,) = event["workflowExecutionCompletedEventAttributes"]["result"]
            return cls(status, result, None)
        if status == "FAILED":
            return cls(status, None, event["workflowExecutionFailedEventAttributes"]["failure"])
        return cls(status, None, None)


class AnyClient(Protocol):
    async def start(self, workflow_id: str, args: list[Any], *, rerun: bool = False) -> str:
        """Start per the README (use existing; reject duplicates unless ``rerun``): the run's id."""
        ...

    async def ended(self, workflow_id: str) -> Ended:
        """Wait for the workflow's latest run to close."""
        ...


class TemporalCli:
    """The `temporal` CLI, in its own process (the worker shares this event loop: never block it)."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def start(self, workflow_id: str, args: list[Any], *, rerun: bool = False) -> str:
        inputs = [option for arg in args for option in ("--input", json.dumps(arg))]
        started = await self._run(
            "workflow", "start", "--type", WORKFLOW_TYPE, "--task-queue", TASK_QUEUE, "--workflow-id", workflow_id,
            "--id-conflict-policy", "UseExisting", "--id-reuse-policy", "AllowDuplicate" if rerun else "RejectDuplicate",
            *inputs,
        )  # fmt: skip
        return started["runId"]

    async def ended(self, workflow_id: str) -> Ended:
        return Ended.from_close_event(
            (await self._run("workflow", "result", "--workflow-id", workflow_id))["closeEvent"]
        )

    async def _run(self, *args: str) -> dict[str, Any]:
        process = await asyncio.create_subprocess_exec(
            str(TEMPORAL_CLI), *args, "--address", self.address, "--output", "json",
            env=unconfigured_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            stdout, stderr = await process.communicate()
        finally:
            if process.returncode is None:  # given up on (a run that never closes): not left behind
                process.kill()
                await process.wait()
        # `workflow result` exits 1 for a failed workflow and still prints it.
        assert stdout, f"temporal {' '.join(args)} exited {process.returncode}: {stderr.decode()}"
        return json.loads(stdout)


class HttpApi:
    """Temporal's HTTP API (grpc-gateway JSON) over httpx, payloads spelled out or in shorthand."""

    def __init__(self, base_url: str, *, shorthand: bool) -> None:
        self.base_url = f"{base_url}/api/v1/namespaces/default/workflows"
        self.shorthand = shorthand

    async def start(self, workflow_id: str, args: list[Any], *, rerun: bool = False) -> str:
        body = {
            "workflowType": {"name": WORKFLOW_TYPE},
            "taskQueue": {"name": TASK_QUEUE},
            "input": args if self.shorthand else {"payloads": [_json_payload(arg) for arg in args]},
            "workflowIdConflictPolicy": "WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING",
            "workflowIdReusePolicy": f"WORKFLOW_ID_REUSE_POLICY_{'ALLOW' if rerun else 'REJECT'}_DUPLICATE",
        }
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            response = await http.post(f"/{workflow_id}", json=body)
        if response.status_code == httpx.codes.CONFLICT:
            # Already finished (REJECT_DUPLICATE): the error names the finished run.
            (details,) = response.json()["details"]
            return details["runId"]
        response.raise_for_status()
        return response.json()["runId"]

    async def ended(self, workflow_id: str) -> Ended:
        """GetWorkflowExecutionHistory, long-polling for the close event only."""
        query = {"waitNewEvent": "true", "historyEventFilterType": "HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT"}
        async with httpx.AsyncClient(base_url=self.base_url, timeout=40) as http:
            while True:  # a long poll may end with no event yet
                response = await http.get(f"/{workflow_id}/history", params=query)
                response.raise_for_status()
                events = response.json()["history"].get("events", [])
                if events:
                    return Ended.from_close_event(events[0])


async def ended_within(client: AnyClient, workflow_id: str, seconds: float) -> Ended:
    try:
        return await asyncio.wait_for(client.ended(workflow_id), seconds)
    except TimeoutError:
        raise AssertionError(f"{workflow_id} still open after {seconds:g}s") from None


def _json_payload(value: Any) -> dict[str, Any]:
    """A Temporal Payload in proto JSON: bytes fields are base64."""
    return {
        "metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
        "data": base64.b64encode(json.dumps(value).encode()).decode(),
    }


CLIENTS: dict[str, Callable[[Server], AnyClient]] = {
    "temporal CLI": lambda server: TemporalCli(server.address),
    "HTTP API": lambda server: HttpApi(server.http_api, shorthand=False),
    "HTTP API, shorthand payloads": lambda server: HttpApi(server.http_api, shorthand=True),
}


@pytest.fixture(params=list(CLIENTS))
def any_client(request: pytest.FixtureRequest, server: Server) -> AnyClient:
    return CLIENTS[request.param](server)


@dataclass(frozen=True)
class BadInput:
    name: str
    args: Callable[[str], list[Any]]  # for a conversation id
    problem: str  # what the failure says


BAD_INPUTS = [
    BadInput("wrong type", lambda cid: [{"conversationId": 42}], "conversationId: input should be a valid string"),
    BadInput("missing conversationId", lambda cid: [{"goodbye": "Thanks!"}], "conversationId: required"),
    BadInput(
        "unknown field",
        lambda cid: [{"conversationId": cid, "wrapUpCode": WRAPUP_CODE}],
        "wrapUpCode: unknown field (the fields are conversationId, profile,",
    ),
    BadInput("no argument", lambda cid: [], "expected exactly one argument, a JSON object (TerminateRequest with conversationId); got 0"),
    BadInput("two arguments", lambda cid: [{"conversationId": cid}] * 2, "expected exactly one argument, a JSON object (TerminateRequest with conversationId); got 2"),
    BadInput("a bare string", lambda cid: [cid], "expected a JSON object (TerminateRequest with conversationId), got a string"),
]  # fmt: skip


async def test_camelcase_input_closes_and_the_result_is_camelcase(
    any_client: AnyClient, emulator: EmulatorServer
) -> None:
    cid = seed(emulator, "bot")["conversationId"]
    request = {"conversationId": cid, "reason": "bot: resolved", "verifyTimeoutSeconds": 30, "allowTeardown": True}
    assert REQUEST_SCHEMA.is_valid(request)

    await any_client.start(workflow_id(cid), [request])
    ended = await ended_within(any_client, workflow_id(cid), CLOSES_WITHIN_SECONDS)

    assert ended.status == "COMPLETED", ended
    assert ended.result is not None
    assert ended.result["outcome"] == "closed"
    assert ended.result["conversationId"] == cid
    assert ended.result["verifiedAt"] is not None
    RESULT_SCHEMA.validate(ended.result)
    assert emulator.admin.conversation(cid)["endTime"] is not None


# Shorthand or not, the server hands the worker the same payloads: two clients are enough here.
@pytest.mark.parametrize("any_client", ["temporal CLI", "HTTP API"], indirect=True)
@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.name)
async def test_bad_input_fails_the_run_at_once_then_a_correct_start_closes(
    any_client: AnyClient, emulator: EmulatorServer, bad: BadInput
) -> None:
    cid = seed(emulator, "bot")["conversationId"]
    args = bad.args(cid)
    if len(args) == 1:
        assert not REQUEST_SCHEMA.is_valid(args[0]), "the published schema must reject it too"

    failed_run = await any_client.start(workflow_id(cid), args)
    ended = await ended_within(any_client, workflow_id(cid), FAILS_WITHIN_SECONDS)

    assert ended.status == "FAILED", ended
    assert ended.failure is not None
    assert ended.failure["message"].startswith("invalid input: "), ended.failure["message"]
    assert bad.problem in ended.failure["message"]
    assert ended.failure["applicationFailureInfo"]["type"] == INVALID_INPUT
    assert ended.failure["applicationFailureInfo"]["nonRetryable"] is True
    assert emulator.admin.conversation(cid)["endTime"] is None  # nothing was done

    good = [{"conversationId": cid}]
    # As documented: a plain start joins the finished run; a failed one is started again explicitly.
    assert await any_client.start(workflow_id(cid), good) == failed_run
    assert await any_client.start(workflow_id(cid), good, rerun=True) != failed_run
    ended = await ended_within(any_client, workflow_id(cid), CLOSES_WITHIN_SECONDS)

    assert ended.status == "COMPLETED", ended
    assert ended.result is not None and ended.result["outcome"] == "closed"


async def test_mixed_case_input_gives_an_agent_in_mandatory_wrapup_its_code(
    any_client: AnyClient, emulator: EmulatorServer
) -> None:
    cid = seed(emulator, "agent", wrapup_prompt="mandatory")["conversationId"]

    await any_client.start(workflow_id(cid), [{"conversation_id": cid, "wrapupCode": WRAPUP_CODE}])
    ended = await ended_within(any_client, workflow_id(cid), CLOSES_WITHIN_SECONDS)

    assert ended.result is not None, ended
    assert ended.result["outcome"] == "closed"  # not forced: the code ended the after-call work
    (agent,) = [p for p in ended.result["participants"] if p["purpose"] == "agent"]
    assert agent["wrapup"] == "code"
