"""Conformance with the official Genesys SDK (`tests/sdk_oracle.py`).

- Every request the whole test session sent to an emulator is an SDK operation, routed by the
  emulator as that operation, with a body of only the fields and enum values the SDK declares.
- The emulator's responses read back with the SDK's deserializer into populated models.
- The oracle itself rejects what it must (invented endpoints, undeclared fields, bad enums).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import EllipsisType
from typing import TYPE_CHECKING

import httpx
import pytest

from genesys.models import ConversationQuery
from tests import conftest, sdk_oracle
from tests.conftest import EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET

if TYPE_CHECKING:
    from emulator.server import EmulatorServer

PARTICIPANT_PATCH = "/api/v2/conversations/messages/{conversationId}/participants/{participantId}"
CONVERSATION_GET = "/api/v2/conversations/{conversationId}"
MESSAGE_CONVERSATION_GET = "/api/v2/conversations/messages/{conversationId}"
MESSAGE_POST = "/api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages"
BULK_MESSAGES_POST = "/api/v2/conversations/messages/{conversationId}/messages/bulk"
RECORDINGS_GET = "/api/v2/conversations/{conversationId}/recordings"
DETAILS_QUERY = "/api/v2/analytics/conversations/details/query"

# What closer must have sent (its termination path, its activity read and its sweep query) for the
# session check to mean anything.
REQUIRED_SUITE_OPERATIONS = {
    ("PATCH", PARTICIPANT_PATCH),
    ("GET", CONVERSATION_GET),
    ("POST", MESSAGE_POST),
    ("GET", MESSAGE_CONVERSATION_GET),
    ("POST", DETAILS_QUERY),
}


@dataclass(frozen=True)
class NonExistentEndpoint:
    method: str | None
    """None: any method."""
    path: re.Pattern[str]
    why: str


# Endpoints that do NOT exist (common forum advice, all wrong; see the README). Most are
# not SDK operations anyway, but `GET /api/v2/conversations/webmessaging` would match the template
# `/api/v2/conversations/{conversationId}`, so they are refused by name too.
NON_EXISTENT_ENDPOINTS = [
    NonExistentEndpoint(
        None, re.compile(r"^/api/v2/conversations/webmessaging(/.*)?$"), "no webmessaging conversations API"
    ),
    NonExistentEndpoint(None, re.compile(r"^/api/v2/interactions/[^/]+/routingStatus$"), "no interactions API"),
    NonExistentEndpoint("PATCH", re.compile(r"^/api/v2/conversations/messaging/[^/]+$"), "no messaging (sic) PATCH"),
    NonExistentEndpoint("POST", re.compile(r"^/api/v2/conversations/.*/participants/[^/]+/end$"), "no participant end"),
    NonExistentEndpoint("PUT", re.compile(r"^/api/v2/conversations/[^/]+$"), "no PUT on a conversation"),
]

# Conversations the tests below seed for themselves: their requests are checked like any other,
# but they must not count as evidence that closer's own termination path was exercised.
ORACLE_CONVERSATION_IDS: set[str] = set()


def non_existent_endpoint(method: str, path: str) -> NonExistentEndpoint | None:
    return next(
        (e for e in NON_EXISTENT_ENDPOINTS if e.method in (None, method.upper()) and e.path.match(path)),
        None,
    )


def request_problems(entry: dict) -> list[str]:
    """Everything wrong with one request-log entry, as the SDK sees it."""
    method, path, body = entry["method"], entry["path"], entry["body"]
    bad_endpoint = non_existent_endpoint(method, path)
    if bad_endpoint is not None:
        return [f"{method} {path} is an endpoint that does not exist ({bad_endpoint.why})"]
    op = sdk_oracle.match(method, path)
    if op is None:
        return [f"{method} {path} is not an operation of the official SDK"]
    problems: list[str] = []
    if entry["route"] != op.path:
        problems.append(f"the emulator routed it as {entry['route']!r}, the SDK operation is {op.path!r}")
    undeclared_query = set(entry["query"] or {}) - op.query_params
    if undeclared_query:
        problems.append(f"query parameters the SDK does not declare: {sorted(undeclared_query)}")
    if op is sdk_oracle.OAUTH_TOKEN:
        if body is None:
            # The emulator logs `{"grant_type": ...}` once it reads the form; None means it answered
            # before (an injected fault), so the grant cannot be checked: an emulator logging gap.
            problems.append("the emulator did not log the token request's grant_type: it cannot be checked")
        elif body != sdk_oracle.OAUTH_TOKEN_BODY:
            problems.append(f"the token request must be the client-credentials grant, got {body!r}")
    elif isinstance(body, str):
        problems.append(f"the body is not JSON: {body[:80]!r}")
    elif body is not None and op.body_type is None:
        problems.append(f"{op.sdk_function} takes no body, got {body!r}")
    elif body is not None and op.body_type is not None:
        problems += sdk_oracle.check_body(op.body_type, body)
    return problems


def session_requests(session_emulator: EmulatorServer) -> list[dict]:
    """Every request-log entry of the session: emulators already shut down, then the live one."""
    return [*conftest.EMULATOR_LOGS, *session_emulator.admin.requests()]


def _made_by_the_oracle_tests(entry: dict) -> bool:
    return any(segment in ORACLE_CONVERSATION_IDS for segment in entry["path"].split("/"))


@pytest.mark.after_everything
def test_every_request_the_suite_made_is_a_real_operation_with_declared_fields(
    session_emulator: EmulatorServer, request: pytest.FixtureRequest
) -> None:
    entries = session_requests(session_emulator)
    assert entries, "the emulators logged no request at all: nothing was checked"

    violations = [
        f"#{entry['seq']} {entry['method']} {entry['path']} (status {entry['status']}): {problem}"
        for entry in entries
        for problem in request_problems(entry)
    ]
    assert not violations, f"{len(violations)} of {len(entries)} requests break the SDK contract:\n" + "\n".join(
        violations
    )

    # Not vacuous: closer's termination path itself must have been checked, not just our own probes.
    exercised = {
        (entry["method"], op.path)
        for entry in entries
        if not _made_by_the_oracle_tests(entry) and (op := sdk_oracle.match(entry["method"], entry["path"]))
    }
    missing = REQUIRED_SUITE_OPERATIONS - exercised
    if missing and not _other_test_modules_ran(request):
        pytest.skip(f"only this module ran: its {len(entries)} requests conform; run the suite to check closer's")
    assert not missing, f"the suite never sent {sorted(missing)}: the check above proved little"


def _other_test_modules_ran(request: pytest.FixtureRequest) -> bool:
    return any(item.path != request.path for item in request.session.items)


# --- the emulator's responses, read by the SDK ----------------------------------------------------


@pytest.fixture
def genesys(session_emulator: EmulatorServer) -> Iterator[httpx.Client]:
    """A plain HTTP client for the emulator with a bearer token from the client-credentials grant."""
    with httpx.Client(base_url=session_emulator.url, timeout=10) as http:
        token = http.post(
            sdk_oracle.OAUTH_TOKEN_PATH,
            auth=(EMULATOR_CLIENT_ID, EMULATOR_CLIENT_SECRET),
            data=sdk_oracle.OAUTH_TOKEN_BODY,
        )
        token.raise_for_status()
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield http


def fetch(http: httpx.Client, method: str, path: str, body: object = None) -> object:
    """One Genesys call; its request and its response must both be what the SDK declares."""
    op = sdk_oracle.match(method, path)
    assert op is not None, f"{method} {path} is not an SDK operation"
    if body is not None:
        assert op.body_type and sdk_oracle.check_body(op.body_type, body) == []
    response = http.request(method, path, json=body)
    assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
    data = response.json()
    # Only declared fields and enum values in the answer: the deserializer would silently drop the rest.
    assert op.response_type is not None
    assert sdk_oracle.check_value(op.response_type, data, "response") == []
    return data


def seed(session_emulator: EmulatorServer, scenario: str) -> dict:
    seeded = session_emulator.admin.seed(scenario)
    ORACLE_CONVERSATION_IDS.add(seeded["conversationId"])
    return seeded


@pytest.mark.parametrize("scenario", ["agent", "bot", "ended"])
def test_emulator_responses_deserialize_with_the_sdk(
    session_emulator: EmulatorServer, genesys: httpx.Client, scenario: str
) -> None:
    seeded = seed(session_emulator, scenario)
    conversation_id: str = seeded["conversationId"]
    seeded_participants: dict[str, dict] = seeded["participants"]  # purpose -> participantId, communicationId
    ended = scenario == "ended"

    conversation = sdk_oracle.deserialize(
        fetch(genesys, "GET", f"/api/v2/conversations/{conversation_id}"), "Conversation"
    )
    assert type(conversation).__name__ == "Conversation"
    assert conversation.id == conversation_id
    assert (conversation.end_time is not None) == ended
    by_purpose = {p.purpose: p for p in conversation.participants}
    assert set(by_purpose) == set(seeded_participants)
    for purpose, ids in seeded_participants.items():
        participant = by_purpose[purpose]
        assert participant.id == ids["participantId"]
        # The generic GET is the only one with communication ids: participant.messages[] (`Message`).
        communication = participant.messages[0]
        assert communication.id == ids["communicationId"]
        assert communication.type == "webmessaging"
        assert communication.state in ("alerting", "connected", "parked", "disconnected")
        if ended:
            assert communication.state == "disconnected"
            assert participant.end_time is not None

    message_conversation = sdk_oracle.deserialize(
        fetch(genesys, "GET", f"/api/v2/conversations/messages/{conversation_id}"), "MessageConversation"
    )
    assert message_conversation.id == conversation_id
    flat = {p.id: p for p in message_conversation.participants}
    assert set(flat) == {ids["participantId"] for ids in seeded_participants.values()}
    for purpose, ids in seeded_participants.items():
        participant = flat[ids["participantId"]]
        assert participant.purpose == purpose
        assert participant.state is not None
        assert participant.state != "outdated_sdk_version"  # the SDK's mark for a value it does not know
        if ended:
            assert participant.state == "disconnected"

    recordings = sdk_oracle.deserialize(
        fetch(genesys, "GET", f"/api/v2/conversations/{conversation_id}/recordings"), "list[Recording]"
    )
    assert len(recordings) == 1
    assert recordings[0].id and recordings[0].conversation_id == conversation_id
    assert recordings[0].media == "messaging"


def test_a_sent_message_reads_back_as_message_data_and_text_message_listing(
    session_emulator: EmulatorServer, genesys: httpx.Client
) -> None:
    seeded = seed(session_emulator, "agent")
    conversation_id = seeded["conversationId"]
    agent_communication = seeded["participants"]["agent"]["communicationId"]

    sent = sdk_oracle.deserialize(
        fetch(
            genesys,
            "POST",
            f"/api/v2/conversations/messages/{conversation_id}/communications/{agent_communication}/messages",
            {"textBody": "Thanks for chatting with us."},
        ),
        "MessageData",
    )
    assert sent.id and sent.conversation_id == conversation_id
    assert sent.direction == "outbound"

    listing = sdk_oracle.deserialize(
        fetch(genesys, "POST", f"/api/v2/conversations/messages/{conversation_id}/messages/bulk", [sent.id]),
        "TextMessageListing",
    )
    assert [message.id for message in listing.entities] == [sent.id]


def test_activity_and_the_details_query_read_back_with_the_sdk(
    session_emulator: EmulatorServer, genesys: httpx.Client
) -> None:
    conversation_id = seed(session_emulator, "bot")["conversationId"]
    sent = session_emulator.admin.send_message(conversation_id, "bot", "Anything else?")

    activity = sdk_oracle.deserialize(
        fetch(genesys, "GET", f"/api/v2/conversations/messages/{conversation_id}"), "MessageConversation"
    )
    bot = next(p for p in activity.participants if p.purpose == "workflow")
    assert [(m.message_id, m.message_status) for m in bot.messages] == [(sent["messageId"], "sent")]
    assert bot.messages[0].message_time.tzinfo is not None

    now = datetime.now(timezone.utc)
    query = ConversationQuery.open_web_messaging(now - timedelta(hours=1), now + timedelta(minutes=1), 1, 100)
    found = sdk_oracle.deserialize(
        fetch(genesys, "POST", DETAILS_QUERY, query.to_wire()), "AnalyticsConversationQueryResponse"
    )
    hit = next(c for c in found.conversations if c.conversation_id == conversation_id)
    assert found.total_hits >= 1 and hit.conversation_end is None
    assert {s.message_type for p in hit.participants for s in p.sessions} == {"webmessaging"}


# --- the oracle can fail ----------------------------------------------------------------------------

SOME_ID = str(uuid.uuid4())


def test_the_sdk_operations_are_parsed_from_the_installed_package() -> None:
    ops = sdk_oracle.operations()
    assert len(ops) > 3000  # 269.0.0 has 3,355 distinct (method, path) operations
    patch = ops[("PATCH", PARTICIPANT_PATCH)]
    assert patch.body_type == "MediaParticipantRequest"
    assert patch.sdk_function == "ConversationsApi.patch_conversations_message_participant"
    assert ops[("GET", CONVERSATION_GET)].response_type == "Conversation"
    assert ops[("POST", BULK_MESSAGES_POST)].body_type == "list[str]"
    assert ops[("GET", RECORDINGS_GET)].response_type == "list[Recording]"
    assert ops[("POST", DETAILS_QUERY)].body_type == "ConversationQuery"
    assert ops[("POST", DETAILS_QUERY)].response_type == "AnalyticsConversationQueryResponse"
    assert ops[("GET", MESSAGE_CONVERSATION_GET)].response_type == "MessageConversation"


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("PATCH", f"/api/v2/conversations/messages/{SOME_ID}/participants/{SOME_ID}", PARTICIPANT_PATCH),
        ("GET", f"/api/v2/conversations/{SOME_ID}", CONVERSATION_GET),
        ("GET", f"/api/v2/conversations/messages/{SOME_ID}", MESSAGE_CONVERSATION_GET),
        ("POST", f"/api/v2/conversations/messages/{SOME_ID}/communications/{SOME_ID}/messages", MESSAGE_POST),
        ("POST", f"/api/v2/conversations/messages/{SOME_ID}/messages/bulk", BULK_MESSAGES_POST),
        ("POST", f"/api/v2/conversations/{SOME_ID}/disconnect", "/api/v2/conversations/{conversationId}/disconnect"),
        ("POST", DETAILS_QUERY, DETAILS_QUERY),
        # Literal segments beat placeholders: not `/api/v2/conversations/{conversationId}`.
        ("GET", "/api/v2/conversations/messages", "/api/v2/conversations/messages"),
        ("POST", "/oauth/token", "/oauth/token"),
    ],
)
def test_a_concrete_path_matches_its_sdk_template(method: str, path: str, template: str) -> None:
    op = sdk_oracle.match(method, path)
    assert op is not None and op.path == template


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PATCH", f"/api/v2/conversations/webmessaging/{SOME_ID}"),
        ("GET", f"/api/v2/interactions/{SOME_ID}/routingStatus"),
        ("PATCH", f"/api/v2/conversations/messaging/{SOME_ID}"),
        ("POST", f"/api/v2/conversations/messages/{SOME_ID}/participants/{SOME_ID}/end"),
        ("PUT", f"/api/v2/conversations/{SOME_ID}"),
        ("GET", "/oauth/token"),
        ("PATCH", f"/api/v2/conversations/messages/{SOME_ID}/participants/"),  # an empty id is no id
    ],
)
def test_an_invented_endpoint_is_not_an_sdk_operation(method: str, path: str) -> None:
    assert sdk_oracle.match(method, path) is None


def test_the_session_check_rejects_an_invented_endpoint_even_when_a_template_would_match_it() -> None:
    entry = _log_entry("GET", "/api/v2/conversations/webmessaging", route=CONVERSATION_GET)
    assert sdk_oracle.match("GET", "/api/v2/conversations/webmessaging") is not None  # {conversationId}
    assert request_problems(entry) == [
        "GET /api/v2/conversations/webmessaging is an endpoint that does not exist (no webmessaging conversations API)"
    ]
    invented = _log_entry("PATCH", f"/api/v2/conversations/webmessaging/{SOME_ID}", body={"state": "disconnected"})
    assert request_problems(invented) and "does not exist" in request_problems(invented)[0]


def test_an_undeclared_field_is_rejected() -> None:
    problems = sdk_oracle.check_body("MediaParticipantRequest", {"state": "disconnected", "closedBy": "x"})
    assert len(problems) == 1 and "has no field 'closedBy'" in problems[0]


def test_an_enum_value_the_sdk_does_not_list_is_rejected() -> None:
    problems = sdk_oracle.check_body("MediaParticipantRequest", {"state": "closed"})
    assert len(problems) == 1 and "'closed' is not a MediaParticipantRequest.state value" in problems[0]
    # Exact spelling: the SDK setter would let "Disconnected" through, the API declares "disconnected".
    assert sdk_oracle.check_body("MediaParticipantRequest", {"state": "Disconnected"}) != []


def test_the_enum_values_agree_with_the_sdk_setter() -> None:
    """The setter swaps a value it does not know for "outdated_sdk_version": the parsed
    `allowed_values` must be exactly the ones it keeps."""
    allowed = sdk_oracle.model_info("MediaParticipantRequest").enums["state"]
    assert "disconnected" in allowed and "closed" not in allowed
    request = sdk_oracle.model_class("MediaParticipantRequest")()
    for value in allowed:
        request.state = value
        assert request.state == value
    request.state = "closed"
    assert request.state == "outdated_sdk_version"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"wrapup": {"code": SOME_ID, "durationSeconds": "30"}}, "wrapup.durationSeconds: expected int"),
        ({"state": "disconnected", "wrapup": {"code": SOME_ID, "outcome": "ok"}}, "WrapupInput has no field 'outcome'"),
        ({"wrapupSkipped": "true"}, "wrapupSkipped: expected bool"),
        ({"resumeTime": "tomorrow"}, "resumeTime: expected datetime"),
        (["state", "disconnected"], "expected a JSON object (MediaParticipantRequest)"),
        ({"state": 1}, "state: expected str"),
    ],
)
def test_wrong_kinds_and_nested_fields_are_rejected(body: object, expected: str) -> None:
    problems = sdk_oracle.check_body("MediaParticipantRequest", body)
    assert any(expected in p for p in problems), problems


def test_a_valid_body_passes() -> None:
    body = {
        "state": "disconnected",
        "wrapup": {"code": SOME_ID, "name": "Resolved", "notes": "closed by closer", "durationSeconds": 0},
        "wrapupSkipped": False,
        "resumeTime": "2025-01-01T00:00:00.000Z",
    }
    assert sdk_oracle.check_body("MediaParticipantRequest", body) == []
    assert sdk_oracle.check_body("Conversation", {"state": "disconnected"}) == []
    assert sdk_oracle.check_body("AdditionalMessage", {"textBody": "Goodbye"}) == []
    assert sdk_oracle.check_body("list[str]", [SOME_ID]) == []
    assert sdk_oracle.check_body("list[str]", [SOME_ID, 7]) == ["body[1]: expected str, got int 7"]
    assert sdk_oracle.check_body("ConversationQuery", _sweep_query().to_wire()) == []


def test_a_query_with_an_undeclared_field_or_enum_value_is_rejected() -> None:
    body = _sweep_query().to_wire()
    body["conversationFilters"][0]["predicates"][0]["operator"] = "notexists"
    body["paging"]["cursor"] = "next"
    problems = sorted(sdk_oracle.check_body("ConversationQuery", body))
    assert len(problems) == 2
    assert problems[0].startswith("body.conversationFilters[0].predicates[0].operator: 'notexists' is not")
    assert problems[1].startswith("body.paging.cursor: PagingSpec has no field 'cursor'")


def test_the_session_check_reports_every_kind_of_violation() -> None:
    path = f"/api/v2/conversations/messages/{SOME_ID}/participants/{SOME_ID}"
    assert request_problems(_log_entry("PATCH", path, route=PARTICIPANT_PATCH, body={"state": "disconnected"})) == []
    assert request_problems(_log_entry("PATCH", path, route=None, body={"state": "disconnected"})) == [
        f"the emulator routed it as None, the SDK operation is {PARTICIPANT_PATCH!r}"
    ]
    assert request_problems(_log_entry("PATCH", path, route=PARTICIPANT_PATCH, body="state=closed")) == [
        "the body is not JSON: 'state=closed'"
    ]
    assert request_problems(_log_entry("PATCH", path, route=PARTICIPANT_PATCH, query={"force": "1"})) == [
        "query parameters the SDK does not declare: ['force']"
    ]
    disconnect = f"/api/v2/conversations/{SOME_ID}/disconnect"
    assert "takes no body" in request_problems(_log_entry("POST", disconnect, body={"state": "closed"}))[0]
    assert request_problems(_log_entry("POST", "/oauth/token", body=dict(sdk_oracle.OAUTH_TOKEN_BODY))) == []
    assert "cannot be checked" in request_problems(_log_entry("POST", "/oauth/token", body=None))[0]
    token = _log_entry("POST", "/oauth/token", body={"grant_type": "password"})
    assert request_problems(token) == [
        "the token request must be the client-credentials grant, got {'grant_type': 'password'}"
    ]


def _sweep_query() -> ConversationQuery:
    return ConversationQuery.open_web_messaging(
        datetime(2026, 1, 1, tzinfo=timezone.utc), datetime.now(timezone.utc), page_number=1, page_size=25
    )


def _log_entry(
    method: str, path: str, *, route: str | EllipsisType | None = ..., body: object = None, query: dict | None = None
) -> dict:
    """A request-log entry as the emulator writes it; `route` defaults to the oracle's template."""
    if route is ...:
        op = sdk_oracle.match(method, path)
        route = op.path if op else None
    return {
        "seq": 0,
        "time": 0.0,
        "method": method,
        "path": path,
        "route": route,
        "query": query or {},
        "status": 200,
        "body": body,
        "client_id": EMULATOR_CLIENT_ID,
    }
