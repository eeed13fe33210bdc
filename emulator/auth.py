"""OAuth clients, access tokens and permissions.

Client-credentials clients get their permissions from roles in Genesys; here each client simply
carries a set of permission strings (or every permission). Secrets and tokens are compared and
stored, never logged.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass

from . import clock
from .errors import GenesysError

DEFAULT_CLIENT_ID = "emulator-client"
DEFAULT_CLIENT_SECRET = "emulator-secret"

# The permissions the served routes check (any one of a route's set is enough).
VIEW = "conversation:communication:view"
DISCONNECT = "conversation:communication:disconnect"
WRAPUP = "conversation:participant:wrapup"
MESSAGE_CREATE = "conversation:message:create"
WEBMESSAGING_CREATE = "conversation:webmessaging:create"
RECORDING_VIEW = "recording:recording:view"
RECORDING_EDIT_RETENTION = "recording:recording:editRetention"
ANALYTICS_CONVERSATION_DETAIL_VIEW = "analytics:conversationDetail:view"


@dataclass(frozen=True)
class OAuthClient:
    client_id: str
    client_secret: str
    permissions: frozenset[str] | None
    """None: every permission."""

    def require_any(self, permissions: tuple[str, ...]) -> None:
        """403 `missing.any.permissions` unless the client has one of `permissions`."""
        if self.permissions is None or not permissions or self.permissions & set(permissions):
            return
        names = ", ".join(permissions)
        template = (
            "Unable to perform the requested action. You must have at least one of the "
            "following permissions assigned: {permissions}"
        )
        raise GenesysError(
            403,
            "missing.any.permissions",
            template.format(permissions=names),
            message_with_params=template,
            message_params={"permissions": names},
        )


@dataclass(frozen=True)
class AccessToken:
    client: OAuthClient
    issued_at: float


class Auth:
    """The registered clients and the tokens issued to them."""

    def __init__(self) -> None:
        self._clients: dict[str, OAuthClient] = {}
        self._tokens: dict[str, AccessToken] = {}
        self.add_client(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, None)

    def add_client(self, client_id: str, client_secret: str, permissions: list[str] | None) -> OAuthClient:
        """Register (or replace) a client."""
        client = OAuthClient(client_id, client_secret, None if permissions is None else frozenset(permissions))
        self._clients[client_id] = client
        return client

    def client_from_basic(self, authorization: str | None) -> OAuthClient:
        """The client named by an `Authorization: Basic base64(id:secret)` header, or 401."""
        scheme, _, encoded = (authorization or "").partition(" ")
        if scheme.lower() != "basic":
            raise GenesysError(401, "bad.credentials", "Client credentials are required (HTTP Basic).")
        try:
            client_id, _, client_secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise GenesysError(401, "bad.credentials", "Malformed HTTP Basic credentials.") from None
        client = self._clients.get(client_id)
        if client is None or not secrets.compare_digest(client.client_secret, client_secret):
            raise GenesysError(401, "bad.credentials", "Invalid login credentials.")
        return client

    def issue_token(self, client: OAuthClient) -> str:
        token = secrets.token_urlsafe(32)
        self._tokens[token] = AccessToken(client, clock.now())
        return token

    def issued_tokens(self) -> list[str]:
        """Every token handed out (for tests that check no token leaked anywhere)."""
        return list(self._tokens)

    def client_id_of(self, authorization: str | None) -> str | None:
        """For the request log: whose token this is (expired or not), None if unknown."""
        scheme, _, token = (authorization or "").partition(" ")
        issued = self._tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        return issued.client.client_id if issued else None

    def client_from_bearer(self, authorization: str | None, ttl_s: float) -> tuple[str, OAuthClient]:
        """The token and its client from `Authorization: Bearer <token>`; 401 otherwise.

        A token lives `ttl_s` (the current setting) from its issue: lowering the setting expires
        tokens already out, earlier than the `expires_in` they were issued with."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise GenesysError(
                401,
                "authentication.required",
                "No authentication bearer token specified in authorization header.",
            )
        token = token.strip()
        issued = self._tokens.get(token)
        if issued is None or issued.issued_at + ttl_s <= clock.now():
            raise GenesysError(401, "bad.credentials", "Invalid login credentials.")
        # The client as registered now: a role change applies to tokens already out.
        # (UNCONFIRMED how fast Genesys applies role changes to live tokens.)
        return token, self._clients.get(issued.client.client_id, issued.client)
