"""The workflow runner closer's workers and replayers use.

By default, Temporal's sandbox: it re-imports, for every workflow run, each module a workflow file
imports that is not passed through, and refuses nondeterministic calls (the clock, random, I/O)
made from workflow code. closer's model modules are deterministic (pydantic models and pure
functions), so they are passed through: one copy of each class for every run and for the worker's
data converter (two copies of ``TerminateResult`` do not validate as each other), and no models
rebuilt per run.

The sandbox has a price per workflow kept in memory (its own copy of the workflow modules, about
55 KiB) and per workflow task (the SDK enters the sandbox for each payload it converts): for a
worker holding many thousands of watches it is most of the worker's CPU and a third of its memory.
``CLOSER_WORKFLOW_SANDBOX=off`` runs the same workflow code without it. The guard it gives up is
kept where code changes: the test suite and the replay tests always run the workflows sandboxed.
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
