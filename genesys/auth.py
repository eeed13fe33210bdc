"""OAuth client credentials, with the token cached per profile."""

from __future__ import annotations

import asyncio
import time

import httpx

from .errors import AuthenticationFailed, GenesysError, Unreachable, error_from_response
from .profile import Profile

# Refresh this long before the token expires (or at 90% of a short lifetime), so a request never
# leaves with a token that dies on the way.
REFRESH_MARGIN_SECONDS = 300.0


class TokenSource:
    """Fetches and caches one profile's access token; one per profile per process."""

    def __init__(self, profile: Profile, http: httpx.AsyncClient) -> None:
        self._profile = profile
        self._http = http
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def token(self) -> str:
        if self._token is not None and time.monotonic() < self._refresh_at:
            return self._token
        async with self._lock:  # one fetch, however many requests are waiting for it
            if self._token is None or time.monotonic() >= self._refresh_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after a 401, unless a newer one already replaced it."""
        if self._token == token:
            self._token = None

    async def _fetch(self) -> None:
        url = f"{self._profile.hosts.login_url}/oauth/token"
        try:
            response = await self._http.post(
                url,
                data={"grant_type": "client_credentials"},
                auth=(self._profile.client_id, self._profile.client_secret.get_secret_value()),
            )
        except httpx.TransportError as exc:
            raise Unreachable(f"cannot reach {url}: {type(exc).__name__}") from None
        if response.status_code in (400, 401):
            error = error_from_response(response)
            raise AuthenticationFailed(
                f"Genesys refused the OAuth client {self._profile.client_id!r} of profile "
                f"{self._profile.name!r}: {error.message}. Check its client id and secret.",
                status=response.status_code,
                code=error.code,
                context_id=error.context_id,
            )
        if response.is_error:
            raise error_from_response(response)
        body = response.json()
        try:
            token, lifetime = str(body["access_token"]), float(body.get("expires_in", 86400))
        except (KeyError, TypeError, ValueError):
            raise GenesysError(f"{url} answered without an access token") from None
        self._token = token
        self._refresh_at = time.monotonic() + max(lifetime - REFRESH_MARGIN_SECONDS, lifetime * 0.9)
        self.fetches += 1
