"""Reaching Temporal the way Temporal's own CLI does (``temporalio.envconfig``): variables, API keys,
mTLS, config-file profiles; and a setting that cannot work is one line saying what to fix, from the
CLI and the worker (exit 2) and in the HTTP API's log (503).

The first half needs no server; the rest runs real processes against the session's dev server.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

import httpx
import pytest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from closer.settings import SettingsError, TemporalSettings
from emulator.server import EmulatorServer

from .api_server import ApiServer
from .conftest import API_KEYS, EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET, free_port, new_id, seed, unconfigured_env
from .test_cli import assert_not_started, assert_one_line, closer
from .worker_process import REPO

FAKE_CERT = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
FAKE_KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"


def settings(**env: str) -> TemporalSettings:
    return TemporalSettings.from_env(env)


def problem_of(**env: str) -> str:
    with pytest.raises(SettingsError) as raised:
        settings(**env).connect_options()
    message = str(raised.value)
    assert "\n" not in message
    return message


# From the environment, no server needed


def test_nothing_set_is_the_local_dev_server_without_tls() -> None:
    options = settings().connect_options()

    assert options == {"target_host": "localhost:7233", "namespace": "default", "tls": False}


def test_empty_variables_count_as_unset() -> None:
    # What compose passes for `${TEMPORAL_API_KEY:-}`: envconfig alone would take it as "TLS on".
    options = settings(
        TEMPORAL_ADDRESS="temporal:7233", TEMPORAL_API_KEY="", TEMPORAL_TLS="", TEMPORAL_NAMESPACE=""
    ).connect_options()

    assert options == {"target_host": "temporal:7233", "namespace": "default", "tls": False}


def test_an_api_key_turns_tls_on_and_never_shows() -> None:
    temporal = settings(
        TEMPORAL_ADDRESS="ns.acct.tmprl.cloud:7233", TEMPORAL_NAMESPACE="ns.acct", TEMPORAL_API_KEY="secret-key-1"
    )

    options = temporal.connect_options()

    assert options["api_key"] == "secret-key-1" and options["tls"] is True and options["namespace"] == "ns.acct"
    assert "secret-key-1" not in repr(temporal) + temporal.describe()
    assert temporal.describe() == "ns.acct.tmprl.cloud:7233 namespace ns.acct (TLS, API key)"


def test_mtls_from_pem_data_in_variables() -> None:
    temporal = settings(
        TEMPORAL_TLS_CLIENT_CERT_DATA=FAKE_CERT,
        TEMPORAL_TLS_CLIENT_KEY_DATA=FAKE_KEY,
        TEMPORAL_TLS_SERVER_NAME="temporal.internal",
    )

    tls = temporal.connect_options()["tls"]

    assert isinstance(tls, TLSConfig)
    assert (tls.client_cert, tls.client_private_key, tls.domain) == (
        FAKE_CERT.encode(),
        FAKE_KEY.encode(),
        "temporal.internal",
    )
    assert temporal.describe().endswith("(mTLS)")


def test_mtls_files_are_read_when_connecting(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    temporal = settings(TEMPORAL_TLS_CLIENT_CERT_PATH=str(cert), TEMPORAL_TLS_CLIENT_KEY_PATH=str(key))
    cert.write_text(FAKE_CERT)
    key.write_text(FAKE_KEY)  # written after the settings were read: a renewed file is picked up

    tls = temporal.connect_options()["tls"]

    assert isinstance(tls, TLSConfig) and tls.client_cert == FAKE_CERT.encode()


def test_a_profile_of_the_config_file_with_variables_overriding_it(tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(
        '[profile.prod]\naddress = "temporal.prod:7233"\nnamespace = "closer"\napi_key = "from-file"\n'
        '[profile.prod.grpc_meta]\nx-team = "support"\n'
    )

    temporal = settings(
        TEMPORAL_CONFIG_FILE=str(config), TEMPORAL_PROFILE="prod", TEMPORAL_NAMESPACE="closer-eu", CLOSER_TASK_QUEUE="q"
    )
    options = temporal.connect_options()

    assert options == {
        "target_host": "temporal.prod:7233",
        "namespace": "closer-eu",
        "api_key": "from-file",
        "tls": True,
        "rpc_metadata": {"x-team": "support"},
    }
    assert temporal.task_queue == "q"


@pytest.mark.parametrize(
    ("env", "fix"),
    [
        ({"TEMPORAL_ADDRESS": "localhost"}, ["TEMPORAL_ADDRESS='localhost' is not host:port", "localhost:7233"]),
        ({"TEMPORAL_ADDRESS": "http://temporal:7233"}, ["is not host:port", "no scheme"]),
        ({"TEMPORAL_ADDRESS": "temporal:99999"}, ["is not host:port"]),
        ({"TEMPORAL_TLS": "yes"}, ["TEMPORAL_TLS='yes'", "true or false"]),
        (
            {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/etc/closer/client.pem"},
            ["TEMPORAL_TLS_CLIENT_CERT_PATH is set but not TEMPORAL_TLS_CLIENT_KEY_PATH"],
        ),
        ({"TEMPORAL_TLS_DISABLE_HOST_VERIFICATION": "true"}, ["not supported", "TEMPORAL_TLS_SERVER_NAME"]),
        (
            {"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "ns.acct"},
            ["Temporal Cloud", "needs TLS", "TEMPORAL_API_KEY"],
        ),
        ({"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_API_KEY": "k"}, ["set TEMPORAL_NAMESPACE=ns.acct"]),
        (
            {"TEMPORAL_CONFIG_FILE": "/no/such/temporal.toml"},
            ["TEMPORAL_CONFIG_FILE: no such file /no/such/temporal.toml"],
        ),
    ],
)
def test_settings_that_cannot_work_say_what_to_fix(env: dict[str, str], fix: list[str]) -> None:
    message = problem_of(**env)

    for words in fix:
        assert words in message


def test_an_unknown_profile_is_named(tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text('[profile.default]\naddress = "localhost:7233"\n')

    message = problem_of(TEMPORAL_CONFIG_FILE=str(config), TEMPORAL_PROFILE="nowhere")

    assert (
        message
        == f"TEMPORAL_PROFILE='nowhere': no such profile in {config} (set TEMPORAL_CONFIG_FILE to the file that has it)"
    )


def test_a_missing_certificate_file_is_named(tmp_path: Path) -> None:
    message = problem_of(
        TEMPORAL_TLS_CLIENT_CERT_PATH=str(tmp_path / "client.pem"),
        TEMPORAL_TLS_CLIENT_KEY_PATH=str(tmp_path / "client.key"),
    )

    assert message == f"TEMPORAL_TLS_CLIENT_CERT_PATH: no such file {tmp_path / 'client.pem'} (the client certificate)"


def test_a_file_that_is_not_pem_is_named(tmp_path: Path) -> None:
    (tmp_path / "ca.der").write_bytes(b"\x30\x82\x01\x0a")

    message = problem_of(TEMPORAL_TLS_SERVER_CA_CERT_PATH=str(tmp_path / "ca.der"))

    assert message.startswith(f"TEMPORAL_TLS_SERVER_CA_CERT_PATH: {tmp_path / 'ca.der'} is not PEM")


def test_problems_in_a_profile_name_the_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(
        '[profile.prod]\naddress = "temporal.prod"\n[profile.prod.tls]\nclient_cert_path = "/etc/closer/client.pem"\n'
    )

    message = problem_of(TEMPORAL_CONFIG_FILE=str(config), TEMPORAL_PROFILE="prod")

    assert f"address in profile 'prod' of {config}='temporal.prod' is not host:port" in message
    assert f"tls.client_cert_path in profile 'prod' of {config} has no tls.client_key_path" in message


def test_a_malformed_config_file_is_named(tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text("[profile.prod\naddress =")

    assert problem_of(TEMPORAL_CONFIG_FILE=str(config)).startswith(f"Temporal config file {config}: ")


# Against the session's dev server: the CLI, the worker and the API as users run them


@pytest.fixture
def genesys_env(emulator: EmulatorServer) -> dict[str, str]:
    """An environment with the emulator's Genesys credentials and no Temporal setting at all."""
    return {
        **unconfigured_env(),
        "GENESYSCLOUD_OAUTHCLIENT_ID": EMULATOR_CLIENT_ID,
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": EMULATOR_CLIENT_SECRET,
        "CLOSER_GENESYS_API_URL": emulator.url,
        "CLOSER_GENESYS_LOGIN_URL": emulator.url,
    }


def config_file(tmp_path: Path, temporal_env: WorkflowEnvironment, **profile: str) -> Path:
    """A Temporal config file whose profile ``closer-test`` points at the session's dev server."""
    fields = {"address": temporal_env.client.service_client.config.target_host, "namespace": "default", **profile}
    path = tmp_path / "temporal.toml"
    lines = ["[profile.closer-test]", *(f'{key} = "{value}"' for key, value in fields.items())]
    # An API key turns TLS on (as for Temporal Cloud); the dev server speaks plain gRPC and ignores the key.
    lines += ["[profile.closer-test.tls]", "disabled = true"]
    path.write_text("\n".join(lines) + "\n")
    return path


async def spawn_worker(env: dict[str, str]) -> asyncio.subprocess.Process:
    """``python worker.py`` with ``env``, its stderr piped (where it logs)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(REPO / "worker.py"),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_worker(env: dict[str, str], *, seconds: float = 30) -> tuple[int, str]:
    """``python worker.py`` until it exits: its status and its stderr."""
    process = await spawn_worker(env)
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=seconds)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_worker_and_cli_through_a_config_file_profile(
    tmp_path: Path, temporal_env: WorkflowEnvironment, emulator: EmulatorServer, genesys_env: dict[str, str]
) -> None:
    config = config_file(tmp_path, temporal_env, api_key="profile-api-key")
    env = {
        **genesys_env,
        "TEMPORAL_CONFIG_FILE": str(config),
        "TEMPORAL_PROFILE": "closer-test",
        "CLOSER_TASK_QUEUE": f"profile-{new_id()}",
    }
    worker = await spawn_worker(env)
    try:
        assert worker.stderr is not None
        ready = await asyncio.wait_for(worker.stderr.readline(), timeout=30)
        while b"closer worker polling" not in ready:
            assert ready, "the worker exited before polling"
            ready = await asyncio.wait_for(worker.stderr.readline(), timeout=30)
        assert b"namespace default (TLS" not in ready  # TLS disabled in the profile
        cid = seed(emulator, "agent", wrapup_prompt="optional")["conversationId"]

        terminated = await closer(env, "terminate", cid, "--json")
        status = await closer(env, "watch", cid, "--status")
    finally:
        worker.terminate()
        await worker.wait()

    assert terminated.code == 0, terminated
    assert '"outcome": "closed"' in terminated.stdout
    assert_one_line(status, "no watch")  # reached Temporal through the profile, found no watch
    assert "profile-api-key" not in terminated.stdout + terminated.stderr + status.stderr


async def test_cli_missing_certificate_file_is_one_line(
    tmp_path: Path, genesys_env: dict[str, str], temporal_env: WorkflowEnvironment
) -> None:
    cid = new_id()
    env = {
        **genesys_env,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(tmp_path / "client.pem"),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(tmp_path / "client.key"),
    }

    run = await closer(env, "terminate", cid)

    assert_one_line(run, "TEMPORAL_TLS_CLIENT_CERT_PATH", str(tmp_path / "client.pem"))
    await assert_not_started(temporal_env.client, cid)


async def test_cli_malformed_address_is_one_line(genesys_env: dict[str, str]) -> None:
    run = await closer({**genesys_env, "TEMPORAL_ADDRESS": "http://localhost:7233"}, "watch", new_id(), "--status")

    assert_one_line(run, "TEMPORAL_ADDRESS='http://localhost:7233' is not host:port")


async def test_cli_unreachable_address_from_a_profile_names_the_file(
    tmp_path: Path, genesys_env: dict[str, str], temporal_env: WorkflowEnvironment
) -> None:
    address = f"127.0.0.1:{free_port()}"
    config = config_file(tmp_path, temporal_env, address=address)

    run = await closer(
        {**genesys_env, "TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "closer-test"}, "terminate", new_id()
    )

    assert_one_line(run, f"cannot reach Temporal at {address}", f"address in profile 'closer-test' of {config}")


async def test_cli_tls_against_a_server_without_tls_is_one_line(
    genesys_env: dict[str, str], temporal_env: WorkflowEnvironment
) -> None:
    env = {
        **genesys_env,
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_API_KEY": "some-key",
    }

    run = await closer(env, "terminate", new_id())

    assert_one_line(run, "does not speak TLS", "TEMPORAL_TLS=false")
    assert "some-key" not in run.stderr


@pytest.mark.parametrize(
    ("temporal", "fix"),
    [
        (
            {
                "TEMPORAL_TLS_CLIENT_CERT_PATH": "/no/such/client.pem",
                "TEMPORAL_TLS_CLIENT_KEY_PATH": "/no/such/client.key",
            },
            ["TEMPORAL_TLS_CLIENT_CERT_PATH: no such file /no/such/client.pem"],
        ),
        (
            {"TEMPORAL_NAMESPACE": "no-such-namespace"},
            ["namespace 'no-such-namespace' not found", "TEMPORAL_NAMESPACE"],
        ),
        ({"TEMPORAL_ADDRESS": "unreachable"}, ["TEMPORAL_ADDRESS='unreachable' is not host:port"]),
    ],
)
async def test_worker_bad_settings_are_one_line_exit_2(
    temporal: dict[str, str], fix: list[str], genesys_env: dict[str, str], temporal_env: WorkflowEnvironment
) -> None:
    env = {**genesys_env, "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host, **temporal}

    code, stderr = await run_worker(env)

    assert code == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("closer worker: ")
    for words in fix:
        assert words in lines[0]


async def test_worker_unreachable_temporal_is_one_line_exit_2(genesys_env: dict[str, str]) -> None:
    address = f"127.0.0.1:{free_port()}"

    code, stderr = await run_worker({**genesys_env, "TEMPORAL_ADDRESS": address})

    assert code == 2
    assert stderr.splitlines() == [
        f"closer worker: cannot reach Temporal at {address} (connection refused): start a server or set TEMPORAL_ADDRESS (and TEMPORAL_NAMESPACE) to a running one"
    ]


async def test_api_with_a_missing_certificate_answers_503_and_logs_what_to_fix(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "client.pem"
    temporal = TemporalSettings.from_env(
        {"TEMPORAL_TLS_CLIENT_CERT_PATH": str(missing), "TEMPORAL_TLS_CLIENT_KEY_PATH": str(tmp_path / "k")}
    )

    with caplog.at_level(logging.WARNING, logger="closer.api"), ApiServer(temporal, API_KEYS) as api:
        async with httpx.AsyncClient(base_url=api.url) as http:
            alive = await http.get("/healthz")
            ready = await http.get("/readyz")

    assert alive.status_code == 200
    assert ready.status_code == 503
    assert str(missing) not in ready.text  # the operator's log says what to fix, not the caller
    logged = [record.getMessage() for record in caplog.records if record.name.startswith("closer.api")]
    assert logged == [f"TEMPORAL_TLS_CLIENT_CERT_PATH: no such file {missing} (the client certificate)"]


async def test_api_through_a_config_file_profile_is_ready(tmp_path: Path, temporal_env: WorkflowEnvironment) -> None:
    config = config_file(tmp_path, temporal_env, api_key="profile-api-key")
    temporal = TemporalSettings.from_env({"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "closer-test"})

    with ApiServer(temporal, API_KEYS) as api:
        async with httpx.AsyncClient(base_url=api.url) as http:
            ready = await http.get("/readyz")

    assert ready.status_code == 200, ready.text
