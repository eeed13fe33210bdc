"""The worker's limits from CLOSER_MAX_* (worker.worker_limits)."""

import pytest

from worker import worker_limits


def test_unset_or_empty_leaves_the_sdk_defaults() -> None:
    assert worker_limits({}) == {}
    assert worker_limits({"CLOSER_MAX_CACHED_WORKFLOWS": " "}) == {}


def test_set_values_become_worker_arguments() -> None:
    env = {
        "CLOSER_MAX_CACHED_WORKFLOWS": "4000",
        "CLOSER_MAX_CONCURRENT_WORKFLOW_TASKS": "50",
        "CLOSER_MAX_CONCURRENT_ACTIVITIES": "200",
    }
    assert worker_limits(env) == {
        "max_cached_workflows": 4000,
        "max_concurrent_workflow_tasks": 50,
        "max_concurrent_activities": 200,
    }
    assert worker_limits({"CLOSER_MAX_CACHED_WORKFLOWS": "0"}) == {"max_cached_workflows": 0}


@pytest.mark.parametrize("value", ["0", "-1", "many", "1.5"])
def test_bad_values_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match="CLOSER_MAX_CONCURRENT_ACTIVITIES"):
        worker_limits({"CLOSER_MAX_CONCURRENT_ACTIVITIES": value})
