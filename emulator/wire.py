"""State rendered as the Genesys JSON the official SDK models declare.

Field names, and enum values, are exactly those of the SDK models named in each function
(`purecloudplatformclientv2` 269.0.0); absent values are left out rather than sent as null.
"""

from __future__ import annotations

from .clock import iso
from .config import MessagePlacement
from .state import ChatMessage, Communication, Conversation, Participant


def conversation(c: Conversation, placement: MessagePlacement) -> dict[str, object]:
    """`Conversation`, as `GET /api/v2/conversations/{conversationId}` answers."""
    return _compact(
        {
            "id": c.id,
            "startTime": iso(c.started_at),
            "endTime": _iso_or_none(c.ended_at),
            "participants": [_participant(p, _listed_messages(c, p, placement)) for p in c.participants],
            "selfUri": f"/api/v2/conversations/{c.id}",
        }
    )


def message_conversation(c: Conversation, placement: MessagePlacement) -> dict[str, object]:
    """`MessageConversation`, as `GET /api/v2/conversations/messages/{conversationId}` answers.

    It has no `endTime` and no communication ids: participants are flat."""
    return _compact(
        {
            "id": c.id,
            "participants": [_message_media_participant(p, _listed_messages(c, p, placement)) for p in c.participants],
            "selfUri": f"/api/v2/conversations/messages/{c.id}",
        }
    )


def recording(c: Conversation) -> dict[str, object]:
    """`Recording`: the conversation's one messaging recording, with its transcript."""
    return _compact(
        {
            "id": c.recording_id,
            "conversationId": c.id,
            "startTime": iso(c.started_at),
            "endTime": _iso_or_none(c.ended_at),
            "media": "messaging",
            "fileState": "AVAILABLE",
            "messagingTranscript": [_transcript_entry(p, m) for p, m in c.messages()],
            "deleteDate": c.recording_delete_date,
            "selfUri": f"/api/v2/conversations/{c.id}/recordings/{c.recording_id}",
        }
    )


def message_data(c: Conversation, participant: Participant, message: ChatMessage) -> dict[str, object]:
    """`MessageData`: one message with its text (normalized)."""
    direction = message.direction
    return {
        "id": message.id,
        "conversationId": c.id,
        "timestamp": iso(message.at),
        "direction": direction,
        "messengerType": participant.communication.type,
        "status": _status(message),
        "normalizedMessage": {
            "id": message.id,
            "type": "Text",
            "text": message.text,
            "direction": direction.capitalize(),
        },
        "selfUri": f"/api/v2/conversations/messages/{c.id}/messages/{message.id}",
    }


def analytics_conversation(c: Conversation, end: float | None) -> dict[str, object]:
    """`AnalyticsConversationWithoutAttributes`, with the end analytics knows of (it lags)."""
    return _compact(
        {
            "conversationId": c.id,
            "conversationStart": iso(c.started_at),
            "conversationEnd": _iso_or_none(end),
            "originatingDirection": "inbound",
            "participants": [_analytics_participant(p) for p in c.participants],
        }
    )


def _analytics_participant(p: Participant) -> dict[str, object]:
    """`AnalyticsParticipantWithoutAttributes` with its communication as its one `AnalyticsSession`."""
    comm = p.communication
    session = {"sessionId": comm.id, "mediaType": "message", "messageType": comm.type, "direction": comm.direction}
    return _compact({"participantId": p.id, "purpose": p.purpose, "userId": p.user_id, "sessions": [session]})


def _listed_messages(c: Conversation, p: Participant, placement: MessagePlacement) -> list[ChatMessage]:
    """The messages a participant's `messages[]` lists. UNCONFIRMED in Genesys: each on its
    sender (the default), or all of them on the customer (config `message_placement`)."""
    if placement == "sender":
        return p.communication.messages
    return [m for _, m in c.messages()] if p.purpose == "customer" else []


def _participant(p: Participant, messages: list[ChatMessage]) -> dict[str, object]:
    """`Participant` of the generic GET: its communication is `messages[0]` (a `Message`)."""
    return _compact(
        {
            "id": p.id,
            "startTime": iso(p.joined_at),
            "endTime": _iso_or_none(p.communication.disconnected_at),
            "connectedTime": iso(p.communication.connected_at),
            "name": p.name,
            "userId": p.user_id,
            "queueId": p.queue_id,
            "purpose": p.purpose,
            **_wrapup_fields(p),
            "messages": [_communication(p.communication, messages)],
        }
    )


def _communication(comm: Communication, messages: list[ChatMessage]) -> dict[str, object]:
    """`Message`: a messaging communication."""
    return _compact(
        {
            "state": comm.state,
            "initialState": comm.initial_state,
            "id": comm.id,
            "direction": comm.direction,
            "disconnectType": comm.disconnect_type,
            "connectedTime": iso(comm.connected_at),
            "disconnectedTime": _iso_or_none(comm.disconnected_at),
            "type": comm.type,
            "messages": [_message_details(m) for m in messages],
        }
    )


def _message_media_participant(p: Participant, messages: list[ChatMessage]) -> dict[str, object]:
    comm = p.communication
    return _compact(
        {
            "id": p.id,
            "name": p.name,
            "startTime": iso(p.joined_at),
            "connectedTime": iso(comm.connected_at),
            "endTime": _iso_or_none(comm.disconnected_at),
            "purpose": p.purpose,
            "state": comm.state,
            "direction": comm.direction,
            "disconnectType": comm.disconnect_type,
            "user": {"id": p.user_id} if p.user_id else None,
            "queue": {"id": p.queue_id} if p.queue_id else None,
            **_wrapup_fields(p),
            "type": comm.type,
            "messages": [_message_details(m) for m in messages],
        }
    )


def _wrapup_fields(p: Participant) -> dict[str, object]:
    """Shared by `Participant` and `MessageMediaParticipant` (same names in both)."""
    return {
        "wrapupRequired": p.wrapup_required,
        "wrapupPrompt": p.wrapup_prompt,
        "wrapupSkipped": p.wrapup_skipped,
        "wrapup": p.wrapup,
        "startAcwTime": _iso_or_none(p.acw_started_at),
        "endAcwTime": _iso_or_none(p.acw_ended_at),
    }


def _message_details(m: ChatMessage) -> dict[str, object]:
    """`MessageDetails`: ids and status only; the text is not part of the conversation GETs."""
    return {"messageId": m.id, "messageStatus": _status(m), "messageTime": iso(m.at)}


def _transcript_entry(p: Participant, m: ChatMessage) -> dict[str, object]:
    """`RecordingMessagingMessage`."""
    return {
        "from": p.communication.id,
        "timestamp": iso(m.at),
        "id": m.id,
        "purpose": p.purpose,
        "participantId": p.id,
        "messageText": m.text,
    }


def _status(m: ChatMessage) -> str:
    """Inbound: `received`; outbound: `sent`, or `delivery-success` once a guest's socket got it."""
    if m.direction == "inbound":
        return "received"
    return "delivery-success" if m.delivered else "sent"


def _iso_or_none(at: float | None) -> str | None:
    return None if at is None else iso(at)


def _compact(fields: dict[str, object]) -> dict[str, object]:
    return {name: value for name, value in fields.items() if value is not None}
