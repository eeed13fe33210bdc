"""The ASGI app: Genesys paths, the guest WebSocket and the admin API on one server."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.routing import Mount, Route, WebSocketRoute

from .admin_routes import ADMIN_ROUTES, AdminError, admin_error
from .config import EmulatorConfig
from .core import Emulator
from .gateway import dispatcher
from .genesys_routes import ROUTES
from .guest import guest_endpoint

_HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator (its state is `app.state.emulator`)."""
    app = Starlette(
        routes=[
            Mount("/emulator", routes=ADMIN_ROUTES),
            WebSocketRoute("/v1", guest_endpoint),
            # Everything else is Genesys: the gateway matches SDK path templates itself so that
            # unknown paths are answered (and logged) the way Genesys would.
            Route("/{path:path}", dispatcher(ROUTES), methods=_HTTP_METHODS),
        ],
        exception_handlers={AdminError: admin_error},
    )
    app.state.emulator = Emulator(config or EmulatorConfig())
    return app
