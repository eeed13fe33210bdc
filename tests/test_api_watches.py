"""Watches over the HTTP API, as a Lambda or a Rust service calls it: uvicorn on loopback, httpx."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from workflows.contract import InvalidInput, parse
from workflows.watch_models import WatchSettingsBody

from .conftest import genesys_requests, seed
from .test_api import PROBLEM_JSON

MESSAGE_READ = "/api/v2/conversations/messages/{conversationId}"


async def until_finished(http: httpx.AsyncClient, cid: str) -> dict[str, Any]:
    for _ in range(300):
        watch = (await http.get(f"/v1/watches/{cid}")).json()
        if watch["status"] != "running":
            return watch
        await asyncio.sleep(0.1)
    raise AssertionError(f"still running: {watch}")


async def test_put_starts_a_watch_that_closes_the_idle_conversation(http: httpx.AsyncClient, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]

    response = await http.put(f"/v1/watches/{cid}", json={"idle": "2s", "close": {"goodbye": "Bye now."}})

    assert response.status_code == 200, response.text
    watch = response.json()
    assert watch["status"] == "running" and watch["workflowId"] == f"watch-{cid}"
    assert watch["watch"]["settings"]["idle"] == "2s"
    done = await until_finished(http, cid)
    assert done["status"] == "finished"
    assert done["result"]["outcome"] == "closed_idle"
    assert done["result"]["termination"]["outcome"] == "closed"


async def test_put_again_changes_the_settings_of_the_running_watch(http: httpx.AsyncClient, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    await http.put(f"/v1/watches/{cid}", json={"idle": "1h"})

    changed = (await http.put(f"/v1/watches/{cid}", json={"idle": "2s", "mode": "any"})).json()

    assert changed["watch"]["settings"]["idle"] == "2s"
    done = await until_finished(http, cid)
    assert done["result"]["outcome"] == "closed_idle"
    reads = [r for r in genesys_requests(emulator, cid) if r["route"] == MESSAGE_READ]
    assert len(reads) == 2  # the start's, then the one confirming the close: none for the update


async def test_touch_and_delete(http: httpx.AsyncClient, emulator) -> None:
    cid = seed(emulator, "agent", last_message_age_s=0)["conversationId"]
    assert (await http.post(f"/v1/watches/{cid}/touch")).status_code == 404  # no watch yet

    # Start-or-touch: with a body, the first touch starts the watch.
    assert (await http.post(f"/v1/watches/{cid}/touch", json={"idle": "1h"})).status_code == 204
    assert (await http.post(f"/v1/watches/{cid}/touch")).status_code == 204
    running = (await http.get(f"/v1/watches/{cid}")).json()
    assert running["status"] == "running" and running["watch"]["touches"] >= 1

    assert (await http.delete(f"/v1/watches/{cid}")).status_code == 204
    done = await until_finished(http, cid)
    assert done["result"]["outcome"] == "cancelled"
    assert (await http.delete(f"/v1/watches/{cid}")).status_code == 404  # nothing left to cancel


async def test_bad_settings_get_the_contracts_own_words(http: httpx.AsyncClient, emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    body = {"idle": "0", "mode": "sometimes", "warning": "x" * 2001, "warnBefore": "2m"}

    response = await http.put(f"/v1/watches/{cid}", json=body)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problems = response.json()["problems"]
    assert problems == problems_of_parse_settings(body)
    assert any(p.startswith("idle: must be more than 0") for p in problems)
    assert any(p.startswith("mode: ") for p in problems)
    cross = await http.put(f"/v1/watches/{cid}", json={"idle": "1m", "warning": "Still there?", "warnBefore": "5m"})
    assert cross.json()["problems"] == ["warnBefore (5m) must be more than 0 and shorter than idle (1m)"]
    assert (await http.get(f"/v1/watches/{cid}")).status_code == 404  # nothing started


async def test_watch_routes_need_a_key(api, emulator) -> None:
    async with httpx.AsyncClient(base_url=api.url) as anonymous:
        response = await anonymous.put(f"/v1/watches/{seed(emulator, 'agent')['conversationId']}", json={"idle": "1m"})
    assert response.status_code == 401


def problems_of_parse_settings(body: dict[str, Any]) -> list[str]:
    """What the contract itself (the CLI, the Python helper, the workflow) says about ``body``."""
    try:
        parse(WatchSettingsBody, body)
    except InvalidInput as error:
        return error.problems
    raise AssertionError("valid")
