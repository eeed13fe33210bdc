"""The sweep workflow: a watch for every open web messaging conversation that has none.

Analytics only nominates: each watch reads the conversation itself and decides (an analytics hit
may have ended since, or be busy). One page per run, then continue-as-new with the totals, so a
sweep of any size keeps a short history. Deterministic, no I/O.

Pages go from the last to the first. The watches a page starts close conversations, and a
conversation that ends leaves the query's answer: every later match moves up a place. Going
backwards, that moves a match from the page just done into the next (a repeat, skipped), where
going forwards would move one from the next page into a page done (a miss).
"""

from __future__ import annotations

import math
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.metrics import SWEEP_WATCHES_STARTED, SWEEPS
    from activities.sweep import (
        PageResult,
        QueryPageInput,
        StartWatchesInput,
        SweepActivities,
        WorkflowStart,
        start_watches,
    )

    from . import search_attributes
    from .contract import InvalidInput, invalid_input_error, parse, workflow_input
    from .durations import format_duration
    from .metrics import count
    from .policies import (
        STEP_HEARTBEAT_TIMEOUT,
        STEP_RETRY_POLICY,
        STEP_SCHEDULE_TO_CLOSE,
        STEP_START_TO_CLOSE,
        SWEEP_STARTS_RETRY_BUDGET,
        SWEEP_STARTS_SLACK,
    )
    from .sweep_models import SWEEP_WORKFLOW_TYPE, SweepMemory, SweepRequest, SweepResult
    from .watch_models import WATCH_WORKFLOW_TYPE, watch_id

#: The outcome search attribute of a sweep that went through every page.
SWEPT = "swept"


@workflow.defn(name=SWEEP_WORKFLOW_TYPE)
class SweepStaleConversations:
    @workflow.run
    async def run(self, *args: object) -> SweepResult:
        """Takes one argument, a ``SweepRequest`` as JSON (a second, where it is, only when it
        continues as new)."""
        self._request = request = workflow_input(SweepRequest, args[:1] if len(args) == 2 else args)
        self._memory = memory = self._resume(args[1]) if len(args) == 2 else self._begin()
        workflow.upsert_search_attributes([search_attributes.PROFILE.value_set(request.profile)])
        try:
            if memory.page is None:
                # The first query counts the pages; with one page only, it is that page.
                first = await self._query(1)
                memory.result.total_hits = first.total_hits
                memory.pages_total = max(1, math.ceil(first.total_hits / request.page_size))
                if memory.pages_total == 1:
                    await self._process(first)
                    return self._finish()
                memory.page = memory.pages_total
            await self._process(await self._query(memory.page))
        except ActivityError:
            workflow.upsert_search_attributes(
                [search_attributes.OUTCOME.value_set("failed"), search_attributes.STEP.value_set("done")]
            )
            count(SWEEPS, outcome="failed")
            raise
        memory.page -= 1
        if memory.page == 0:
            return self._finish()
        workflow.continue_as_new(args=[request, memory])

    def _begin(self) -> SweepMemory:
        end = workflow.now()
        result = SweepResult(
            profile=self._request.profile, interval_start=end - self._request.lookback, interval_end=end
        )
        return SweepMemory(result=result)

    def _resume(self, memory: object) -> SweepMemory:
        try:
            return parse(SweepMemory, memory)
        except InvalidInput as error:
            raise invalid_input_error(error.problems) from None

    async def _query(self, page_number: int) -> PageResult:
        self._step("query page")
        result = self._memory.result
        page = await workflow.execute_activity_method(
            SweepActivities.query_page,
            QueryPageInput(
                profile=self._request.profile,
                interval_start=result.interval_start,
                interval_end=result.interval_end,
                page_number=page_number,
                page_size=self._request.page_size,
            ),
            start_to_close_timeout=STEP_START_TO_CLOSE,
            heartbeat_timeout=STEP_HEARTBEAT_TIMEOUT,
            schedule_to_close_timeout=STEP_SCHEDULE_TO_CLOSE,
            retry_policy=STEP_RETRY_POLICY,
        )
        result.api_calls += page.calls
        return page

    async def _process(self, page: PageResult) -> None:
        """A watch for each conversation of the page that has none."""
        memory, request = self._memory, self._request
        repeated = set(memory.previous_page)
        new = [c for c in dict.fromkeys(page.conversation_ids) if c not in repeated]
        memory.previous_page = page.conversation_ids
        memory.result.pages += 1
        memory.result.candidates += len(new)
        if not new:
            return
        self._step("start watches")
        pacing = len(new) * (60 / request.starts_per_minute)
        summary = f"idle {format_duration(request.idle)}, from {workflow.info().workflow_id}"
        started = await workflow.execute_activity(
            start_watches,
            StartWatchesInput(
                workflow_type=WATCH_WORKFLOW_TYPE,
                starts=[
                    WorkflowStart(
                        workflow_id=watch_id(c), input=request.watch_input(c), static_summary=f"Watch {c}: {summary}"
                    )
                    for c in new
                ],
                starts_per_minute=request.starts_per_minute,
            ),
            start_to_close_timeout=timedelta(seconds=pacing) + SWEEP_STARTS_SLACK,
            heartbeat_timeout=STEP_HEARTBEAT_TIMEOUT,
            schedule_to_close_timeout=timedelta(seconds=pacing) + SWEEP_STARTS_SLACK + SWEEP_STARTS_RETRY_BUDGET,
            retry_policy=STEP_RETRY_POLICY,
        )
        memory.result.watches_started += started.started
        count(SWEEP_WATCHES_STARTED, started.started)
        memory.result.already_watched += started.already_watched

    def _finish(self) -> SweepResult:
        workflow.upsert_search_attributes(
            [search_attributes.OUTCOME.value_set(SWEPT), search_attributes.STEP.value_set("done")]
        )
        count(SWEEPS, outcome=SWEPT)
        self._details("done")
        return self._memory.result

    def _step(self, step: str) -> None:
        workflow.upsert_search_attributes([search_attributes.STEP.value_set(step)])
        self._details(step)

    def _details(self, step: str) -> None:
        """Progress in the Temporal UI (current details): where the sweep is, and its totals."""
        memory, result = self._memory, self._memory.result
        where = f"page {memory.page} of {memory.pages_total}" if memory.page else "first page"
        workflow.set_current_details(
            f"**{step}**{'' if step == 'done' else f' ({where}, going back to page 1)'}: "
            f"{result.candidates} candidates, {result.watches_started} watches started, "
            f"{result.already_watched} already watched, {result.pages} pages, {result.api_calls} Genesys calls"
        )
