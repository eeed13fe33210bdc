"""The baseline's activities: plain httpx against the same emulator, one pooled client, one token."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from emulator.auth import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from .baseline_workflow import BaselineTerminate


class BaselineActivities:
    def __init__(self, url: str) -> None:
        self._http = httpx.AsyncClient(
            base_url=url, timeout=10, limits=httpx.Limits(max_connections=50, max_keepalive_connections=20)
        )
        self._token: str | None = None

    async def _call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        if self._token is None:
            response = await self._http.post(
                "/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET),
            )
            self._token = response.raise_for_status().json()["access_token"]
        response = await self._http.request(method, path, json=json, headers={"Authorization": f"Bearer {self._token}"})
        return response.raise_for_status()

    @activity.defn(name="baseline lookup")
    async def lookup(self, conversation_id: str) -> list[dict]:
        conversation = (await self._call("GET", f"/api/v2/conversations/{conversation_id}")).json()
        live = [
            {"id": p["id"], "agent": p.get("purpose") == "agent"}
            for p in conversation["participants"]
            if any(m.get("state") == "connected" for m in p.get("messages", []))
        ]
        return sorted(live, key=lambda p: not p["agent"])

    @activity.defn(name="baseline disconnect")
    async def disconnect(self, conversation_id: str, participant: dict) -> None:
        body: dict = {"state": "disconnected"}
        if participant["agent"]:
            body["wrapupSkipped"] = True
        try:
            await self._call(
                "PATCH", f"/api/v2/conversations/messages/{conversation_id}/participants/{participant['id']}", body
            )
        except httpx.HTTPStatusError as error:
            # A retried attempt whose first got through: already disconnected is done.
            if "no.active.conversations" not in error.response.text:
                raise

    @activity.defn(name="baseline verify")
    async def verify(self, conversation_id: str, settle_s: float) -> bool:
        await asyncio.sleep(settle_s)
        conversation = (await self._call("GET", f"/api/v2/conversations/{conversation_id}")).json()
        return conversation.get("endTime") is not None

    async def aclose(self) -> None:
        await self._http.aclose()


def baseline_worker(client: Client, task_queue: str, activities: BaselineActivities) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BaselineTerminate],
        activities=[activities.lookup, activities.disconnect, activities.verify],
    )
