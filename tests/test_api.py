"""The HTTP API as a service in another language uses it: uvicorn on loopback, httpx, the session's
Temporal dev server, the in-process worker and the emulator.

Every test is async so the event loop (and with it the in-process worker) keeps running while
the API, in its own thread, waits on Temporal.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from temporalio.client import Client, WorkflowFailureError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from closer.settings import TemporalSettings
from emulator.server import EmulatorServer
from workflows import TerminateRequest, workflow_id
from workflows.contract import InvalidInput, parse, parse_json
from workflows.models import WORKFLOW_TYPE

from .api_server import ApiProcess, ApiServer
from .conftest import (
    API_KEYS,
    TASK_QUEUE,
    bearer,
    emulator_env,
    free_port,
    genesys_requests,
    new_id,
    seed,
)
from .test_cli import assert_one_line, closer

PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
WRAPUP_CODE = "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11"
PROBLEM_JSON = "application/problem+json"


async def finished(http: httpx.AsyncClient, location: str) -> dict[str, Any]:
    """Follow a termination's Location until it is no longer running."""
    for _ in range(300):
        termination = (await http.get(location)).json()
        if termination["status"] != "running":
            return termination
        await asyncio.sleep(0.1)
    raise AssertionError(f"still running: {termination}")


def problems_of_parse(body: Any) -> list[str]:
    """What the contract itself (the CLI, the Python helper, the workflow) says about ``body``."""
    with pytest.raises(InvalidInput) as raised:
        parse(TerminateRequest, body)
    return raised.value.problems


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == status and problem["type"] == "about:blank" and problem["detail"]
    return problem


async def assert_not_started(client: Client, conversation_id: str) -> None:
    with pytest.raises(RPCError) as raised:
        await client.get_workflow_handle(workflow_id(conversation_id)).describe()
    assert raised.value.status == RPCStatusCode.NOT_FOUND


# Starting, waiting, reading


async def test_start_answers_202_with_location_then_the_result_is_there(
    http: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    cid = seed(emulator, "bot")["conversationId"]

    started = await http.post("/v1/terminations", json={"conversationId": cid, "reason": "api test"})

    assert started.status_code == 202, started.text
    assert started.headers["location"] == f"/v1/terminations/{cid}"
    assert started.json() == {
        "conversationId": cid,
        "workflowId": workflow_id(cid),
        "status": "running",
        "currentStep": None,
        "steps": [],
        "result": None,
        "error": None,
    }
    termination = await finished(http, started.headers["location"])
    assert termination["status"] == "finished"
    assert termination["result"]["outcome"] == "closed"
    assert termination["steps"] == termination["result"]["steps"]
    assert termination["steps"][0]["name"] == "lookup"


async def test_wait_answers_200_with_the_closed_result(http: httpx.AsyncClient, emulator: EmulatorServer) -> None:
    cid = seed(emulator, "agent")["conversationId"]

    response = await http.post(
        "/v1/terminations", params={"wait": 30}, json={"conversationId": cid, "goodbye": "Thanks, bye!"}
    )

    assert response.status_code == 200, response.text
    assert response.headers["location"] == f"/v1/terminations/{cid}"
    termination = response.json()
    assert termination["status"] == "finished"
    assert termination["result"]["outcome"] == "closed"
    assert termination["result"]["goodbye"] == "sent"
    assert emulator.admin.conversation(cid)["endTime"] is not None


async def test_running_shows_the_step_under_way_then_finished_shows_the_result(
    http: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    hold = emulator.admin.hold("PATCH", PARTICIPANT_PATCH, count=1)  # the agent's disconnect, held
    try:
        started = await http.post("/v1/terminations", json={"conversationId": cid})
        while not emulator.admin.hold_status(hold)["engaged"]:
            await asyncio.sleep(0.05)

        waited = await http.post("/v1/terminations", params={"wait": 0.5}, json={"conversationId": cid})
        running = await http.get(started.headers["location"])
    finally:
        emulator.admin.release(hold)

    assert waited.status_code == 202, waited.text  # joined the running one; the wait ran out
    for termination in (waited.json(), running.json()):
        assert termination["status"] == "running"
        assert termination["currentStep"] == "disconnect participant"
        assert [step["name"] for step in termination["steps"]] == ["lookup"]
        assert termination["result"] is None
    done = await finished(http, started.headers["location"])
    assert done["status"] == "finished" and done["currentStep"] is None
    assert done["result"]["outcome"] == "closed"


async def test_the_same_conversation_gets_the_same_termination(
    http: httpx.AsyncClient, emulator: EmulatorServer
) -> None:
    cid = seed(emulator, "bot")["conversationId"]
    first = await http.post("/v1/terminations", params={"wait": 30}, json={"conversationId": cid})
    calls = len(genesys_requests(emulator, cid))

    # snake_case, and other options: still the one termination, not run again.
    again = await http.post("/v1/terminations", json={"conversation_id": cid, "goodbye": "Bye!"})

    assert first.status_code == again.status_code == 200, (first.text, again.text)
    assert again.json() == first.json()
    assert len(genesys_requests(emulator, cid)) == calls  # no second lookup


async def test_a_failed_termination_runs_again(http: httpx.AsyncClient, emulator: EmulatorServer) -> None:
    cid = seed(emulator, "agent", wrapup_prompt="mandatory")["conversationId"]
    failed = await http.post(
        "/v1/terminations",
        params={"wait": 30},
        json={"conversationId": cid, "allowTeardown": False, "verifyTimeoutSeconds": 1},
    )
    assert failed.status_code == 200, failed.text
    assert failed.json()["status"] == "finished"  # the workflow finished; its outcome is `failed`
    assert failed.json()["result"]["outcome"] == "failed"
    assert "give a wrap-up code" in failed.json()["result"]["error"]

    again = await http.post(
        "/v1/terminations", params={"wait": 30}, json={"conversationId": cid, "wrapupCode": WRAPUP_CODE}
    )

    assert again.status_code == 200, again.text
    assert again.json()["result"]["outcome"] == "closed"


async def test_a_workflow_failed_by_another_client_shows_failed_then_runs_again(
    http: httpx.AsyncClient, temporal_client: Client
) -> None:
    cid = new_id()
    bad_input = {"conversationId": cid, "goodBye": "x"}
    # Started by a client that does not validate: the workflow fails on its input at once.
    handle = await temporal_client.start_workflow(WORKFLOW_TYPE, bad_input, id=workflow_id(cid), task_queue=TASK_QUEUE)
    with pytest.raises(WorkflowFailureError):
        await handle.result()

    shown = await http.get(f"/v1/terminations/{cid}")

    assert shown.status_code == 200, shown.text
    assert shown.json()["status"] == "failed"
    assert shown.json()["error"] == "workflow failed: invalid input: " + "; ".join(problems_of_parse(bad_input))
    rerun = await http.post("/v1/terminations", params={"wait": 30}, json={"conversationId": cid})
    assert rerun.status_code == 200, rerun.text
    assert rerun.json()["result"]["outcome"] == "not_found"  # the emulator has no such conversation


async def test_without_a_worker_a_termination_reads_as_running_then_an_operator_ends_it(
    http: httpx.AsyncClient, temporal_client: Client
) -> None:
    cid = new_id()
    handle = await temporal_client.start_workflow(
        WORKFLOW_TYPE, {"conversationId": cid}, id=workflow_id(cid), task_queue=f"nobody-polls-{cid}"
    )

    running = await http.get(f"/v1/terminations/{cid}")  # the progress query goes unanswered

    assert running.status_code == 200, running.text
    assert running.json()["status"] == "running" and running.json()["currentStep"] is None
    await handle.terminate(reason="operator: wrong conversation")
    ended = await http.get(f"/v1/terminations/{cid}")
    assert ended.json()["status"] == "failed"
    assert ended.json()["error"] == "workflow terminated: operator: wrong conversation"


async def test_unknown_conversation_is_a_404(http: httpx.AsyncClient) -> None:
    problem = assert_problem(await http.get(f"/v1/terminations/{new_id()}"), 404)

    assert "POST /v1/terminations" in problem["detail"]


# API keys


async def test_v1_needs_one_of_the_api_keys(api: ApiServer, temporal_client: Client) -> None:
    cid = new_id()
    async with httpx.AsyncClient(base_url=api.url) as http:
        missing = await http.post("/v1/terminations", json={"conversationId": cid})
        wrong = await http.post("/v1/terminations", json={"conversationId": cid}, headers=bearer("not-a-key"))
        basic = await http.get(f"/v1/terminations/{cid}", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        rotated = await http.get(f"/v1/terminations/{cid}", headers=bearer(API_KEYS[1]))

    for refused in (missing, wrong, basic):
        assert_problem(refused, 401)
        assert refused.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in wrong.headers["www-authenticate"]
    assert "not-a-key" not in wrong.text
    assert rotated.status_code == 404  # let in: there is just no such termination
    await assert_not_started(temporal_client, cid)


async def test_health_needs_no_key(api: ApiServer) -> None:
    async with httpx.AsyncClient(base_url=api.url) as http:
        alive = await http.get("/healthz")
        ready = await http.get("/readyz")

    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


# Bad input: 422, naming the field, in the contract's own words


CID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
BAD_BODIES = {
    "unknown camelCase field": ({"conversationId": CID, "goodBye": "x"}, "goodBye: unknown field"),
    "wrong type": ({"conversationId": CID, "allowTeardown": "maybe"}, "allowTeardown: "),
    "missing conversationId": ({"goodbye": "Bye!"}, "conversationId: required"),
    "not a UUID": ({"conversationId": "12345"}, "conversationId: '12345' is not a UUID"),
    "goodbye too long": (
        {"conversationId": CID, "goodbye": "x" * 2001},
        "goodbye is 2001 characters: Genesys accepts at most 2000",
    ),
    "not an object": ([CID], "expected a JSON object (TerminateRequest with conversationId), got an array"),
}


@pytest.mark.parametrize("body, says", BAD_BODIES.values(), ids=BAD_BODIES.keys())
async def test_bad_body_is_a_422_in_the_contracts_words(
    http: httpx.AsyncClient, temporal_client: Client, body: Any, says: str
) -> None:
    response = await http.post("/v1/terminations", json=body)

    problem = assert_problem(response, 422)
    assert problem["problems"] == problems_of_parse(body)  # one contract: the CLI's very lines
    assert says in problem["problems"][0]
    assert "x" * 100 not in response.text  # customer text is never echoed
    await assert_not_started(temporal_client, CID)


@pytest.mark.parametrize("body", [b'{"conversationId": ', b"", b"\xff\xfe{"], ids=["truncated", "empty", "not UTF-8"])
async def test_malformed_json_is_a_422(http: httpx.AsyncClient, body: bytes) -> None:
    response = await http.post("/v1/terminations", content=body, headers={"content-type": "application/json"})

    problem = assert_problem(response, 422)
    with pytest.raises(InvalidInput) as raised:
        parse_json(TerminateRequest, body)
    assert problem["problems"] == raised.value.problems
    assert problem["problems"][0].startswith("expected a JSON object (TerminateRequest with conversationId), got ")


@pytest.mark.parametrize("wait", ["61", "0", "soon"])
async def test_wait_must_be_up_to_60_seconds(http: httpx.AsyncClient, wait: str) -> None:
    response = await http.post("/v1/terminations", params={"wait": wait}, json={"conversationId": new_id()})

    problem = assert_problem(response, 422)
    assert len(problem["problems"]) == 1 and problem["problems"][0].startswith("wait: ")


async def test_conversation_id_in_the_path_is_checked_like_in_the_body(http: httpx.AsyncClient) -> None:
    problem = assert_problem(await http.get("/v1/terminations/not-a-uuid"), 422)

    assert problem["problems"] == problems_of_parse({"conversationId": "not-a-uuid"})


# Temporal down


async def test_unreachable_temporal_is_a_503_and_the_api_still_starts() -> None:
    with ApiServer(TemporalSettings(address=f"127.0.0.1:{free_port()}"), API_KEYS) as down:
        async with httpx.AsyncClient(base_url=down.url, headers=bearer(API_KEYS[0])) as http:
            alive = await http.get("/healthz")
            ready = await http.get("/readyz")
            start = await http.post("/v1/terminations", json={"conversationId": new_id()})
            read = await http.get(f"/v1/terminations/{new_id()}")
            bad = await http.post("/v1/terminations", json={"conversationId": "12345"})

    assert alive.status_code == 200
    for unavailable in (ready, start, read):
        assert "try again" in assert_problem(unavailable, 503)["detail"]
    assert_problem(bad, 422)  # input is checked before Temporal is needed


# `closer api`, the command


async def test_closer_api_needs_api_keys(temporal_env: WorkflowEnvironment, emulator: EmulatorServer) -> None:
    env = emulator_env(temporal_env.client.service_client.config.target_host, TASK_QUEUE, emulator.url)

    run = await closer(env, "api", "--port", str(free_port()))

    assert_one_line(run, "CLOSER_API_KEYS")


async def test_closer_api_serves_and_logs_no_key_and_no_customer_text(
    temporal_env: WorkflowEnvironment, worker: str, emulator: EmulatorServer
) -> None:
    env = {
        **emulator_env(temporal_env.client.service_client.config.target_host, worker, emulator.url),
        "CLOSER_API_KEYS": ",".join(API_KEYS),
    }
    cid = seed(emulator, "agent")["conversationId"]
    goodbye = f"Goodbye, and thanks for order {new_id()}"
    api = ApiProcess(env)
    async with api as http:
        docs = await http.get("/docs")
        openapi = (await http.get("/openapi.json")).json()
        refused = await http.post("/v1/terminations", json={"conversationId": cid}, headers=bearer("wrong-key"))
        closed = await http.post(
            "/v1/terminations",
            params={"wait": 30},
            json={"conversationId": cid, "goodbye": goodbye},
            headers=bearer(API_KEYS[1]),
        )

    assert docs.status_code == 200 and "/openapi.json" in docs.text
    assert "/v1/terminations/{conversationId}" in openapi["paths"]
    assert refused.status_code == 401
    assert closed.status_code == 200 and closed.json()["result"]["goodbye"] == "sent", closed.text
    logs = api.output
    assert "POST /v1/terminations" in logs  # it does log requests ...
    for secret in (*API_KEYS, "wrong-key", goodbye):
        assert secret not in logs  # ... but never a key or what the customer is told
