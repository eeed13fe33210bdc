"""The workflow runner closer's workers and replayers use.

By default, Temporal's sandbox: it re-imports, for every workflow run, each module a workflow file
imports that is not passed through, and refuses nondeterministic calls (the clock, random, I/O)
made from workflow code. closer's model modules are deterministic (pydantic models and pure
functions), so they are passed through: one copy of each class for every run and for the worker's
data converter (two copies of ``TerminateResult`` do not validate as each other), and no models
rebuilt per run.

The sandbox has a price per workflow instance: its own copy of the workflow modules, kept for
every cached workflow (0.2 MiB a cached watch against 0.14 MiB without it), and the time to build
it, paid again by every replay of a workflow beyond the cache (twice the CPU of a replay without
it). ``CLOSER_WORKFLOW_SANDBOX=off`` runs the same workflow code without it, for a worker holding
thousands of watches. The guard it gives up is kept where code changes: the test suite's workers
always run the workflows sandboxed, and the replay tests replay every history both ways.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

DETERMINISTIC_MODULES = (
    "pydantic",
    "pydantic_core",
    "activities",
    "genesys",
    "workflows.contract",
    "workflows.durations",
    "workflows.models",
    "workflows.policies",
    "workflows.search_attributes",
    "workflows.sweep_models",
    "workflows.watch_models",
)

#: The variable that turns the sandbox off on a worker, and the values it takes.
SANDBOX_VARIABLE = "CLOSER_WORKFLOW_SANDBOX"
_SANDBOX_VALUES = {"on": True, "off": False}


def sandboxed(environ: Mapping[str, str] | None = None) -> bool:
    """Whether a worker runs workflows in the sandbox: CLOSER_WORKFLOW_SANDBOX ``on`` (the default,
    also when unset or empty) or ``off``; ValueError naming the variable for any other value."""
    env = os.environ if environ is None else environ
    value = env.get(SANDBOX_VARIABLE, "").strip().lower() or "on"
    if value not in _SANDBOX_VALUES:
        raise ValueError(
            f"{SANDBOX_VARIABLE} is {env[SANDBOX_VARIABLE]!r}: set it to on (the default) or off, or leave it unset"
        )
    return _SANDBOX_VALUES[value]


def workflow_runner(sandbox: bool = True) -> WorkflowRunner:
    if not sandbox:
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*DETERMINISTIC_MODULES)
    )
