"""A local Genesys Cloud for closer's demo and tests: stateful, fault-injectable, on loopback.

It imports nothing from the rest of closer.
"""

from .admin_client import AdminClient, AdminRequestError
from .app import create_app
from .config import EmulatorConfig
from .server import EmulatorServer, serve

__all__ = ["AdminClient", "AdminRequestError", "EmulatorConfig", "EmulatorServer", "create_app", "serve"]
