"""Errors as RFC 9457 problem details (``application/problem+json``), for every route.

A 422 lists what to fix, one line per field, in the words of ``workflows.contract``: the CLI, the
Python helper and the workflow itself say the same. Nothing a caller sent is echoed back.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException
from temporalio.service import RPCError

from workflows.contract import InvalidInput, describe_errors

from .connection import TemporalUnavailable

PROBLEM_JSON = "application/problem+json"

logger = logging.getLogger(__name__)

#: Where a request parameter was, as FastAPI's errors name it: not part of the field's name.
_PARAMETER_LOCATIONS = {"path", "query", "header", "cookie", "body"}


class Problem(BaseModel):
    """RFC 9457 problem details. `type` is `about:blank`: the status says what kind of problem."""

    type: str = "about:blank"
    title: str = Field(description="The HTTP status phrase.")
    status: int
    detail: str = Field(description="What went wrong and what to do about it.")
    problems: list[str] | None = Field(
        default=None, description="For 422: one line per bad field, naming it and what to fix."
    )


def problem(
    status: int, detail: str, *, problems: list[str] | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, problems=problems)
    return JSONResponse(
        body.model_dump(exclude_none=True), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for these statuses (see ``openapi.py`` for their media type)."""
    return {status: {"model": Problem, "description": _DESCRIPTIONS[status]} for status in statuses}


_DESCRIPTIONS = {
    401: "No API key, or not a valid one.",
    404: "No such resource.",
    422: "The request is not valid: `problems` names each field and what to fix.",
    503: "Temporal is not reachable right now; try again shortly.",
}


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _invalid_parameters)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(TemporalUnavailable, _temporal_unavailable)
    app.add_exception_handler(RPCError, _temporal_refused)


async def _http_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    return problem(error.status_code, str(error.detail), headers=error.headers)


async def _invalid_parameters(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    errors = [{**item, "loc": _field(item["loc"])} for item in error.errors()]
    return _unprocessable(describe_errors(errors))


async def _invalid_input(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, InvalidInput)
    return _unprocessable(error.problems)


def _unprocessable(problems: list[str]) -> JSONResponse:
    return problem(422, "; ".join(problems), problems=problems)


async def _temporal_unavailable(request: Request, error: Exception) -> JSONResponse:
    return problem(503, f"{error}: try again shortly")


async def _temporal_refused(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RPCError)
    logger.warning(
        "Temporal refused %s %s: %s (%s)", request.method, request.url.path, error.message, error.status.name
    )
    return problem(503, f"Temporal did not serve the request ({error.status.name}): try again shortly")


def _field(location: tuple[int | str, ...]) -> tuple[int | str, ...]:
    return location[1:] if location and location[0] in _PARAMETER_LOCATIONS else location
