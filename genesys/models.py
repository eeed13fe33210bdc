"""Pydantic models of the subset of the Genesys Cloud API closer uses.

Field names are the wire names of the official SDK's models (camelCase aliases). Responses keep
only the fields closer reads, so customer text (message bodies, transcripts, names) is dropped at
the edge and can never reach a workflow history. Requests declare only fields the SDK declares.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class GenesysModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")

    def to_wire(self) -> dict:
        """The JSON body Genesys expects: camelCase, unset fields left out."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


# --- reading: GET /api/v2/conversations/{conversationId} -> Conversation ---------------------


class MessageDetails(GenesysModel):
    """One message on a communication: ids and status only, never its text."""

    message_id: str | None = None


class Wrapup(GenesysModel):
    code: str | None = None


class MessageCommunication(GenesysModel):
    """The SDK's ``Message``: one messaging communication of a participant."""

    id: str
    state: Literal["alerting", "connected", "parked", "disconnected"] | None = None
    type: str | None = None
    messages: list[MessageDetails] = Field(default_factory=list)


class Participant(GenesysModel):
    id: str
    purpose: str | None = None
    wrapup_required: bool | None = None
    wrapup_prompt: str | None = None
    wrapup_skipped: bool | None = None
    wrapup: Wrapup | None = None
    messages: list[MessageCommunication] = Field(default_factory=list)
    # Other media kinds only matter to tell a web messaging conversation from anything else.
    calls: list[dict] = Field(default_factory=list)
    chats: list[dict] = Field(default_factory=list)
    emails: list[dict] = Field(default_factory=list)


class Conversation(GenesysModel):
    id: str
    end_time: datetime | None = None
    participants: list[Participant] = Field(default_factory=list)


# --- ending ----------------------------------------------------------------------------------


class WrapupInput(GenesysModel):
    """Body of the wrap-up POST, and the ``wrapup`` of a participant PATCH."""

    code: str


class MediaParticipantRequest(GenesysModel):
    """Body of ``PATCH /api/v2/conversations/messages/{cId}/participants/{pId}``."""

    state: Literal["connected", "disconnected"] | None = None
    wrapup: WrapupInput | None = None
    wrapup_skipped: bool | None = None


class ConversationStateRequest(GenesysModel):
    """Body of ``PATCH /api/v2/conversations/messages/{cId}``: a ``Conversation`` with only ``state``.

    The SDK's model marks ``startTime`` and ``participants`` required, so typed SDKs send dummies;
    the bare state is what the operation reads.
    """

    state: Literal["disconnected"] = "disconnected"


class AdditionalMessage(GenesysModel):
    """Body of the message POST on a communication."""

    text_body: str = Field(max_length=2000)


class NormalizedMessage(GenesysModel):
    text: str | None = None


class MessageData(GenesysModel):
    id: str
    #: inbound: from the customer; outbound: to the customer (agent, bot, closer).
    direction: Literal["inbound", "outbound"] | None = None
    normalized_message: NormalizedMessage | None = None


class TextMessageListing(GenesysModel):
    entities: list[MessageData] = Field(default_factory=list)


# --- transcripts -----------------------------------------------------------------------------


class Recording(GenesysModel):
    """A recording; the transcript it carries is deliberately not modelled."""

    id: str
    delete_date: datetime | None = None


class RecordingRetention(GenesysModel):
    """Body of the recording PUT that schedules deletion (a ``Recording`` with ``deleteDate``)."""

    delete_date: datetime
