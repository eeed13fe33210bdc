"""The HTTP API keeps the promises of its OpenAPI document, checked by schemathesis.

schemathesis's own runner (its CLI, as a user would run it) reads ``/openapi.json`` from the live
API and sends a few hundred generated requests: edge cases of every parameter and body field
("coverage"), random ones ("fuzzing") and sequences that follow ``Location`` (POST, then GET:
"stateful"). The conversation ids it invents are UUIDs no conversation has: each starts a real
termination, which the in-process worker ends `not_found` after one lookup.
"""

from __future__ import annotations

import asyncio
import json
import sysconfig
from pathlib import Path

from emulator.server import EmulatorServer

from .api_server import ApiServer
from .conftest import API_KEYS

SCHEMATHESIS = Path(sysconfig.get_path("scripts")) / "schemathesis"

CHECKS = [
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    # What the document says about auth, methods and resources holds as well.
    "ignored_auth",
    "missing_required_header",
    "unsupported_method",
    "use_after_free",
    "ensure_resource_availability",
]
#: Whatever the schema allows is accepted. Not its converse (`negative_data_rejection`): the
#: contract validates in pydantic's lax mode at every entry point, so 0 is a boolean there. Not for
#: watches either: their body has rules across fields no JSON Schema states (warnBefore shorter
#: than idle, a warning and its lead time together), so schema-valid bodies can rightly get a 422.
ACCEPTANCE = ("positive_data_acceptance", "terminations")


async def test_the_api_keeps_the_promises_of_its_openapi_document(
    api: ApiServer, worker: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    run = await _schemathesis(api, tmp_path / "all", "--checks", ",".join(CHECKS))

    assert run["operations"]["tested"] == run["operations"]["total"] == 8
    assert run["test_cases"]["generated"] >= 300
    assert run["failures"] == [] and run["errors"] == []


async def test_whatever_the_schema_allows_a_termination_accepts(
    api: ApiServer, worker: str, emulator: EmulatorServer, tmp_path: Path
) -> None:
    check, tag = ACCEPTANCE
    run = await _schemathesis(api, tmp_path / "acceptance", "--checks", check, "--include-tag", tag)

    assert run["operations"]["tested"] == 2
    assert run["failures"] == [] and run["errors"] == []


async def _schemathesis(api: ApiServer, workdir: Path, *options: str) -> dict:
    workdir.mkdir()
    report = workdir / "schemathesis.json"
    # A subprocess, awaited: the event loop, and with it the in-process worker, keeps running.
    process = await asyncio.create_subprocess_exec(
        str(SCHEMATHESIS), "run", f"{api.url}/openapi.json",
        "--header", f"Authorization: Bearer {API_KEYS[0]}",
        *options,
        "--max-examples", "40",
        "--generation-deterministic",  # the same requests on every run
        "--no-color",
        "--report", "json", "--report-json-path", str(report),
        cwd=workdir,  # where hypothesis keeps its example database
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode == 0, output.decode()
    return json.loads(report.read_text())
