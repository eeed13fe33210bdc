"""closer's HTTP API (``closer api``): start a termination, read it, wait briefly for its result.

FastAPI on uvicorn, described by its own OpenAPI document (``/openapi.json``, docs at ``/docs``);
bearer API keys; errors as RFC 9457 problem details. A thin layer over what the CLI uses
(``closer.temporal``) and the workflows' own contract (``workflows.contract``), so every entry
point starts the same workflow and explains bad input in the same words.
"""

from .app import create_app
from .auth import API_KEYS_VARIABLE, api_keys_from_env

__all__ = ["API_KEYS_VARIABLE", "api_keys_from_env", "create_app"]
