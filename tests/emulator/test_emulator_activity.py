"""Message activity: each message's `messageTime` in the messaging GET, seeded histories in the
past, and participants sending on demand through the admin API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from emulator import AdminRequestError, EmulatorServer

from .conftest import GenesysApi


def when(stamp: str) -> datetime:
    """A Genesys timestamp, checking it is written as Genesys writes it (ms, `Z`)."""
    assert len(stamp) == len("2026-11-21T12:00:00.000Z") and stamp.endswith("Z"), stamp
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def ago(seconds: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=seconds)


def assert_near(stamp: str, expected: datetime, tolerance_s: float = 2.0) -> None:
    assert abs((when(stamp) - expected).total_seconds()) < tolerance_s, (stamp, expected)


def by_purpose(conversation: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["purpose"]: p for p in conversation["participants"]}


def test_seeded_customer_messages_are_dated_from_the_conversation_start(emu: EmulatorServer, api: GenesysApi) -> None:
    cid = emu.admin.seed("agent", customer_messages=["one", "two"])["conversationId"]

    customer = by_purpose(api.message_conversation(cid))["customer"]

    assert_near(customer["startTime"], ago(120))  # seeds start two minutes ago by default
    assert [when(m["messageTime"]) - when(customer["startTime"]) for m in customer["messages"]] == [
        timedelta(seconds=5),
        timedelta(seconds=10),
    ]
    assert {m["messageStatus"] for m in customer["messages"]} == {"received"}


def test_a_stale_conversation_is_seeded_with_its_last_message_in_the_past(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("bot", started_ago_s=3000, last_message_age_s=2400, customer_messages=["a", "b", "c"])

    participants = by_purpose(api.message_conversation(seeded["conversationId"]))

    assert_near(participants["customer"]["startTime"], ago(3000))
    times = [when(m["messageTime"]) for m in participants["customer"]["messages"]]
    assert_near(participants["customer"]["messages"][-1]["messageTime"], ago(2400))
    assert [b - a for a, b in zip(times, times[1:])] == [timedelta(seconds=5)] * 2
    assert participants["workflow"]["messages"] == []


def test_a_conversation_seeded_as_starting_now_has_nothing_in_the_future(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("ended", started_ago_s=0)
    conversation = api.conversation(seeded["conversationId"])
    stamps = [conversation["startTime"], conversation["endTime"]]
    stamps += [p[key] for p in conversation["participants"] for key in ("startTime", "endTime")]
    stamps += [m["messageTime"] for p in conversation["participants"] for m in p["messages"][0]["messages"]]

    assert max(when(s) for s in stamps) <= datetime.now(timezone.utc)


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        ({"started_ago_s": 60, "last_message_age_s": 61}, "cannot be more than started_ago_s"),
        ({"customer_messages": [], "last_message_age_s": 0}, "needs customer_messages"),
        ({"started_ago_s": -1}, "greater than or equal to 0"),
    ],
)
def test_a_seed_with_an_impossible_history_is_refused(emu: EmulatorServer, fields: dict, complaint: str) -> None:
    with pytest.raises(AdminRequestError, match=complaint):
        emu.admin.seed("agent", **fields)


@pytest.mark.parametrize(("scenario", "sender", "purpose"), [("agent", "agent", "agent"), ("bot", "bot", "workflow")])
def test_a_message_sent_now_is_the_latest_activity_on_its_sender(
    emu: EmulatorServer, api: GenesysApi, scenario: str, sender: str, purpose: str
) -> None:
    cid = emu.admin.seed(scenario, started_ago_s=600, last_message_age_s=300)["conversationId"]

    sent = emu.admin.send_message(cid, sender, "Are you still there?")
    answered = emu.admin.send_message(cid, "customer", "Yes, sorry")

    participants = by_purpose(api.message_conversation(cid))
    assert participants[purpose]["id"] == sent["participantId"]
    assert participants[purpose]["messages"] == [
        {"messageId": sent["messageId"], "messageStatus": "sent", "messageTime": sent["messageTime"]}
    ]
    assert participants["customer"]["messages"][-1]["messageId"] == answered["messageId"]
    assert participants["customer"]["messages"][-1]["messageTime"] == answered["messageTime"]
    assert_near(answered["messageTime"], ago(0))
    assert when(sent["messageTime"]) <= when(answered["messageTime"])
    # The generic GET lists the same messages on the participant's communication.
    generic = by_purpose(api.conversation(cid))[purpose]["messages"][0]["messages"]
    assert [m["messageId"] for m in generic] == [sent["messageId"]]
    # The text stays in the emulator: Genesys shows it only to the bulk lookup and the transcript.
    view = emu.admin.conversation(cid)
    assert "Are you still there?" in [m["text"] for m in view["sent_messages"]]
    assert "Yes, sorry" in [m["text"] for m in view["customer_messages"]]


def test_with_customer_placement_every_message_is_listed_on_the_customer(emu: EmulatorServer, api: GenesysApi) -> None:
    emu.admin.config(message_placement="customer")
    cid = emu.admin.seed("agent", customer_messages=["hello"])["conversationId"]
    sent = emu.admin.send_message(cid, "agent", "Hi, how can I help?")

    for conversation in (api.message_conversation(cid), api.conversation(cid)):
        listed = {
            p["purpose"]: p["messages"] if "type" in p else p["messages"][0]["messages"]
            for p in conversation["participants"]
        }
        assert [m["messageId"] for m in listed["customer"]][-1] == sent["messageId"]
        assert [m["messageStatus"] for m in listed["customer"]] == ["received", "sent"]
        assert listed["agent"] == listed["acd"] == []


@pytest.mark.parametrize(
    ("scenario", "sender", "complaint"),
    [
        ("agent", "robot", "from: Input should be 'customer', 'agent' or 'bot'"),
        ("agent", "bot", "has no bot"),
        ("bot", "agent", "has no agent"),
        ("ended", "customer", "no longer connected"),
        ("ended", "agent", "no longer connected"),
    ],
)
def test_a_message_from_someone_absent_or_gone_is_refused(
    emu: EmulatorServer, scenario: str, sender: str, complaint: str
) -> None:
    cid = emu.admin.seed(scenario)["conversationId"]
    with pytest.raises(AdminRequestError, match=f"400 .*{complaint}"):
        emu.admin.send_message(cid, sender, "hello?")


def test_a_message_needs_a_known_conversation_and_some_text(emu: EmulatorServer) -> None:
    with pytest.raises(AdminRequestError, match="404 Conversation nope not found"):
        emu.admin.send_message("nope", "agent", "hello?")
    cid = emu.admin.seed("agent")["conversationId"]
    with pytest.raises(AdminRequestError, match="400 text: String should have at least 1 character"):
        emu.admin.send_message(cid, "agent", "")
