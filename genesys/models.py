"""Pydantic models of the subset of the Genesys Cloud API closer uses.

Field names are the wire names of the official SDK's models (camelCase aliases). Responses keep
only the fields closer reads, so customer text (message bodies, transcripts, names) is dropped at
the edge and can never reach a workflow history. Requests declare only fields the SDK declares.
"""

from __future__ import annotations

from datetime import datetime, timezone
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
    """One message of a participant: its id and when it was sent or received, never its text."""

    message_id: str | None = None
    message_time: datetime | None = None


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


# --- activity: GET /api/v2/conversations/messages/{conversationId} -> MessageConversation -----

MediaState = Literal[
    "alerting", "dialing", "contacting", "offering", "connected", "disconnected",
    "terminated", "converting", "uploading", "transmitting", "parked", "none",
]  # fmt: skip


class MessageMediaParticipant(GenesysModel):
    """A participant of the messaging GET: flat (no communication ids), with its messages."""

    id: str
    purpose: str | None = None
    state: MediaState | None = None
    type: str | None = None
    start_time: datetime | None = None
    messages: list[MessageDetails] = Field(default_factory=list)
    """Which participant lists which message is UNCONFIRMED: the latest ``messageTime`` over all
    participants is the last activity; the bulk read's ``direction`` says who sent it."""


class MessageConversation(GenesysModel):
    id: str
    participants: list[MessageMediaParticipant] = Field(default_factory=list)


# --- finding conversations: POST /api/v2/analytics/conversations/details/query ---------------


class DetailQueryPredicate(GenesysModel):
    """A dimension predicate of ``ConversationDetailQueryPredicate`` or ``SegmentDetailQueryPredicate``
    (same fields for what closer asks)."""

    type: Literal["dimension"] = "dimension"
    dimension: str
    operator: Literal["matches", "exists", "notExists"] | None = None
    """None: ``matches`` (the API's default)."""
    value: str | None = None


class DetailQueryFilter(GenesysModel):
    """``ConversationDetailQueryFilter`` or ``SegmentDetailQueryFilter``."""

    type: Literal["and", "or"]
    predicates: list[DetailQueryPredicate]


class PagingSpec(GenesysModel):
    page_size: int = Field(ge=1)
    page_number: int = Field(ge=1)


class ConversationQuery(GenesysModel):
    """Body of the details query: conversations that started in ``interval``, oldest first."""

    interval: str
    """``start/end``, ISO-8601 with milliseconds and ``Z``."""
    order: Literal["asc", "desc"] = "asc"
    order_by: Literal["conversationStart"] = "conversationStart"
    paging: PagingSpec
    conversation_filters: list[DetailQueryFilter] = Field(default_factory=list)
    segment_filters: list[DetailQueryFilter] = Field(default_factory=list)

    @classmethod
    def open_web_messaging(
        cls, interval_start: datetime, interval_end: datetime, page_number: int, page_size: int
    ) -> ConversationQuery:
        """Web messaging conversations with no ``conversationEnd`` yet (as analytics knows it)."""
        return cls(
            interval=f"{_utc_ms(interval_start)}/{_utc_ms(interval_end)}",
            paging=PagingSpec(page_size=page_size, page_number=page_number),
            conversation_filters=[
                DetailQueryFilter(
                    type="and",
                    predicates=[DetailQueryPredicate(dimension="conversationEnd", operator="notExists")],
                )
            ],
            segment_filters=[
                DetailQueryFilter(
                    type="and",
                    predicates=[
                        DetailQueryPredicate(dimension="mediaType", value="message"),
                        DetailQueryPredicate(dimension="messageType", value="webmessaging"),
                    ],
                )
            ],
        )


class AnalyticsConversation(GenesysModel):
    """The SDK's ``AnalyticsConversationWithoutAttributes``: only the id and the times."""

    conversation_id: str
    conversation_start: datetime
    conversation_end: datetime | None = None


class AnalyticsConversationQueryResponse(GenesysModel):
    conversations: list[AnalyticsConversation] = Field(default_factory=list)
    """Genesys may leave the list out when nothing matches."""
    total_hits: int = 0
    """Matches over all pages."""


def _utc_ms(moment: datetime) -> str:
    """A moment as Genesys writes it: UTC, milliseconds, ``Z``. A naive datetime is refused
    rather than guessed to be UTC or local."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone")
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
