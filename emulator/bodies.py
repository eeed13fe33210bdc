"""Request bodies: parsed and checked against the SDK models the operations declare.

The emulator is deliberately strict: a field the model does not declare is a 400 `bad.request`, so
a client bug shows up here rather than as a silently ignored field against the real API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from .clock import format_iso, parse_iso
from .errors import bad_request

MEDIA_STATES = (
    "alerting", "dialing", "contacting", "offering", "connected", "disconnected",
    "terminated", "converting", "uploading", "transmitting", "parked", "none",
)  # fmt: skip
MEDIA_PARTICIPANT_REQUEST_FIELDS = frozenset(
    {"wrapup", "state", "recording", "muted", "confined", "held", "wrapupSkipped", "resumeTime"}
)
WRAPUP_INPUT_FIELDS = frozenset(
    {"code", "name", "notes", "tags", "durationSeconds", "endTime", "provisional", "disableEndTimeUpdates"}
)
WRAPUP_FIELDS = frozenset({"code", "name", "notes", "tags", "durationSeconds", "endTime", "provisional"})
"""What a stored wrap-up shows (`Wrapup`): `WrapupInput` minus its input-only switch."""
ADDITIONAL_MESSAGE_FIELDS = frozenset({"textBody", "mediaIds", "messagingTemplate"})
CONVERSATION_FIELDS = frozenset(
    {
        "id", "name", "externalTag", "startTime", "endTime", "address", "participants",
        "conversationIds", "maxParticipants", "recordingState", "state", "divisions",
        "recentTransfers", "securePause", "utilizationLabelId", "inactivityTimeout", "selfUri",
    }
)  # fmt: skip
RECORDING_FIELDS = frozenset(
    {
        "actualTranscodeTimeMs", "annotations", "archiveDate", "archiveMedium",
        "associatedConversationIds", "conversationId", "creationTime", "deleteDate",
        "emailTranscript", "endTime", "estimatedTranscodeTimeMs", "exportDate", "exportedDate",
        "fileState", "id", "maxAllowedRestorationsForOrg", "media", "mediaSubject", "mediaSubtype",
        "mediaUris", "messagingTranscript", "name", "originalRecordingStartTime",
        "outputDurationMs", "outputSizeInBytes", "path", "recordingErrorStatus",
        "recordingFileRole", "remainingRestorationsAllowedForOrg", "restoreExpirationTime",
        "selfUri", "sessionId", "startTime", "transcript", "users",
    }
)  # fmt: skip
MAX_TEXT_LENGTH = 2000
"""`AdditionalMessage.textBody` limit for every channel but SMS."""


@dataclass(frozen=True)
class ParticipantChange:
    """The part of a `MediaParticipantRequest` the emulator acts on."""

    state: str | None
    wrapup: dict[str, object] | None
    wrapup_skipped: bool


def parse_json(raw: bytes) -> object:
    """The JSON of a request body; None when there is no body."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise bad_request("The request body is not valid JSON.") from None


def participant_change(body: object) -> ParticipantChange:
    fields = declared_object(body, "MediaParticipantRequest", MEDIA_PARTICIPANT_REQUEST_FIELDS)
    state = fields.get("state")
    if state is not None and state not in MEDIA_STATES:
        raise bad_request(f"Invalid value for state: {state!r}.", "invalid.value")
    skipped = fields.get("wrapupSkipped", False)
    if not isinstance(skipped, bool):
        raise bad_request("wrapupSkipped must be a boolean.", "invalid.value")
    wrapup = wrapup_input(fields["wrapup"]) if fields.get("wrapup") is not None else None
    if wrapup is not None and skipped:
        raise bad_request("Give either a wrapup or wrapupSkipped, not both.")
    return ParticipantChange(state, wrapup, skipped)


def wrapup_input(body: object) -> dict[str, object]:
    """A `WrapupInput`, kept as the `Wrapup` it becomes."""
    fields = declared_object(body, "WrapupInput", WRAPUP_INPUT_FIELDS)
    code = fields.get("code")
    if code is not None and not isinstance(code, str):
        raise bad_request("wrapup.code must be a string (a wrap-up code id).", "invalid.value")
    return {name: value for name, value in fields.items() if name in WRAPUP_FIELDS}


def text_body(body: object) -> str:
    """The text of an `AdditionalMessage`: 1 to 2000 characters."""
    fields = declared_object(body, "AdditionalMessage", ADDITIONAL_MESSAGE_FIELDS)
    text = fields.get("textBody")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT_LENGTH:
        raise bad_request(f"textBody must be a string of 1 to {MAX_TEXT_LENGTH} characters.", "invalid.value")
    return text


def conversation_disconnect(body: object) -> None:
    """The conversation PATCH only disconnects: its body must be `{"state": "disconnected"}`
    (other declared `Conversation` fields, which typed SDKs send as dummies, are ignored)."""
    fields = declared_object(body, "Conversation", CONVERSATION_FIELDS)
    if fields.get("state") != "disconnected":
        raise bad_request('This operation only disconnects: send {"state": "disconnected"}.')


def message_ids(body: object) -> list[str]:
    if not isinstance(body, list) or not all(isinstance(item, str) for item in body):
        raise bad_request("The body must be a JSON list of message ids.")
    return body


def recording_delete_date(body: object) -> str | None:
    """The `deleteDate` of a `Recording` update, normalized; None if the body has none."""
    fields = declared_object(body, "Recording", RECORDING_FIELDS)
    value = fields.get("deleteDate")
    if value is None:
        return None
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return format_iso(parse_iso(value))
    except (TypeError, ValueError, AttributeError):
        raise bad_request(f"deleteDate must be an ISO-8601 date-time, got {value!r}.", "invalid.value") from None


def declared_object(body: object, model: str, declared: frozenset[str]) -> dict[str, object]:
    """`body` as a JSON object of SDK model `model`; 400 `bad.request` for any undeclared field."""
    if not isinstance(body, dict):
        raise bad_request(f"The body must be a JSON object ({model}).")
    unknown = sorted(set(body) - declared)
    if unknown:
        raise bad_request(f"Unrecognized field(s) for {model}: {', '.join(unknown)}.")
    return body


def form_grant_type(raw: bytes) -> str | None:
    """The `grant_type` of a form-encoded token request."""
    return parse_qs(raw.decode(errors="replace")).get("grant_type", [None])[0]
