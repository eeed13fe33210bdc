"""Bearer API keys: every ``/v1`` route needs ``Authorization: Bearer <key>``.

The keys come from ``CLOSER_API_KEYS``, comma-separated: several at once, so a key is rotated by
adding the new one, moving the callers, then removing the old one. Keys are never logged.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Mapping, Sequence
from typing import Annotated

from fastapi import Depends, HTTPException, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

API_KEYS_VARIABLE = "CLOSER_API_KEYS"

# Declares the scheme in the OpenAPI document (for /docs and generated clients); the check is ours,
# so that a missing or malformed header is a problem+json 401 like a wrong key.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description=f"An API key the operator configured in {API_KEYS_VARIABLE}.",
)


def api_keys_from_env(environ: Mapping[str, str] | None = None) -> list[str]:
    """The configured API keys (possibly none)."""
    env = os.environ if environ is None else environ
    return [key.strip() for key in env.get(API_KEYS_VARIABLE, "").split(",") if key.strip()]


class ApiKeys:
    """The dependency that admits a request carrying one of the keys."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError(f"no API keys: set {API_KEYS_VARIABLE}")
        self._keys = [key.encode() for key in keys]

    async def __call__(self, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> None:
        if credentials is None:
            raise _unauthorized("send the header 'Authorization: Bearer <API key>'", 'Bearer realm="closer"')
        presented = credentials.credentials.encode()
        # Each key compared in constant time, and all of them (a list, not any()'s short circuit):
        # the time taken tells neither how much of a key matched nor which one.
        if not any([hmac.compare_digest(presented, key) for key in self._keys]):
            raise _unauthorized("the API key is not valid", 'Bearer realm="closer", error="invalid_token"')


def _unauthorized(detail: str, challenge: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": challenge})
