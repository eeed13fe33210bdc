"""Recorded histories of every outcome (and of watches) replay with the current workflow code.

A change to the workflow that is not deterministic against them fails here, before it reaches a
cluster with terminations in flight. Re-record after an intended, versioned change with
``make histories``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter, PydanticPayloadConverter
from temporalio.converter import DataConverter

from closer import sweeps, watches
from closer.converter import SharedPydanticPayloadConverter
from workflows import WatchConversation, watch_id, workflow_id

from .callback_receiver import CallbackReceiver
from .conftest import Sweeper, Terminate, new_id, replayer, seed

HISTORIES = Path(__file__).parent / "histories"
RECORDING = os.environ.get("CLOSER_RECORD_HISTORIES") == "1"

# One termination per outcome (and the paths that matter: goodbye, wrap-up code, teardown, delete).
SCENARIOS: dict[str, tuple[str | None, dict]] = {
    "closed": ("agent", {"goodbye": "Goodbye!", "delete_transcript": True}),
    "closed_with_wrapup_code": ("agent", {"wrapup_code": "c0de-0001"}),
    "already_closed": ("ended", {}),
    "not_found": (None, {}),
    "not_web_messaging": ("not_web_messaging", {}),
    "forced": ("stuck", {"verify_timeout_seconds": 2}),
    "failed": ("stuck", {"verify_timeout_seconds": 2, "allow_teardown": False}),
    # Since the front-door patch: search attributes, the callback check and delivery. ("{receiver}"
    # is the session's callback receiver, known only at run time.)
    "closed_with_callback": ("agent", {"callback_url": "{receiver}/replay"}),
    # Since the lean patch: one conversation PATCH for a conversation without an agent.
    "closed_with_bots_only": ("bot", {}),
}
# A sweep of two pages: its first run (counting the pages, the last page, continue-as-new) and
# its second (the first page, the result).
SWEEP_RUNS = ("sweep_first_run", "sweep_last_run")


# Watches, by the history file's name: the conversation's seed and the watch's settings (seconds-
# scale). The watch's own history is recorded (its termination runs as a child, recorded above).
WATCH_SCENARIOS: dict[str, tuple[dict, dict]] = {
    # A read at start, a warning (lookup, send), the confirming read, the child termination.
    "watch_closed_idle": (
        {"last_message_age_s": 0},
        {"idle": "2s", "warning": "Are you still there?", "warnBefore": "1s", "close": {"goodbye": "Goodbye!"}},
    ),
}


def recorded() -> list[Path]:
    """The current code's histories (top level) and those of runs started before each patch
    (``<patch>/``: see workflows/patches.py), which must replay as they ran."""
    return sorted(HISTORIES.rglob("*.json"))


def test_every_outcome_has_a_recorded_history() -> None:
    assert {p.stem for p in HISTORIES.glob("*.json")} >= {*SCENARIOS, *SWEEP_RUNS, *WATCH_SCENARIOS}, (
        "run `make histories` to record them"
    )


@pytest.mark.parametrize("sandbox", [True, False], ids=["sandboxed", "unsandboxed"])
@pytest.mark.parametrize("path", recorded(), ids=lambda p: str(p.relative_to(HISTORIES).with_suffix("")))
async def test_recorded_history_replays(path: Path, sandbox: bool) -> None:
    """In the sandbox and out of it (CLOSER_WORKFLOW_SANDBOX=off): the same code, the same commands."""
    history = WorkflowHistory.from_json(path.stem, json.loads(path.read_text()))
    await replayer(sandbox).replay_workflow(history)  # raises on any nondeterminism


async def test_sandboxed_runs_share_the_workers_pydantic_encoders() -> None:
    """A worker builds the pydantic type adapters of a run's types once, not once a run: the types
    are the same objects in every sandboxed run (their modules are passed through), so the shared
    encoders' cache (closer/converter.py) stops growing after the first run of each kind. A model
    module re-imported per run would add entries at every run, up to the cache's 1,024."""

    class Fresh(SharedPydanticPayloadConverter):  # its own encoders: no other test's entries
        _encoders = tuple(PydanticPayloadConverter().converters.values())

    [json_encoder] = [e for e in Fresh._encoders if isinstance(e, PydanticJSONPlainPayloadConverter)]
    histories = [WorkflowHistory.from_json(p.stem, json.loads(p.read_text())) for p in HISTORIES.glob("*.json")]
    replaying = replayer(sandbox=True, converter=DataConverter(payload_converter_class=Fresh))
    sizes = []
    for _ in range(3):
        for history in histories:
            await replaying.replay_workflow(history)
        sizes.append(json_encoder._type_adapter.cache_info().currsize)
    assert sizes[0] > 0
    assert sizes == [sizes[0]] * 3, f"the type adapter cache grew run after run: {sizes}"


@pytest.mark.skipif(not RECORDING, reason="records histories only with CLOSER_RECORD_HISTORIES=1 (make histories)")
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_record_history(
    name: str, run_termination: Terminate, temporal_client: Client, emulator, callback_receiver: CallbackReceiver
) -> None:
    scenario, fields = SCENARIOS[name]
    fields = {k: v.format(receiver=callback_receiver.origin) if k == "callback_url" else v for k, v in fields.items()}
    conversation_id = seed(emulator, scenario)["conversationId"] if scenario else new_id()
    result = await run_termination(conversation_id, **fields)
    assert result.outcome == name.split("_with_")[0]
    history = await temporal_client.get_workflow_handle(workflow_id(conversation_id)).fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


@pytest.mark.skipif(not RECORDING, reason="records histories only with CLOSER_RECORD_HISTORIES=1 (make histories)")
async def test_record_history_of_a_sweep(sweeper: Sweeper, temporal_client: Client) -> None:
    for _ in range(3):
        seed(sweeper.emulator, "agent", started_ago_s=3000, last_message_age_s=2400)
    handle = await sweeps.run_sweep(
        temporal_client, {"idle": "30m", "pageSize": 2, "startsPerMinute": 600}, task_queue=sweeper.task_queue
    )
    result = await handle.result()
    assert (result.pages, result.watches_started) == (2, 3)
    first = await temporal_client.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id).fetch_history()
    last = await temporal_client.get_workflow_handle(handle.id).fetch_history()
    for name, history in zip(SWEEP_RUNS, (first, last)):
        (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")


# Named so that `make histories` (-k test_record_history) records these too.
@pytest.mark.skipif(not RECORDING, reason="records histories only with CLOSER_RECORD_HISTORIES=1 (make histories)")
@pytest.mark.parametrize("name", list(WATCH_SCENARIOS))
async def test_record_history_of_watch(name: str, temporal_client: Client, worker: str, emulator) -> None:
    seed_fields, settings = WATCH_SCENARIOS[name]
    conversation_id = seed(emulator, "agent", **seed_fields)["conversationId"]
    await watches.watch(temporal_client, {"conversationId": conversation_id, **settings}, task_queue=worker)
    handle = temporal_client.get_workflow_handle_for(WatchConversation.run, watch_id(conversation_id))
    result = await handle.result()
    assert result.outcome == name.removeprefix("watch_")
    assert [w.status for w in result.warnings] == (["sent"] if "warning" in settings else [])
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(json.dumps(history.to_json_dict(), indent=1) + "\n")
    # The run the watch started in, which took the start's update and continued as new after its
    # first read (UPDATED_RUN_PATCH).
    first_run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
    first = await temporal_client.get_workflow_handle(handle.id, run_id=first_run_id).fetch_history()
    (HISTORIES / f"{name}_first_run.json").write_text(json.dumps(first.to_json_dict(), indent=1) + "\n")
