"""The Genesys client's reads for watching and sweeping, against the emulator over real HTTP:
message activity (`messageTime`) and the analytics details query for open conversations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from emulator.clock import format_iso
from emulator.server import EmulatorServer
from genesys import GenesysClient, PermissionDenied, RateLimited, counting_calls
from genesys.models import MessageConversation

from .conftest import emulator_profile, seed
from .emulator.test_emulator_analytics import open_web_messaging

DETAILS_QUERY = "/api/v2/analytics/conversations/details/query"


def ago(seconds: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=seconds)


def last_message_time(conversation: MessageConversation) -> datetime:
    return max(m.message_time for p in conversation.participants for m in p.messages if m.message_time)


def the_last_hours(hours: float = 3) -> tuple[datetime, datetime]:
    now = datetime.now(timezone.utc)
    return now - timedelta(hours=hours), now + timedelta(minutes=1)


async def test_message_conversation_dates_each_participants_messages(emulator: EmulatorServer) -> None:
    seeded = seed(emulator, "bot", started_ago_s=600, last_message_age_s=300)
    cid = seeded["conversationId"]
    async with GenesysClient(emulator_profile(emulator.url)) as client:
        before = await client.get_message_conversation(cid)
        sent = emulator.admin.send_message(cid, "bot", "Are you still there?")
        after = await client.get_message_conversation(cid)

    customer = next(p for p in before.participants if p.purpose == "customer")
    assert customer.state == "connected" and customer.type == "webmessaging"
    assert abs((customer.start_time - ago(600)).total_seconds()) < 2
    assert abs((last_message_time(before) - ago(300)).total_seconds()) < 2
    assert customer.messages[-1].message_time == last_message_time(before)
    bot = next(p for p in after.participants if p.purpose == "workflow")
    assert [m.message_id for m in bot.messages] == [sent["messageId"]]
    assert last_message_time(after) == datetime.fromisoformat(sent["messageTime"].replace("Z", "+00:00"))
    assert "says" not in after.model_dump_json()  # ids and times only: never the customer's text


async def test_details_query_pages_through_the_open_web_messaging_conversations(own_emulator: EmulatorServer) -> None:
    opened = [own_emulator.admin.seed("bot", started_ago_s=3000 - i)["conversationId"] for i in range(60)]
    own_emulator.admin.seed("ended", started_ago_s=2000)
    own_emulator.admin.seed("not_web_messaging", started_ago_s=2000)
    start, end = the_last_hours()
    async with GenesysClient(emulator_profile(own_emulator.url)) as client:
        with counting_calls() as calls:
            pages = [await client.query_conversation_details(start, end, page, 25) for page in (1, 2, 3, 4)]

    assert calls.count == 4
    assert [page.total_hits for page in pages] == [60] * 4
    assert [c.conversation_id for page in pages for c in page.conversations] == opened
    assert pages[3].conversations == []  # Genesys leaves the list out of an empty page
    assert all(c.conversation_end is None and c.conversation_start < end for c in pages[0].conversations)
    [first, *_] = [r for r in own_emulator.admin.requests() if r["path"] == DETAILS_QUERY]
    assert first["body"] == open_web_messaging(f"{format_iso(start)}/{format_iso(end)}", page_number=1, page_size=25)


async def test_details_query_errors_are_typed_like_every_other_call(emulator: EmulatorServer) -> None:
    emulator.admin.add_client("viewer", "viewer-secret", ["conversation:communication:view"])
    viewer = emulator_profile(emulator.url).model_copy(update={"client_id": "viewer"})
    viewer = viewer.model_copy(update={"client_secret": type(viewer.client_secret)("viewer-secret")})
    emulator.admin.add_fault(route=DETAILS_QUERY, status=429, retry_after=3, count=1)
    start, end = the_last_hours()

    async with GenesysClient(emulator_profile(emulator.url)) as client:
        with pytest.raises(RateLimited) as limited:
            await client.query_conversation_details(start, end)
        with pytest.raises(ValueError, match="no time zone"):
            await client.query_conversation_details(start.replace(tzinfo=None), end)
    async with GenesysClient(viewer) as client:
        with pytest.raises(PermissionDenied, match="analytics:conversationDetail:view"):
            await client.query_conversation_details(start, end)

    assert limited.value.retry_after == 3
