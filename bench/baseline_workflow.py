"""The baseline: what a careful developer writes by hand with Temporal for the happy path.

Same shape as closer's termination of an agent conversation: one read, a disconnect per connected
participant (agents first, the customer last), a read after a 0.5 s wait in its activity, then
reads on durable timers (1 s, doubling) until ``endTime``.
Same activity timeouts, the same retry policy, no search attributes, no result model, no callback.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
#: closer's step timeouts, but no heartbeat timeout: these activities do not heartbeat, so one would
#: time out any attempt that takes over 5 s (500 at once do) and retry a disconnect already done.
OPTIONS: dict = {
    "start_to_close_timeout": timedelta(seconds=40),
    "schedule_to_close_timeout": timedelta(minutes=10),
    "retry_policy": RETRY,
}


@workflow.defn(name="BaselineTerminate")
class BaselineTerminate:
    @workflow.run
    async def run(self, conversation_id: str) -> str:
        participants = await workflow.execute_activity("baseline lookup", conversation_id, **OPTIONS)
        for participant in participants:
            await workflow.execute_activity("baseline disconnect", args=[conversation_id, participant], **OPTIONS)
        if await workflow.execute_activity("baseline verify", args=[conversation_id, 0.5], **OPTIONS):
            return "closed"
        poll = timedelta(seconds=1)
        while True:
            await workflow.sleep(poll)
            if await workflow.execute_activity("baseline verify", args=[conversation_id, 0.0], **OPTIONS):
                return "closed"
            poll = min(poll * 2, timedelta(seconds=5))
