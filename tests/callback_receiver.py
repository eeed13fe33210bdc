"""A webhook receiver on 127.0.0.1, as a closer user would write one: it verifies every request
with the `standardwebhooks` package and records what it got. Answers are scriptable per path
(statuses to give, a request to hold until the test releases it)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

#: The signing secret the tests' workers use: random per session, so histories can be searched for it.
CALLBACK_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
HOLD_TIMEOUT_S = 60.0


@dataclass
class Delivery:
    path: str
    event_id: str | None
    #: The verified payload, or None when verification failed.
    payload: dict[str, Any] | None
    status: int = 0  # what the receiver answered


@dataclass
class Hold:
    """The next request to a path waits for ``release`` once it has ``arrived``."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


class CallbackReceiver:
    def __init__(self, secret: str = CALLBACK_SECRET) -> None:
        self._webhook = Webhook(secret)
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._answers: dict[str, deque[int]] = defaultdict(deque)
        self._holds: dict[str, Hold] = {}
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> CallbackReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for hold in self._holds.values():
            hold.release.set()
        self._server.shutdown()
        self._server.server_close()

    def url(self, path: str) -> str:
        return f"{self.origin}{path}"

    def answer(self, path: str, *statuses: int) -> None:
        """Give these statuses to the next requests to ``path``; 200 after them."""
        with self._lock:
            self._answers[path].extend(statuses)

    def hold(self, path: str) -> Hold:
        hold = self._holds[path] = Hold()
        return hold

    def deliveries(self, path: str | None = None) -> list[Delivery]:
        """What arrived (at ``path``, or anywhere), in order."""
        with self._lock:
            return [d for d in self._deliveries if path is None or d.path == path]

    def _receive(self, path: str, body: bytes, headers: dict[str, str]) -> Delivery:
        try:
            payload = self._webhook.verify(body, headers)  # signature and timestamp tolerance
        except WebhookVerificationError:
            payload = None
        delivery = Delivery(path=path, event_id=headers.get("webhook-id"), payload=payload)
        with self._lock:
            self._deliveries.append(delivery)
            answers = self._answers[path]
            delivery.status = answers.popleft() if answers else 200
        hold = self._holds.pop(path, None)
        if hold is not None:
            hold.arrived.set()
            hold.release.wait(HOLD_TIMEOUT_S)
        return delivery

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                delivery = receiver._receive(self.path, body, {k.lower(): v for k, v in self.headers.items()})
                answer = json.dumps({"received": delivery.event_id}).encode()
                try:
                    self.send_response(delivery.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender died while the request was held: nobody to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests read the recorded deliveries

        return Handler
