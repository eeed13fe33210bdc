"""Injected faults, held responses and the request log."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from emulator import AdminRequestError, EmulatorServer

from .conftest import CONVERSATION, PARTICIPANT, GenesysApi, ids, wait_until
from .test_emulator_auth import assert_error_body


def test_a_fault_fires_count_times_and_changes_nothing(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent"), "agent")
    emu.admin.add_fault(method="PATCH", route=PARTICIPANT, status=503, count=2)

    first, second, third = (api.disconnect(cid, agent) for _ in range(3))

    assert_error_body(first, 503, "service.unavailable")
    assert_error_body(second, 503, "service.unavailable")
    assert third.status_code == 202  # the first two changed nothing, so this is no 409


def test_a_fault_can_set_code_message_and_retry_after(emu: EmulatorServer, api: GenesysApi) -> None:
    cid = emu.admin.seed("agent")["conversationId"]
    emu.admin.add_fault(route=CONVERSATION, status=429, retry_after=7, message="slow down", count=1)

    limited = api.http.get(f"/api/v2/conversations/{cid}")

    assert assert_error_body(limited, 429, "too.many.requests")["message"] == "slow down"
    assert limited.headers["Retry-After"] == "7"


def test_fault_rate_is_reproducible_with_a_seed(emu: EmulatorServer, api: GenesysApi) -> None:
    cid = emu.admin.seed("agent")["conversationId"]

    def statuses() -> list[int]:
        emu.admin.clear_faults()
        emu.admin.config(seed=42)
        emu.admin.add_fault(method="GET", status=500, rate=0.5)
        return [api.http.get(f"/api/v2/conversations/{cid}").status_code for _ in range(30)]

    first = statuses()
    assert set(first) == {200, 500}
    assert statuses() == first


def test_a_latency_only_fault_just_delays(emu: EmulatorServer, api: GenesysApi) -> None:
    cid = emu.admin.seed("agent")["conversationId"]
    emu.admin.add_fault(route=CONVERSATION, latency_s=0.2, count=1)

    started = time.monotonic()
    assert api.http.get(f"/api/v2/conversations/{cid}").status_code == 200
    assert time.monotonic() - started >= 0.2


def test_faults_can_be_removed_one_by_one(emu: EmulatorServer, api: GenesysApi) -> None:
    cid = emu.admin.seed("agent")["conversationId"]
    fault = emu.admin.add_fault(route=CONVERSATION, status=500)
    assert api.http.get(f"/api/v2/conversations/{cid}").status_code == 500

    emu.admin.remove_fault(fault)

    assert api.http.get(f"/api/v2/conversations/{cid}").status_code == 200
    with pytest.raises(AdminRequestError):
        emu.admin.add_fault(route=CONVERSATION)  # neither a status nor a latency


def test_a_held_request_takes_effect_but_its_response_waits_for_release(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent"), "agent")
    hold = emu.admin.hold("PATCH", PARTICIPANT)
    answers: list[httpx.Response] = []
    token = api.token
    patcher = threading.Thread(
        target=lambda: answers.append(
            httpx.patch(
                f"{emu.url}/api/v2/conversations/messages/{cid}/participants/{agent}",
                json={"state": "disconnected"},
                headers={"Authorization": f"Bearer {token}"},
            )
        )
    )
    patcher.start()

    wait_until(lambda: emu.admin.hold_status(hold)["engaged"] == 1)
    assert answers == []
    wait_until(lambda: api.participant(cid, agent)["messages"][0]["state"] == "disconnected")  # the effect happened
    assert [r["status"] for r in emu.admin.requests() if r["route"] == PARTICIPANT and agent in r["path"]] == [202]

    assert emu.admin.release(hold)["released"] is True
    patcher.join(timeout=2)

    assert answers[0].status_code == 202
    assert emu.admin.hold_status(hold) == {"id": hold, "engaged": 0, "matched": 1, "released": True}
    assert api.disconnect(cid, agent).status_code == 400  # a hold only takes `count` requests


def test_a_hold_lets_go_after_its_timeout(emu: EmulatorServer, api: GenesysApi) -> None:
    cid = emu.admin.seed("agent")["conversationId"]
    hold = emu.admin.hold("GET", CONVERSATION, timeout_s=0.2)

    started = time.monotonic()
    assert api.http.get(f"/api/v2/conversations/{cid}").status_code == 200

    assert time.monotonic() - started >= 0.2
    assert emu.admin.hold_status(hold)["matched"] == 1


def test_the_request_log_records_routes_and_bodies(emu: EmulatorServer, api: GenesysApi) -> None:
    cid, agent, _ = ids(emu.admin.seed("agent"), "agent")
    start = emu.admin.requests()[-1]["seq"] if emu.admin.requests() else 0

    api.http.get(f"/api/v2/conversations/{cid}", params={"expand": "none"})
    api.disconnect(cid, agent, wrapup={"code": "resolved"})
    api.http.get("/api/v2/nowhere")
    log = emu.admin.requests(since=start)

    assert [(r["method"], r["route"], r["status"]) for r in log] == [
        ("GET", CONVERSATION, 200),
        ("PATCH", PARTICIPANT, 202),
        ("GET", None, 404),
    ]
    assert log[0]["query"] == {"expand": "none"} and log[0]["client_id"] == "emulator-client"
    assert log[1]["body"] == {"state": "disconnected", "wrapup": {"code": "resolved"}}
    assert [r["seq"] for r in log] == list(range(start + 1, start + 4))

    emu.admin.clear_requests()
    assert emu.admin.requests() == []
    api.http.get(f"/api/v2/conversations/{cid}")
    assert emu.admin.requests()[0]["seq"] == start + 4  # numbering survives a clear
