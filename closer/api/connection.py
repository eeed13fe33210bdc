"""The API's Temporal client, connected on first use.

The API starts whether or not Temporal is up: until it can connect, ``/readyz`` and every route
that needs Temporal answer 503, and each such request tries again, so the API recovers on its own
once Temporal is reachable. Settings that cannot work (a missing certificate file, a malformed
address, refused credentials) are 503s too, each logged as one line saying what to fix. Once connected the client reconnects by itself after an outage.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

from fastapi import Depends, Request
from temporalio.client import Client
from temporalio.runtime import Runtime

from ..settings import TemporalSettings
from ..temporal import CannotConnect, connect

#: How long a request waits for a Temporal connection before answering 503.
CONNECT_TIMEOUT_SECONDS = 3.0

logger = logging.getLogger(__name__)


class TemporalUnavailable(Exception):
    """Temporal cannot be reached (or refused the call); the request may be tried again later."""


class TemporalConnection:
    def __init__(self, settings: TemporalSettings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self._runtime = runtime
        self._client: Client | None = None
        self._connecting = asyncio.Lock()  # one connection attempt at a time, not one per request

    async def client(self) -> Client:
        if self._client is None:
            async with self._connecting:
                if self._client is None:
                    try:
                        self._client = await connect(
                            self.settings, timeout=CONNECT_TIMEOUT_SECONDS, runtime=self._runtime, service="closer-api"
                        )
                    except (RuntimeError, asyncio.TimeoutError, OSError) as error:
                        # What to fix is for the operator's log (one line, no secret: CannotConnect's
                        # message); callers learn only that Temporal is unavailable.
                        if not isinstance(error, CannotConnect):
                            error = CannotConnect(
                                f"cannot reach Temporal at {self.settings.address}: {error or 'timed out'}"
                            )
                        logger.warning("%s", error)
                        raise TemporalUnavailable("Temporal is not reachable") from None
        return self._client


def _temporal(request: Request) -> TemporalConnection:
    connection: TemporalConnection = request.app.state.temporal  # set by create_app
    return connection


Temporal = Annotated[TemporalConnection, Depends(_temporal)]
