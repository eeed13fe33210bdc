"""Closure callbacks: check a request's URL against the worker's allowlist; deliver the result.

Delivery follows the Standard Webhooks spec: a JSON POST signed with the worker's secret, headers
``webhook-id`` (the same on every attempt, so receivers dedupe), ``webhook-timestamp`` and
``webhook-signature`` (fresh per attempt). One attempt is one request: Temporal's retry policy
does the retrying (workflows/policies.py), so a worker that dies mid-delivery costs an attempt,
never the event.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
from standardwebhooks import Webhook
from temporalio import activity
from temporalio.exceptions import ApplicationError

from .callback_config import CallbackConfig, origin_of
from .heartbeat import heartbeating
from .metrics import count_failed_callback_attempt
from .models import CallbackDelivery, CallbackResult

#: Standard Webhooks recommends giving receivers 15 to 30 s to answer.
HTTP_TIMEOUT = httpx.Timeout(15.0)
#: The failure type of a request's callback URL the operator does not allow.
CALLBACK_NOT_ALLOWED = "CallbackNotAllowed"
# Statuses whose Retry-After (in seconds) sets the next attempt's delay, as the spec suggests.
_RETRY_AFTER_STATUSES = frozenset({429, 503})


class CallbackActivities:
    """The callback steps, sharing one HTTP client and the worker's callback settings."""

    def __init__(self, config: CallbackConfig) -> None:
        self._config = config
        # Redirects are not followed: they could lead past the allowlist.
        self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT, follow_redirects=False)
        self._webhook = Webhook(config.secret) if config.secret else None

    @property
    def default_url_set(self) -> bool:
        """Whether runs without a callback URL of their own are called back (CLOSER_CALLBACK_URL)."""
        return self._config.url is not None

    @activity.defn(name="check callback")
    async def check_callback(self, url: str | None) -> bool:
        """Whether a run's callback goes out: to its request's URL, which must point at an origin
        the operator allows, or else to the worker's default URL, if it has one."""
        if url is not None:
            self._check_allowed(url)
            return True
        return self.default_url_set

    @activity.defn(name="deliver callback")
    @heartbeating
    async def deliver_callback(self, delivery: CallbackDelivery) -> CallbackResult:
        """One signed POST of the payload; a failed attempt raises, for Temporal to retry."""
        url = delivery.url or self._config.url
        if url is None:
            return CallbackResult(status="not_configured")
        if delivery.url is not None:
            self._check_allowed(delivery.url)  # the allowlist may have changed since the run started
        assert self._webhook is not None  # CallbackConfig has a secret whenever it has a URL or origins
        attempt = activity.info().attempt
        body = json.dumps(delivery.payload, separators=(",", ":"))
        # webhook-timestamp is whole seconds, and the signature covers exactly that value.
        sent_at = datetime.fromtimestamp(int(time.time()), timezone.utc)
        headers = {
            "content-type": "application/json",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": self._webhook.sign(delivery.event_id, sent_at, body),
        }
        origin = origin_of(url)  # messages name the origin only: a URL's path may carry a token
        try:
            response = await self._http.post(url, content=body.encode(), headers=headers)
        except httpx.HTTPError as error:  # timeouts, refused or reset connections
            count_failed_callback_attempt()
            raise ApplicationError(
                f"attempt {attempt}: no answer from {origin} ({type(error).__name__})",
                {"attempt": attempt},
                type="CallbackUnreachable",
            ) from None
        if response.is_success:
            return CallbackResult(status="delivered", attempts=attempt, delivered_at=datetime.now(timezone.utc))
        count_failed_callback_attempt()
        raise _refused(attempt, origin, response)

    def _check_allowed(self, url: str) -> None:
        origin = origin_of(url)
        if not self._config.allowed_origins:
            raise _not_allowed(
                f"callbackUrl: {origin} is not allowed: this closer takes no callback URL from requests "
                "(CLOSER_CALLBACK_ALLOWED_ORIGINS is not set on its workers)"
            )
        if origin not in self._config.allowed_origins:
            raise _not_allowed(
                f"callbackUrl: origin {origin} is not in CLOSER_CALLBACK_ALLOWED_ORIGINS: "
                "use an allowed origin, or ask the operator to add this one"
            )

    async def aclose(self) -> None:
        await self._http.aclose()

    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        """Both activities, for ``Worker(activities=...)``."""
        return [self.check_callback, self.deliver_callback]


def _not_allowed(message: str) -> ApplicationError:
    return ApplicationError(message, type=CALLBACK_NOT_ALLOWED, non_retryable=True)


def _refused(attempt: int, origin: str, response: httpx.Response) -> ApplicationError:
    status = response.status_code
    message = f"attempt {attempt}: {origin} answered {status} {response.reason_phrase}".rstrip()
    details = {"attempt": attempt, "status": status}
    if status == 410:
        # Standard Webhooks: 410 Gone is the receiver saying it wants no more. Every other
        # failure is retried: a 404 or 401 during a receiver's deploy is fixed within the day.
        return ApplicationError(
            f"{message}: the receiver wants no callbacks", details, type="CallbackGone", non_retryable=True
        )
    if response.is_redirect:
        message += ": redirects are not followed, configure the final URL"
    retry_after = response.headers.get("retry-after", "")
    delay = timedelta(seconds=int(retry_after)) if status in _RETRY_AFTER_STATUSES and retry_after.isdigit() else None
    return ApplicationError(message, details, type="CallbackRefused", next_retry_delay=delay)
