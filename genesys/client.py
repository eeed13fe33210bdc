"""An async Genesys Cloud client for the operations that end a Web Messaging conversation."""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from pydantic import TypeAdapter

from .auth import TokenSource
from .errors import RateLimited, Unreachable, error_from_response
from .models import (
    AdditionalMessage,
    AnalyticsConversationQueryResponse,
    Conversation,
    ConversationQuery,
    ConversationStateRequest,
    MediaParticipantRequest,
    MessageConversation,
    MessageData,
    Recording,
    RecordingRetention,
    TextMessageListing,
    WrapupInput,
)
from .pacing import RequestPacer
from .profile import Profile

log = logging.getLogger(__name__)

#: Per HTTP request; activities' start-to-close timeouts sit above it.
HTTP_TIMEOUT_SECONDS = 10.0

_RECORDINGS = TypeAdapter(list[Recording])


@dataclass
class CallLog:
    """The API calls (token requests excluded) made in a block: each one's operation (the client
    method), status (the HTTP status, or ``unreachable``) and seconds it waited for the pacer."""

    calls: list[tuple[str, str, float]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.calls)


# The log of API calls made in the current task (an activity), when someone is counting.
_calls: contextvars.ContextVar[CallLog | None] = contextvars.ContextVar("genesys_calls", default=None)


@contextlib.contextmanager
def counting_calls() -> Iterator[CallLog]:
    """Log the API calls (token requests excluded) made inside the block."""
    log = CallLog()
    reset = _calls.set(log)
    try:
        yield log
    finally:
        _calls.reset(reset)


class GenesysClient:
    """One pooled HTTP client, token cache and pacer for one profile; share it, never make one per call."""

    def __init__(self, profile: Profile, *, timeout: float = HTTP_TIMEOUT_SECONDS) -> None:
        self.profile = profile
        self._http = httpx.AsyncClient(
            base_url=profile.hosts.api_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=50, max_keepalive_connections=20),
            headers={"User-Agent": "closer/0.1"},
        )
        self._tokens = TokenSource(profile, self._http)
        self._pacer = RequestPacer(profile.requests_per_minute, window_seconds=profile.rate_limit_window_seconds)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> GenesysClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # --- reading ---------------------------------------------------------------------------

    async def get_conversation(self, conversation_id: str) -> Conversation:
        """``GET /api/v2/conversations/{conversationId}``: the only read that has ``endTime``."""
        response = await self._request("get_conversation", "GET", f"/api/v2/conversations/{conversation_id}")
        return Conversation.model_validate(response.json())

    async def get_message_conversation(self, conversation_id: str) -> MessageConversation:
        """``GET /api/v2/conversations/messages/{conversationId}``: each participant's messages with
        their ``messageTime``, the conversation's activity. No ``endTime`` here."""
        response = await self._request(
            "get_message_conversation", "GET", f"/api/v2/conversations/messages/{conversation_id}"
        )
        return MessageConversation.model_validate(response.json())

    async def query_conversation_details(
        self, interval_start: datetime, interval_end: datetime, page_number: int = 1, page_size: int = 100
    ) -> AnalyticsConversationQueryResponse:
        """``POST /api/v2/analytics/conversations/details/query``: one page (numbered from 1) of
        the web messaging conversations that started in the interval and that analytics does not
        know to have ended. Analytics lags: a hit is a candidate to read, not a verdict."""
        query = ConversationQuery.open_web_messaging(interval_start, interval_end, page_number, page_size)
        response = await self._request(
            "query_conversation_details", "POST", "/api/v2/analytics/conversations/details/query", json=query.to_wire()
        )
        return AnalyticsConversationQueryResponse.model_validate(response.json())

    async def get_message_texts(self, conversation_id: str, message_ids: list[str]) -> list[MessageData]:
        """``POST /api/v2/conversations/messages/{conversationId}/messages/bulk``."""
        response = await self._request(
            "get_message_texts",
            "POST",
            f"/api/v2/conversations/messages/{conversation_id}/messages/bulk",
            json=message_ids,
        )
        return TextMessageListing.model_validate(response.json()).entities

    # --- ending ----------------------------------------------------------------------------

    async def patch_message_participant(
        self, conversation_id: str, participant_id: str, body: MediaParticipantRequest
    ) -> None:
        """``PATCH /api/v2/conversations/messages/{conversationId}/participants/{participantId}``: 202."""
        await self._request(
            "patch_message_participant",
            "PATCH",
            f"/api/v2/conversations/messages/{conversation_id}/participants/{participant_id}",
            json=body.to_wire(),
        )

    async def disconnect_message_conversation(self, conversation_id: str) -> None:
        """``PATCH /api/v2/conversations/messages/{conversationId}`` ``{"state":"disconnected"}``."""
        await self._request(
            "disconnect_message_conversation",
            "PATCH",
            f"/api/v2/conversations/messages/{conversation_id}",
            json=ConversationStateRequest().to_wire(),
        )

    async def apply_wrapup(
        self, conversation_id: str, participant_id: str, communication_id: str, wrapup: WrapupInput
    ) -> None:
        """``POST .../participants/{participantId}/communications/{communicationId}/wrapup``: 202."""
        await self._request(
            "apply_wrapup",
            "POST",
            f"/api/v2/conversations/messages/{conversation_id}/participants/{participant_id}"
            f"/communications/{communication_id}/wrapup",
            json=wrapup.to_wire(),
        )

    async def send_message(self, conversation_id: str, communication_id: str, text: str) -> MessageData:
        """``POST /api/v2/conversations/messages/{conversationId}/communications/{communicationId}/messages``."""
        response = await self._request(
            "send_message",
            "POST",
            f"/api/v2/conversations/messages/{conversation_id}/communications/{communication_id}/messages",
            json=AdditionalMessage(text_body=text).to_wire(),
        )
        return MessageData.model_validate(response.json())

    async def teardown(self, conversation_id: str) -> None:
        """``POST /api/v2/conversations/{conversationId}/disconnect``: the last resort, 202."""
        await self._request("teardown", "POST", f"/api/v2/conversations/{conversation_id}/disconnect")

    # --- transcripts -----------------------------------------------------------------------

    async def get_recordings(self, conversation_id: str) -> list[Recording]:
        """``GET /api/v2/conversations/{conversationId}/recordings``."""
        response = await self._request("get_recordings", "GET", f"/api/v2/conversations/{conversation_id}/recordings")
        return _RECORDINGS.validate_python(response.json() or [])

    async def schedule_recording_deletion(
        self, conversation_id: str, recording_id: str, retention: RecordingRetention
    ) -> Recording:
        """``PUT /api/v2/conversations/{conversationId}/recordings/{recordingId}`` with ``deleteDate``."""
        response = await self._request(
            "schedule_recording_deletion",
            "PUT",
            f"/api/v2/conversations/{conversation_id}/recordings/{recording_id}",
            json=retention.to_wire(),
        )
        return Recording.model_validate(response.json())

    # --- transport -------------------------------------------------------------------------

    async def _request(self, operation: str, method: str, path: str, *, json: object = None) -> httpx.Response:
        token = await self._tokens.token()
        response = await self._send(operation, method, path, json, token)
        if response.status_code == 401:
            # The token may have expired early or been revoked: fetch a new one, once.
            self._tokens.invalidate(token)
            response = await self._send(operation, method, path, json, await self._tokens.token())
        if response.is_error:
            error = error_from_response(response)
            if isinstance(error, RateLimited):
                self._pacer.hold_off(error.retry_after or 1)
            # DEBUG: an error a step does not handle is logged once, as its failed attempt
            # (closer.logs), and one it handles (a 409 answered by a read) is no news.
            log.debug("%s %s -> %s %s contextId=%s", method, path, error.status, error.code, error.context_id)
            raise error
        return response

    async def _send(self, operation: str, method: str, path: str, json: object, token: str) -> httpx.Response:
        waited = await self._pacer.wait_turn()
        status = "unreachable"
        try:
            response = await self._http.request(method, path, json=json, headers={"Authorization": f"Bearer {token}"})
            status = str(response.status_code)
            return response
        except httpx.TimeoutException:
            raise Unreachable(f"{method} {path}: no answer in time") from None
        except httpx.TransportError as exc:
            raise Unreachable(f"{method} {path}: {type(exc).__name__}") from None
        finally:
            log = _calls.get()
            if log is not None:
                log.calls.append((operation, status, waited))
