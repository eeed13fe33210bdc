"""The ``closer`` command as a user runs it: a real process, a real Temporal dev server, the emulator.

Bad input must stop before anything starts, with one line that says what to fix; a good request
shows its steps and its result.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass

import pytest
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from emulator.server import EmulatorServer
from workflows import workflow_id

from .conftest import (
    EMULATOR_CLIENT_SECRET,
    free_port,
    new_id,
    seed,
    unconfigured_env,
)

WRAPUP_CODE = "5f8a5b2e-6a31-4c55-9a63-2f1d2f6c0a11"


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


async def closer(env: dict[str, str], *args: str) -> Run:
    """Run ``closer`` in its own process; the event loop (and the session's worker) keeps going."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "closer", *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return Run(process.returncode, stdout.decode(), stderr.decode())


async def assert_not_started(client: Client, conversation_id: str) -> None:
    with pytest.raises(RPCError) as raised:
        await client.get_workflow_handle(workflow_id(conversation_id)).describe()
    assert raised.value.status == RPCStatusCode.NOT_FOUND


def assert_one_line(run: Run, *fix: str) -> None:
    assert run.code == 2, run
    assert run.stdout == ""
    lines = run.stderr.splitlines()
    assert len(lines) == 1, run.stderr
    for words in fix:
        assert words in lines[0], lines[0]


async def test_not_a_uuid(cli_env: dict[str, str]) -> None:
    run = await closer(cli_env, "terminate", "not-a-uuid")

    assert_one_line(run, "'not-a-uuid' is not a UUID")


async def test_unknown_profile_names_the_variables_that_define_it(
    cli_env: dict[str, str], temporal_client: Client
) -> None:
    cid = new_id()

    run = await closer(cli_env, "terminate", cid, "--profile", "eu")

    assert_one_line(run, "'eu'", "configured here: default", "CLOSER_PROFILE_EU_OAUTHCLIENT_ID")
    await assert_not_started(temporal_client, cid)


async def test_no_credentials_at_all(cli_env: dict[str, str], temporal_client: Client) -> None:
    env = {k: v for k, v in cli_env.items() if not k.startswith("GENESYSCLOUD_")}
    cid = new_id()

    run = await closer(env, "terminate", cid)

    assert_one_line(run, "configured here: none", "GENESYSCLOUD_OAUTHCLIENT_ID")
    await assert_not_started(temporal_client, cid)


async def test_goodbye_too_long(cli_env: dict[str, str], temporal_client: Client) -> None:
    cid = new_id()

    run = await closer(cli_env, "terminate", cid, "--goodbye", "x" * 2001)

    assert_one_line(run, "2001 characters", "at most 2000")
    await assert_not_started(temporal_client, cid)


async def test_unreachable_temporal(cli_env: dict[str, str]) -> None:
    address = f"127.0.0.1:{free_port()}"

    run = await closer({**cli_env, "TEMPORAL_ADDRESS": address}, "terminate", new_id())

    assert_one_line(run, address, "TEMPORAL_ADDRESS")


async def test_terminate_waits_shows_each_step_and_the_result(
    cli_env: dict[str, str], emulator: EmulatorServer
) -> None:
    cid = seed(emulator, "agent", wrapup_prompt="mandatory")["conversationId"]

    run = await closer(
        cli_env, "terminate", cid, "--goodbye", "Thanks, bye!", "--wrapup-code", WRAPUP_CODE, "--reason", "cli test"
    )

    assert run.code == 0, run
    lines = run.stdout.splitlines()
    assert lines[0] == f"{workflow_id(cid)} on task queue {cli_env['CLOSER_TASK_QUEUE']}"
    steps = [line.split("  ")[1].strip() for line in lines[1 : lines.index("outcome      closed")]]
    assert steps == ["lookup", "send goodbye", "disconnect participant", "disconnect participant", "verify"], lines
    assert any(line.startswith("goodbye      sent") for line in lines)
    assert emulator.admin.conversation(cid)["endTime"] is not None
    assert EMULATOR_CLIENT_SECRET not in run.stdout + run.stderr


async def test_json_result_of_a_finished_termination(cli_env: dict[str, str], emulator: EmulatorServer) -> None:
    cid = seed(emulator, "bot")["conversationId"]
    first = await closer(cli_env, "terminate", cid, "--json")

    again = await closer(cli_env, "terminate", cid, "--json")

    assert first.code == again.code == 0, (first, again)
    result = json.loads(again.stdout)
    assert result["outcome"] == "closed"
    assert result == json.loads(first.stdout)  # joined the finished workflow, did not run it again


async def test_no_wait_prints_the_workflow_id(
    cli_env: dict[str, str], emulator: EmulatorServer, temporal_client: Client
) -> None:
    cid = seed(emulator, "bot")["conversationId"]

    run = await closer(cli_env, "terminate", cid, "--no-wait")

    assert run.code == 0, run
    assert run.stdout.strip() == workflow_id(cid)
    result = await temporal_client.get_workflow_handle(workflow_id(cid)).result()
    assert result["outcome"] == "closed"


async def test_failed_termination_exits_1_with_what_to_fix(cli_env: dict[str, str], emulator: EmulatorServer) -> None:
    cid = seed(emulator, "agent", wrapup_prompt="mandatory")["conversationId"]

    run = await closer(cli_env, "terminate", cid, "--no-teardown", "--verify-timeout", "1")

    assert run.code == 1, run
    assert "outcome      failed" in run.stdout
    assert "give a wrap-up code" in run.stdout


async def test_demo_ends_every_scenario_as_expected() -> None:
    run = await closer(unconfigured_env(), "demo")

    assert run.code == 0, run
    assert "all as expected" in run.stdout
    for outcome in ("closed", "already_closed", "forced", "not_found", "not_web_messaging"):
        assert f" {outcome} " in run.stdout


async def test_demo_on_a_real_org_needs_conversation_ids(cli_env: dict[str, str]) -> None:
    run = await closer(cli_env, "demo")

    assert_one_line(run, "closer demo ID")


async def test_the_cli_needs_client_ids_but_not_secrets(cli_env: dict[str, str], temporal_client: Client) -> None:
    """The secret belongs to the worker; the CLI only checks the profile's name."""
    env = {k: v for k, v in cli_env.items() if k != "GENESYSCLOUD_OAUTHCLIENT_SECRET"}

    run = await closer(env, "terminate", new_id(), "--no-wait")

    assert run.code == 0, run
