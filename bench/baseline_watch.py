"""The baseline for a watch's memory: what a developer writes by hand with Temporal to keep an eye
on a conversation. A loop of one read of its messages (``GET /api/v2/conversations/messages/{id}``,
plain httpx, as a local activity, as closer's watch reads) and a durable timer; no search
attributes, no patches, no models, no signal, update or query handlers, no continue-as-new.

``python -m bench.baseline_watch`` runs its worker as closer's runs (``python worker.py``): its own
process, configured by the same variables (TEMPORAL_ADDRESS, CLOSER_TASK_QUEUE,
CLOSER_GENESYS_API_URL, CLOSER_MAX_CACHED_WORKFLOWS), its workflows outside the sandbox (as the
README's settings for many watches run closer's).
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from .baseline import BaselineActivities
from .baseline_workflow import RETRY


@workflow.defn(name="BaselineWatch")
class BaselineWatch:
    @workflow.run
    async def run(self, conversation_id: str, every_s: float) -> None:
        while True:
            await workflow.execute_local_activity(
                "baseline read", conversation_id, start_to_close_timeout=timedelta(seconds=40), retry_policy=RETRY
            )
            await workflow.sleep(every_s)


class BaselineReads(BaselineActivities):
    @activity.defn(name="baseline read")
    async def read(self, conversation_id: str) -> int:
        """The messages' count: the answer is read, as a watch reads it, and little goes back."""
        messages = (await self._call("GET", f"/api/v2/conversations/messages/{conversation_id}")).json()
        return len(messages.get("participants", []))


async def main() -> None:
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"])
    reads = BaselineReads(os.environ["CLOSER_GENESYS_API_URL"])
    try:
        await Worker(
            client,
            task_queue=os.environ["CLOSER_TASK_QUEUE"],
            workflows=[BaselineWatch],
            activities=[reads.read],
            workflow_runner=UnsandboxedWorkflowRunner(),
            max_cached_workflows=int(os.environ["CLOSER_MAX_CACHED_WORKFLOWS"]),
        ).run()
    finally:
        await reads.aclose()


if __name__ == "__main__":
    asyncio.run(main())
