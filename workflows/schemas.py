"""The published JSON Schemas of every workflow input and result, generated from the models.

``python -m workflows.schemas`` (``make schemas``) writes them to ``schemas/``, where clients in
any language find them; a test fails when a model changed and they were not written again.
Inputs are described as they are validated (camelCase; snake_case is accepted too), results as
they are written (camelCase, every field present).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode

from .models import WORKFLOW_TYPE, TerminateProgress, TerminateRequest, TerminateResult
from .sweep_models import SWEEP_WORKFLOW_TYPE, SweepRequest, SweepResult
from .watch_models import WATCH_WORKFLOW_TYPE, WatchRequest, WatchResult, WatchSettings, WatchStatus

#: Where the schemas are checked in: ``schemas/`` at the repository's root.
DIRECTORY = Path(__file__).resolve().parent.parent / "schemas"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class Schema:
    """One published document: ``schemas/{name}.json``."""

    name: str
    model: type[BaseModel]
    #: "validation" for what closer accepts (inputs), "serialization" for what it writes (results).
    mode: JsonSchemaMode
    description: str

    @property
    def filename(self) -> str:
        return f"{self.name}.json"

    def document(self) -> dict[str, Any]:
        generated = self.model.model_json_schema(by_alias=True, mode=self.mode, schema_generator=_WireSchema)
        generated.pop("description", None)  # the model's docstring: replaced by what a client needs
        return {
            "$schema": DIALECT,
            "$id": self.filename,
            "title": self.name,
            "description": self.description,
            **generated,
        }

    def text(self) -> str:
        return json.dumps(self.document(), indent=2) + "\n"


class _WireSchema(GenerateJsonSchema):
    """Without the property titles pydantic derives from names ("Conversationid"): noise to a reader."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


SCHEMAS: tuple[Schema, ...] = (
    Schema(
        "TerminateRequest",
        TerminateRequest,
        "validation",
        f"The input of workflow {WORKFLOW_TYPE} (workflow id terminate-{{conversationId}}): its one argument. "
        "Field names are camelCase as here; snake_case is accepted too. Unknown fields are errors.",
    ),
    Schema(
        "TerminateResult",
        TerminateResult,
        "serialization",
        f"The result of workflow {WORKFLOW_TYPE}: how the conversation ended. Always camelCase; a newer "
        "closer may add fields, which readers should ignore.",
    ),
    Schema(
        "TerminateProgress",
        TerminateProgress,
        "serialization",
        f"The answer of workflow {WORKFLOW_TYPE}'s query `progress`: the steps so far, and the result once there is one.",
    ),
    Schema(
        "WatchRequest",
        WatchRequest,
        "validation",
        f"The input of workflow {WATCH_WORKFLOW_TYPE} (workflow id watch-{{conversationId}}): its one argument. "
        "Field names are camelCase as here; snake_case is accepted too. Unknown fields are errors.",
    ),
    Schema(
        "WatchSettings",
        WatchSettings,
        "validation",
        f"The argument of workflow {WATCH_WORKFLOW_TYPE}'s update `configure`: new settings for a running watch.",
    ),
    Schema(
        "WatchStatus",
        WatchStatus,
        "serialization",
        f"The answer of workflow {WATCH_WORKFLOW_TYPE}'s query `status` and of its update `configure`.",
    ),
    Schema(
        "WatchResult",
        WatchResult,
        "serialization",
        f"The result of workflow {WATCH_WORKFLOW_TYPE}: how the watch ended, with the termination's result "
        "when it closed the conversation. Always camelCase; readers should ignore fields they do not know.",
    ),
    Schema(
        "SweepRequest",
        SweepRequest,
        "validation",
        f"The input of workflow {SWEEP_WORKFLOW_TYPE} (workflow id sweep-{{profile}}, or a schedule's): its one "
        "argument, the watch policy applied to every conversation swept (no deadline) and how to sweep. Field "
        "names are camelCase as here; snake_case is accepted too. Unknown fields are errors.",
    ),
    Schema(
        "SweepResult",
        SweepResult,
        "serialization",
        f"The result of workflow {SWEEP_WORKFLOW_TYPE}: what the analytics pages nominated, how many had a watch "
        "already and how many got one. Always camelCase; readers should ignore fields they do not know.",
    ),
)


def main() -> int:
    DIRECTORY.mkdir(exist_ok=True)
    for schema in SCHEMAS:
        (DIRECTORY / schema.filename).write_text(schema.text())
        print(f"wrote {DIRECTORY.name}/{schema.filename}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
