"""The workflow sandbox closer's workers and replayers use.

The sandbox re-imports, for every workflow run, each module a workflow file imports that is not
passed through. closer's model modules are deterministic (pydantic models and pure functions), so
they are passed through: one copy of each class for every run and for the worker's data converter
(two copies of ``TerminateResult`` do not validate as each other), and no models rebuilt per run.
"""

from __future__ import annotations

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


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*DETERMINISTIC_MODULES)
    )
