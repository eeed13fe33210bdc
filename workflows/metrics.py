"""closer's workflow-side metrics: counted through ``workflow.metric_meter()``, which records
nothing while a workflow replays (a run replayed on another worker is not counted twice) and adds
the namespace, task queue and workflow type as attributes. No command, so no history change."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.metrics import CALLBACKS, SWEEP_WATCHES_STARTED, SWEEPS, TERMINATIONS, WATCHES

_DESCRIPTIONS = {
    TERMINATIONS: "Terminations finished, by outcome",
    WATCHES: "Watches finished, by outcome",
    SWEEPS: "Sweeps finished, by outcome (swept or failed)",
    SWEEP_WATCHES_STARTED: "Watches that sweeps started",
    CALLBACKS: "Closure callbacks finished, by status (delivered, or failed after every retry)",
}


def count(name: str, value: int = 1, **attributes: str) -> None:
    """Add ``value`` to closer's counter ``name`` (one of activities.metrics' names)."""
    if value:
        workflow.metric_meter().create_counter(name, _DESCRIPTIONS[name]).add(value, attributes)
