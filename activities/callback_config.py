"""Where a worker may send closure callbacks, and the secret it signs them with.

The operator decides: a default URL (``CLOSER_CALLBACK_URL``) and the origins a request's own
``callbackUrl`` may point at (``CLOSER_CALLBACK_ALLOWED_ORIGINS``), so an API caller never makes
closer post anywhere it likes. The signing secret (``CLOSER_CALLBACK_SECRET``) lives in the worker's
memory only: it never enters a request, a workflow history or a log.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SECRET_PREFIX = "whsec_"
# Standard Webhooks: symmetric secrets are random, 24 to 64 bytes (192 to 512 bits).
SECRET_MIN_BYTES = 24
SECRET_MAX_BYTES = 64
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class CallbackConfig:
    """A worker's callback settings; the default (nothing set) sends no callback and allows none."""

    #: Where every termination's result goes unless its request names another URL.
    url: str | None = None
    #: Origins (``scheme://host[:port]``, normalized by :func:`origin_of`) a request's URL may use.
    allowed_origins: frozenset[str] = frozenset()
    #: The Standard Webhooks signing secret, ``whsec_<base64>``.
    secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if (self.url or self.allowed_origins) and not self.secret:
            raise ValueError(
                "CLOSER_CALLBACK_URL or CLOSER_CALLBACK_ALLOWED_ORIGINS is set but CLOSER_CALLBACK_SECRET is not: "
                "callbacks are always signed"
            )


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an http(s) URL, lower-cased, default port left out.

    ValueError, saying what is wrong without echoing the URL (it may carry a token), otherwise.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("must be an http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("has no host (expected http(s)://host[:port]/path)")
    if parts.username is not None or parts.password is not None:
        # They would be stored in workflow histories; the signature authenticates the callback.
        raise ValueError(
            "must not contain a user name or password: receivers authenticate callbacks by their signature"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError("has an invalid port") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{scheme}://{host}" if port in (None, _DEFAULT_PORTS[scheme]) else f"{scheme}://{host}:{port}"


def allowed_origin(entry: str) -> str:
    """One entry of an allowlist: an origin, nothing after it but an optional ``/``."""
    origin = origin_of(entry)
    parts = urlsplit(entry.strip())
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(f"the entry for {origin} has a path: give scheme://host[:port] only")
    return origin


def check_secret(secret: str) -> str:
    """A ``whsec_`` secret as Standard Webhooks serializes it; ValueError (never echoing it) otherwise."""
    how = (
        f"expected {SECRET_PREFIX} followed by the base64 of {SECRET_MIN_BYTES} to {SECRET_MAX_BYTES} random bytes, "
        "e.g. python -c \"import base64, secrets; print('whsec_' + base64.b64encode(secrets.token_bytes(32)).decode())\""
    )
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"does not start with {SECRET_PREFIX}: {how}")
    try:
        # Strict, padding included: every receiver's library must decode it to the same key.
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"is not valid base64 after {SECRET_PREFIX}: {how}") from None
    if not SECRET_MIN_BYTES <= len(key) <= SECRET_MAX_BYTES:
        raise ValueError(f"decodes to {len(key)} bytes: {how}")
    return secret
