"""The compose stack and the image, checked without a container engine (none runs here).

docker-compose.yml must follow the Compose specification (its JSON schema, shipped by
check-jsonschema) and agree with the code: every closer service runs a command the image installs,
passes only variables the code reads, and resolves (with .env.example) to settings the code accepts;
the admin step creates exactly the search attributes the workflows upsert (and its script does so on
a real server); images are pinned; every service has a restart policy and a health check or a start
condition; no secret is written in the file.
"""

from __future__ import annotations

import ast
import asyncio
import re
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import tomllib
import yaml
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from closer.api.auth import api_keys_from_env
from closer.dev_server import TEMPORAL_CLI
from closer.settings import Settings, TemporalSettings
from emulator.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from emulator.server import EmulatorServer
from workflows.search_attributes import ALL

from .api_server import ApiServer

REPO = Path(__file__).resolve().parent.parent
COMPOSE_FILE = REPO / "docker-compose.yml"
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())  # anchors and `<<` merges resolved
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
#: The services run from closer's own image (built from this repository).
CLOSER_SERVICES = {name: service for name, service in SERVICES.items() if "build" in service}
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
ENV_EXAMPLE = REPO / ".env.example"
#: The source the image installs (where the variables a closer service gets must be read).
SOURCES = [
    *(p for d in ("closer", "activities", "genesys", "emulator", "workflows") for p in (REPO / d).rglob("*.py")),
    REPO / "worker.py",
]
SECRET_NAME = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|(^|_)KEYS?($|_)")


# Compose's variable syntax: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, ${VAR?message}, $VAR, $$.
_VARIABLE = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


class MissingVariable(LookupError):
    pass


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """As compose does, for one string; MissingVariable with the file's own message for a required one."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        unset = current is None or (op is not None and op.startswith(":") and current == "")
        if op in ("-", ":-"):
            return arg if unset else current  # type: ignore[return-value]
        if op in ("?", ":?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        return current or ""

    return _VARIABLE.sub(one, value)


def resolved(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolved(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolved(value, env) for key, value in node.items()}
    return node


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings(value)


def example_env() -> dict[str, str]:
    """.env.example's active lines, as compose reads them."""
    lines = (line.strip() for line in ENV_EXAMPLE.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def example_names() -> set[str]:
    """Every variable .env.example mentions, set or commented out (`# NAME=`)."""
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", ENV_EXAMPLE.read_text(), re.MULTILINE))


def environment(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    assert isinstance(env, dict), "environment as a mapping, so names can be checked"
    return env


def dockerfile_stages() -> list[list[str]]:
    """The Dockerfile's instructions (continuations joined, comments dropped), one list per stage."""
    text = re.sub(r"\\\n", " ", (REPO / "Dockerfile").read_text())
    stages: list[list[str]] = []
    for line in (line.strip() for line in text.splitlines()):
        if not line or line.startswith("#"):
            continue
        if line.upper().startswith("FROM "):
            stages.append([])
        stages[-1].append(line)
    return stages


def command_of(service: dict[str, Any]) -> list[str]:
    """A closer service's command, or the image's own (the Dockerfile's CMD)."""
    if "command" in service:
        command = service["command"]
        return command if isinstance(command, list) else shlex.split(command)
    cmd = next(line for line in reversed(dockerfile_stages()[-1]) if line.upper().startswith("CMD "))
    return list(yaml.safe_load(cmd[4:]))


def option(argv: list[str], name: str) -> str | None:
    return argv[argv.index(name) + 1] if name in argv else None


# The file as a whole


def test_compose_file_follows_the_compose_specification() -> None:
    run = subprocess.run(
        [
            str(Path(sys.executable).parent / "check-jsonschema"),
            "--builtin-schema",
            "vendor.compose-spec",
            str(COMPOSE_FILE),
        ],
        capture_output=True,
        text=True,
    )

    assert run.returncode == 0, run.stdout + run.stderr


def test_images_are_pinned() -> None:
    for name, service in SERVICES.items():
        image = interpolate(service["image"], {})
        repository, _, tag = image.rpartition(":")
        assert repository and tag and "/" not in tag, f"{name}: {image} has no tag"
        assert tag != "latest", f"{name}: {image}"
    for service in CLOSER_SERVICES.values():
        assert interpolate(service["image"], {}) == f"closer:{PYPROJECT['project']['version']}", (
            "closer's image tag is its version"
        )
    for stage in dockerfile_stages():
        base = stage[0].split()[1]
        assert base == "python:3.11-slim", stage[0]


def test_every_service_restarts_and_has_a_health_check_or_a_start_condition() -> None:
    one_shot = {
        dep
        for s in SERVICES.values()
        for dep, how in (s.get("depends_on") or {}).items()
        if how["condition"] == "service_completed_successfully"
    }
    for name, service in SERVICES.items():
        restart = service.get("restart", "")
        if name in one_shot:
            assert restart.startswith("on-failure"), f"{name}: a one-shot step retries on failure only, not {restart!r}"
        else:
            assert restart in ("unless-stopped", "always"), f"{name}: restart {restart!r}"
        depends_on = service.get("depends_on") or {}
        assert "healthcheck" in service or depends_on, f"{name}: neither a health check nor a start condition"
        for dependency, how in depends_on.items():
            assert how["condition"] in ("service_healthy", "service_completed_successfully"), f"{name} -> {dependency}"
            if how["condition"] == "service_healthy":
                assert "healthcheck" in SERVICES[dependency], (
                    f"{name} waits for {dependency} to be healthy: it has no health check"
                )
            assert "profiles" not in SERVICES[dependency], (
                f"{name} depends on {dependency}, which only some profiles start"
            )


def test_no_secret_is_written_in_the_file() -> None:
    for name, service in SERVICES.items():
        for key, value in environment(service).items():
            if not SECRET_NAME.search(key):
                continue
            match = re.fullmatch(r"\$\{[A-Z_][A-Z0-9_]*(?P<op>:?[-?])?(?P<arg>[^}]*)\}", str(value))
            assert match, f"{name}: {key} must come from the environment or .env, not be written here"
            assert match.group("op") not in ("-", ":-") or match.group("arg") == "", f"{name}: {key} has a default"


def test_required_settings_stop_compose_with_a_message_naming_them() -> None:
    env = example_env()

    with pytest.raises(MissingVariable) as raised:
        resolved(COMPOSE, env)

    assert raised.value.args[0].startswith(
        ("POSTGRES_PASSWORD: set POSTGRES_PASSWORD", "CLOSER_API_KEYS: set CLOSER_API_KEYS")
    )
    for required in ("POSTGRES_PASSWORD", "CLOSER_API_KEYS"):
        with pytest.raises(MissingVariable, match=f"^{required}: set {required}"):
            resolved(COMPOSE, {**env, "POSTGRES_PASSWORD": "p", "CLOSER_API_KEYS": "k", required: ""})


# The closer services against the code


@pytest.mark.parametrize("name", sorted(CLOSER_SERVICES))
def test_closer_services_run_an_entry_point_the_image_installs(name: str) -> None:
    argv = command_of(CLOSER_SERVICES[name])

    if argv[0] == "closer":
        assert PYPROJECT["project"]["scripts"]["closer"] == "closer.cli:main"
        # Every subcommand and option named exists (--help is eager: it exits 0 once all parsed).
        run = subprocess.run(
            [sys.executable, "-m", "closer", *argv[1:], "--help"], capture_output=True, text=True, cwd=REPO
        )
        assert run.returncode == 0, run.stderr
    else:
        assert argv == ["python", "worker.py"], argv
        assert "worker" in PYPROJECT["tool"]["setuptools"]["py-modules"]
        final = dockerfile_stages()[-1]
        assert "WORKDIR /app" in final and any(line.startswith("COPY") and "worker.py" in line for line in final), (
            "worker.py in the image's workdir"
        )


def test_the_image_default_command_is_the_worker() -> None:
    assert command_of({}) == ["python", "worker.py"]


def _read_names() -> tuple[set[str], set[str]]:
    """String constants in the code the image installs (docstrings excluded), and the constant
    pieces of f-strings: names are read whole (``"CLOSER_TASK_QUEUE"``) or composed
    (``f"{prefix}API_URL"`` with the prefix ``"CLOSER_GENESYS_"``)."""
    constants: set[str] = set()
    pieces: set[str] = set()
    for path in SOURCES:
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                pieces.update(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                constants.add(node.value)
    return constants, pieces


@pytest.mark.parametrize("name", sorted(CLOSER_SERVICES))
def test_closer_services_get_only_variables_the_code_reads(name: str) -> None:
    constants, pieces = _read_names()

    for variable in environment(CLOSER_SERVICES[name]):
        composed = any(
            variable.startswith(prefix) and variable[len(prefix) :] in pieces | constants
            for prefix in constants
            if prefix
        )
        read = variable in constants or composed
        assert read, f"{name}: {variable} is read nowhere in the code"


def test_with_the_example_env_the_closer_services_resolve_to_settings_the_code_accepts() -> None:
    stack = resolved(COMPOSE, {**example_env(), "POSTGRES_PASSWORD": "p", "CLOSER_API_KEYS": "key-1,key-2"})
    services = stack["services"]

    worker = Settings.from_env({k: str(v) for k, v in services["worker"]["environment"].items()})
    api_env = {k: str(v) for k, v in services["api"]["environment"].items()}

    for temporal in (worker.temporal, TemporalSettings.from_env(api_env)):
        assert temporal.problem is None
        assert temporal.connect_options() == {"target_host": "temporal:7233", "namespace": "default", "tls": False}
    assert api_keys_from_env(api_env) == ["key-1", "key-2"]
    # .env.example as shipped: the emulator, as the emulator service serves it.
    emulator = services["emulator"]
    emulator_url = f"http://emulator:{option(command_of(emulator), '--port')}"
    assert option(command_of(emulator), "--host") == "0.0.0.0"
    profile = worker.profiles["default"]
    assert (profile.client_id, profile.client_secret.get_secret_value()) == (DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    assert (profile.api_url, profile.login_url) == (emulator_url, emulator_url)
    assert emulator["profiles"] == ["emulator"]
    assert option(command_of(services["api"]), "--host") == "0.0.0.0"


def test_env_example_lists_every_variable_the_file_reads_and_holds_no_secret() -> None:
    interpolated = {
        m.group("name") or m.group("bare")
        for text in strings(COMPOSE)
        for m in _VARIABLE.finditer(text)
        if m.group(0) != "$$"
    }

    assert interpolated - example_names() == set()
    for key, value in example_env().items():
        if SECRET_NAME.search(key):
            assert value in ("", DEFAULT_CLIENT_SECRET), (
                f".env.example: {key} holds a value (only the emulator's public one may)"
            )
    ignored = (REPO / ".dockerignore").read_text().splitlines()
    assert ".env" in (REPO / ".gitignore").read_text().splitlines() and ".env" in ignored and "tests" in ignored


def test_the_image_is_multi_stage_without_dev_dependencies_and_not_root() -> None:
    stages = dockerfile_stages()
    build, final = stages[0], stages[-1]

    assert len(stages) >= 2
    assert not any("[dev]" in line or ".[" in line for stage in stages for line in stage), "no extra in the image"
    copied = " ".join(line for line in build if line.startswith("COPY"))
    for package in PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]:
        assert re.search(rf"\b{package.rstrip('*')}\b", copied), f"the build stage does not copy {package}"
    users = [line.split()[1] for line in final if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as an unprivileged user"
    assert any(line.startswith("COPY --from=") for line in final), "the final stage takes the build's result only"


# The admin step and the health checks, run for real


def test_admin_step_creates_the_search_attributes_the_workflows_upsert() -> None:
    wanted = SERVICES["temporal-setup"]["environment"]["CLOSER_SEARCH_ATTRIBUTES"].split()

    assert sorted(wanted) == sorted(f"{key.name}={_type_name(key.indexed_value_type)}" for key in ALL)
    assert SERVICES["worker"]["depends_on"] == {"temporal-setup": {"condition": "service_completed_successfully"}}


def _type_name(value: int) -> str:
    """As Temporal's CLI spells it: Keyword, KeywordList, Datetime, ..."""
    return IndexedValueType.Name(int(value)).removeprefix("INDEXED_VALUE_TYPE_").title().replace("_", "")


async def test_the_admin_script_creates_namespace_and_search_attributes_on_a_real_server(
    temporal_env: WorkflowEnvironment,
) -> None:
    setup = SERVICES["temporal-setup"]
    script = REPO / "deploy" / "temporal" / Path(setup["entrypoint"][-1]).name
    namespace = f"closer-compose-{uuid.uuid4().hex[:8]}"  # new, so bare: none of closer's attributes yet
    env = {
        "PATH": f"{TEMPORAL_CLI.parent}:/usr/bin:/bin",  # the same `temporal` CLI admin-tools ships
        "TEMPORAL_ADDRESS": temporal_env.client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": namespace,
        "CLOSER_SEARCH_ATTRIBUTES": setup["environment"]["CLOSER_SEARCH_ATTRIBUTES"],
    }

    for _ in range(2):  # compose runs it on every `up`: the second run changes nothing
        process = await asyncio.create_subprocess_exec(
            "sh", str(script), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
        assert process.returncode == 0, output.decode()

    assert "already there" in output.decode() and "created" not in output.decode()
    listed = await temporal_env.client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    for key in ALL:
        assert listed.custom_attributes.get(key.name) == int(key.indexed_value_type), key.name


def _probe(service: dict[str, Any], url: str) -> subprocess.CompletedProcess[str]:
    """Run the service's health check (a `python -c` probe) against ``url`` instead of its own."""
    test = service["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"], test
    port = option(command_of(service), "--port")
    own = re.search(r"http://127\.0\.0\.1:(\d+)(/[^'\"]*)", test[3])
    assert own and own.group(1) == port, f"the probe checks port {own and own.group(1)}, the command serves {port}"
    return subprocess.run(
        [sys.executable, "-c", test[3].replace(own.group(0), url + own.group(2))],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_the_emulator_health_check_passes_on_an_emulator(session_emulator: EmulatorServer) -> None:
    run = _probe(SERVICES["emulator"], session_emulator.url)

    assert run.returncode == 0, run.stderr


def test_the_api_health_check_passes_when_ready_and_fails_without_temporal(api: ApiServer) -> None:
    ready = _probe(SERVICES["api"], api.url)
    with ApiServer(TemporalSettings(address="127.0.0.1:1"), ["k"]) as down:
        not_ready = _probe(SERVICES["api"], down.url)

    assert ready.returncode == 0, ready.stderr
    assert not_ready.returncode != 0
