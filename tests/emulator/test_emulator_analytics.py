"""The analytics details query a sweep sends: paging, the indexing lag, open conversations only,
and a 400 for everything else.

A test that counts hits runs its own emulator, so `totalHits` counts exactly what it seeded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from emulator import EmulatorServer
from emulator.clock import format_iso

from .conftest import TEST_CONFIG, GenesysApi
from .test_emulator_auth import assert_error_body


def open_web_messaging(interval: str, page_number: int = 1, page_size: int = 100) -> dict[str, Any]:
    """The body closer sends (API.md "Analytics")."""
    return {
        "interval": interval,
        "order": "asc",
        "orderBy": "conversationStart",
        "paging": {"pageSize": page_size, "pageNumber": page_number},
        "conversationFilters": [
            {
                "type": "and",
                "predicates": [{"type": "dimension", "dimension": "conversationEnd", "operator": "notExists"}],
            }
        ],
        "segmentFilters": [
            {
                "type": "and",
                "predicates": [
                    {"type": "dimension", "dimension": "mediaType", "value": "message"},
                    {"type": "dimension", "dimension": "messageType", "value": "webmessaging"},
                ],
            }
        ],
    }


def last_hours(hours: float = 3) -> str:
    now = datetime.now(timezone.utc)
    return f"{format_iso(now - timedelta(hours=hours))}/{format_iso(now + timedelta(minutes=1))}"


def found(api: GenesysApi, body: dict[str, Any]) -> list[str]:
    response = api.query_details(body)
    assert response.status_code == 200, response.text
    return [c["conversationId"] for c in response.json().get("conversations", [])]


@pytest.fixture
def own() -> Iterator[EmulatorServer]:
    with EmulatorServer(config=TEST_CONFIG) as server:
        yield server


@pytest.fixture
def own_api(own: EmulatorServer) -> Iterator[GenesysApi]:
    with GenesysApi(own.url) as client:
        yield client


def test_pages_through_every_open_web_messaging_conversation_once_oldest_first(
    own: EmulatorServer, own_api: GenesysApi
) -> None:
    opened = [own.admin.seed("bot", started_ago_s=3000 - i)["conversationId"] for i in range(60)]
    own.admin.seed("ended", started_ago_s=2000)
    own.admin.seed("not_web_messaging", started_ago_s=2000)
    own.admin.seed("agent", started_ago_s=4 * 3600)  # before the interval

    pages = [own_api.query_details(open_web_messaging(last_hours(), page, 25)).json() for page in (1, 2, 3, 4)]

    assert [page["totalHits"] for page in pages] == [60] * 4
    assert [len(page.get("conversations", [])) for page in pages] == [25, 25, 10, 0]
    assert "conversations" not in pages[3]  # an empty page has no list at all
    listed = [c for page in pages[:3] for c in page["conversations"]]
    assert [c["conversationId"] for c in listed] == opened
    assert [c["conversationStart"] for c in listed] == sorted(c["conversationStart"] for c in listed)
    assert all("conversationEnd" not in c for c in listed)

    descending = open_web_messaging(last_hours(), 1, 5) | {"order": "desc"}
    assert found(own_api, descending) == opened[::-1][:5]


def test_a_conversation_is_found_once_analytics_has_caught_up_with_it(own: EmulatorServer, own_api: GenesysApi) -> None:
    own.admin.config(analytics_lag_s=0.4)
    started = datetime.now(timezone.utc)
    cid = own.admin.seed("agent", started_ago_s=0)["conversationId"]
    query = open_web_messaging(
        f"{format_iso(started - timedelta(seconds=1))}/{format_iso(started + timedelta(hours=1))}"
    )

    assert found(own_api, query) == []
    time.sleep(0.45)
    assert found(own_api, query) == [cid]


def test_an_ended_conversation_is_not_open_once_analytics_knows_it_ended(
    own: EmulatorServer, own_api: GenesysApi
) -> None:
    own.admin.config(analytics_lag_s=0.4)
    ended = own.admin.seed("ended", started_ago_s=600)["conversationId"]
    ending = own.admin.seed("agent", started_ago_s=500)["conversationId"]
    assert (
        own_api.http.patch(f"/api/v2/conversations/messages/{ending}", json={"state": "disconnected"}).status_code
        == 200
    )
    ended_at = time.monotonic() + TEST_CONFIG.disconnect_delay_s + TEST_CONFIG.end_delay_s

    assert found(own_api, open_web_messaging(last_hours())) == [ending]  # its end is not in analytics yet
    time.sleep(ended_at + 0.45 - time.monotonic())
    assert found(own_api, open_web_messaging(last_hours())) == []

    with_an_end = open_web_messaging(last_hours())
    with_an_end["conversationFilters"][0]["predicates"][0]["operator"] = "exists"
    listed = own_api.query_details(with_an_end).json()["conversations"]
    assert [c["conversationId"] for c in listed] == [ended, ending]
    assert all(c["conversationEnd"] > c["conversationStart"] for c in listed)


def test_a_hit_names_its_participants_and_their_sessions(own: EmulatorServer, own_api: GenesysApi) -> None:
    seeded = own.admin.seed("agent")

    [hit] = own_api.query_details(open_web_messaging(last_hours())).json()["conversations"]

    assert hit["conversationId"] == seeded["conversationId"] and hit["originatingDirection"] == "inbound"
    assert {p["purpose"]: p["participantId"] for p in hit["participants"]} == {
        purpose: ids["participantId"] for purpose, ids in seeded["participants"].items()
    }
    sessions = {p["purpose"]: p["sessions"] for p in hit["participants"]}
    assert sessions["agent"] == [
        {
            "sessionId": seeded["participants"]["agent"]["communicationId"],
            "mediaType": "message",
            "messageType": "webmessaging",
            "direction": "inbound",
        }
    ]


def test_nothing_found_is_a_total_of_zero(own_api: GenesysApi) -> None:
    response = own_api.query_details(open_web_messaging(last_hours()))
    assert response.status_code == 200 and response.json() == {"totalHits": 0}


def _with(change: dict[str, Any]) -> dict[str, Any]:
    return open_web_messaging(last_hours()) | change


@pytest.mark.parametrize(
    ("body", "code", "complaint"),
    [
        (_with({"conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationId", "value": "x"}]}]}),
         "bad.request", "does not model conversationFilters predicate 'conversationId'"),
        (_with({"segmentFilters": [{"type": "and", "predicates": [{"dimension": "queueId", "value": "q"}]}]}),
         "bad.request", "does not model segmentFilters predicate 'queueId'"),
        (_with({"segmentFilters": [{"type": "and", "predicates": [{"dimension": "mediaType", "operator": "exists"}]}]}),
         "bad.request", "'mediaType' 'exists'"),
        (_with({"conversationFilters": [{"type": "or", "clauses": [{"type": "and", "predicates": []}]}]}),
         "bad.request", "does not model clauses"),
        (_with({"segmentFilters": [{"type": "and", "predicates": [{"type": "metric", "metric": "tSegmentDuration"}]}]}),
         "bad.request", "predicates other than dimension ones"),
        (_with({"aggregations": [{"type": "termFrequency", "dimension": "queueId"}]}), "bad.request", "'aggregations'"),
        (_with({"order": "unordered"}), "bad.request", "order 'unordered'"),
        (_with({"orderBy": "segmentStart"}), "bad.request", "orderBy 'segmentStart'"),
        (_with({"cursor": "abc"}), "bad.request", "Unrecognized field(s) for ConversationQuery: cursor"),
        (_with({"paging": {"pageSize": 101, "pageNumber": 1}}), "invalid.value", "at most 100"),
        (_with({"paging": {"pageSize": 25, "pageNumber": 0}}), "invalid.value", "paging.pageNumber"),
        (_with({"interval": "yesterday"}), "invalid.value", "two ISO-8601 date-times"),
        (_with({"interval": "2026-01-02T00:00:00Z/2026-01-01T00:00:00Z"}), "invalid.value", "end after it starts"),
        ({k: v for k, v in _with({}).items() if k != "interval"}, "bad.request", "interval is required"),
        (_with({"conversationFilters": [{"type": "and", "predicates": [{"dimension": "conversationEnd", "operator": "notExists", "value": "x"}]}]}),
         "invalid.value", "takes no value"),
    ],
)  # fmt: skip
def test_a_query_the_emulator_does_not_understand_is_400(
    api: GenesysApi, body: dict[str, Any], code: str, complaint: str
) -> None:
    assert complaint in assert_error_body(api.query_details(body), 400, code)["message"]


def test_the_largest_page_is_a_setting(own: EmulatorServer, own_api: GenesysApi) -> None:
    assert own_api.query_details(open_web_messaging(last_hours(), 1, 100)).status_code == 200
    own.admin.config(analytics_max_page_size=50)
    assert_error_body(own_api.query_details(open_web_messaging(last_hours(), 1, 51)), 400, "invalid.value")


def test_the_query_needs_the_analytics_permission(own: EmulatorServer) -> None:
    own.admin.add_client("viewer", "viewer-secret", ["conversation:communication:view"])
    with GenesysApi(own.url, ("viewer", "viewer-secret")) as viewer:
        refused = viewer.query_details(open_web_messaging(last_hours()))
    assert "analytics:conversationDetail:view" in assert_error_body(refused, 403, "missing.any.permissions")["message"]
