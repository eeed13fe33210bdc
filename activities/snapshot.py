"""Turn Genesys's ``Conversation`` into the PII-free snapshot the workflow decides on."""

from __future__ import annotations

from genesys.models import Conversation, Participant

from .models import CommunicationSnapshot, ConversationSnapshot, ParticipantSnapshot


def snapshot_of(conversation: Conversation) -> ConversationSnapshot:
    participants = [_participant(p) for p in conversation.participants]
    media = {c.type for p in participants for c in p.communications if c.type}
    if any(p.calls or p.chats or p.emails for p in conversation.participants):
        media.add("other")
    return ConversationSnapshot(
        conversation_id=conversation.id,
        end_time=conversation.end_time,
        media_types=sorted(media),
        participants=participants,
    )


def _participant(participant: Participant) -> ParticipantSnapshot:
    return ParticipantSnapshot(
        id=participant.id,
        purpose=participant.purpose,
        communications=[
            CommunicationSnapshot(
                id=m.id,
                state=m.state,
                type=m.type,
                message_ids=[d.message_id for d in m.messages if d.message_id],
            )
            for m in participant.messages
        ],
        wrapup_required=bool(participant.wrapup_required),
        wrapup_prompt=participant.wrapup_prompt,
        wrapup_done=participant.wrapup is not None or bool(participant.wrapup_skipped),
    )
