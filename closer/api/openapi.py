"""What the OpenAPI document needs beyond FastAPI's generator.

- Request bodies the routes parse themselves (with ``workflows.contract``, for its messages) are
  documented with their model's schema, as if FastAPI had parsed them.
- Problem responses are ``application/problem+json``: FastAPI lists every response model under
  the route's own media type, ``application/json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from .problems import PROBLEM_JSON, Problem

_COMPONENTS = "#/components/schemas/"


#: Models nested in request bodies: added to the document's components (where their refs point).
_NESTED: dict[str, Any] = {}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route whose JSON body is ``model``: its schema inline, the models
    it nests in the components."""
    schema = model.model_json_schema(by_alias=True, ref_template=_COMPONENTS + "{model}")
    _NESTED.update(schema.pop("$defs", {}))
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    """``app.openapi``: generated once, then served from memory."""
    if app.openapi_schema is None:
        document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = document.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in _NESTED.items():
            components.setdefault(name, schema)
        problem_ref = {"$ref": _COMPONENTS + Problem.__name__}
        for operation in _operations(document):
            for response in operation.get("responses", {}).values():
                content = response.get("content", {})
                if content.get("application/json", {}).get("schema") == problem_ref:
                    content[PROBLEM_JSON] = content.pop("application/json")
        app.openapi_schema = document
    return app.openapi_schema


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [operation for path in document.get("paths", {}).values() for operation in path.values()]
