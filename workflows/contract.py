"""The one JSON contract every entry point shares: camelCase on the wire, strict, self-explaining.

Every workflow input and result is a model built on these bases. Inputs accept camelCase (what
Genesys, TypeScript and Temporal's own JSON write) and snake_case (for Python callers); unknown
fields, wrong types and missing fields are errors that name the field. Results are written in
camelCase only. The CLI, the HTTP API, the Python helpers and the workflows themselves all turn a
pydantic ``ValidationError`` into the same lines with :func:`problems_of`, so a caller in any
language reads the same message.
"""

from __future__ import annotations

import difflib
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from temporalio.exceptions import ApplicationError

#: The ``type`` of the non-retryable ApplicationError a workflow fails with on bad input.
INVALID_INPUT = "InvalidInput"

_WIRE = ConfigDict(
    alias_generator=to_camel,
    validate_by_alias=True,
    validate_by_name=True,
    serialize_by_alias=True,
)


class InputModel(BaseModel):
    """A workflow input (or an HTTP request body): strict about what it accepts."""

    model_config = ConfigDict(**_WIRE, extra="forbid")


class ResultModel(BaseModel):
    """A workflow result: camelCase out; fields a newer closer adds are ignored by older readers."""

    # Every field is written, defaults included: the published schema says so (all required).
    model_config = ConfigDict(**_WIRE, extra="ignore", json_schema_serialization_defaults_required=True)


M = TypeVar("M", bound=BaseModel)


class InvalidInput(ValueError):
    """Input that cannot be used; ``problems`` says, one line each, what to fix."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def parse(model: type[M], data: Any) -> M:
    """``data`` (a decoded JSON value) as ``model``, or InvalidInput naming every bad field."""
    if not isinstance(data, dict):
        raise InvalidInput([f"expected a JSON object ({_object_hint(model)}), got {_json_type(data)}"])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(problems_of(error, model)) from None


def workflow_input(model: type[M], args: Sequence[Any]) -> M:
    """A workflow's one argument, validated; a non-retryable failure of the run otherwise.

    Workflows take ``*args`` so that no input from any client can fail to decode: a decoding
    failure would fail the workflow *task*, which Temporal retries forever, leaving the run open
    and every later start for the same id joined to it. Raised here instead, the run fails at once.
    """
    if len(args) != 1:
        raise invalid_input_error(
            [f"expected exactly one argument, a JSON object ({_object_hint(model)}); got {len(args)}"]
        )
    try:
        return parse(model, args[0])
    except InvalidInput as error:
        raise invalid_input_error(error.problems) from None


def invalid_input_error(problems: Sequence[str]) -> ApplicationError:
    return ApplicationError(
        "invalid input: " + "; ".join(problems), list(problems), type=INVALID_INPUT, non_retryable=True
    )


def parse_json(model: type[M], body: str | bytes) -> M:
    """A JSON document (an HTTP request body, say) as ``model``, or InvalidInput saying what to fix."""
    if not body.strip():
        raise InvalidInput([f"expected a JSON object ({_object_hint(model)}), got an empty body"])
    try:
        data = json.loads(body)
    except json.JSONDecodeError as error:
        # Where the document breaks, never what it says: it may be customer text.
        raise _malformed(model, f"{error.msg} at line {error.lineno} column {error.colno}") from None
    except UnicodeDecodeError:
        raise _malformed(model, "not UTF-8") from None
    return parse(model, data)


def root_message(error: BaseException) -> str:
    """The innermost cause's message: what actually went wrong, under Temporal's wrappers."""
    while error.__cause__ is not None:
        error = error.__cause__
    return str(error)


def problems_of(error: ValidationError, model: type[BaseModel] | None = None) -> list[str]:
    """One line per error, naming the field as the caller spelled it and saying what is expected.

    Never echoes the input: it may be customer text (a goodbye) and lands in histories and logs.
    """
    return describe_errors(error.errors(include_input=False, include_url=False), model)


def describe_errors(errors: Iterable[Mapping[str, Any]], model: type[BaseModel] | None = None) -> list[str]:
    """:func:`problems_of` for errors in pydantic's shape that come without their ValidationError
    (FastAPI's ``RequestValidationError.errors()``, with the parameter's location removed)."""
    problems = []
    for item in errors:
        field = ".".join(str(part) for part in item["loc"])
        kind, message = item["type"], item["msg"]
        if not field:  # a check across fields: its message names them
            problems.append(message.removeprefix("Value error, "))
        elif kind == "missing":
            problems.append(f"{field}: required")
        elif kind == "extra_forbidden":
            problems.append(f"{field}: unknown field{_suggestion(field, model) if len(item['loc']) == 1 else ''}")
        elif kind == "value_error":
            problems.append(f"{field}: {message.removeprefix('Value error, ')}")
        else:
            problems.append(f"{field}: {message[:1].lower()}{message[1:]}")
    return problems


def wire_names(model: type[BaseModel]) -> list[str]:
    """The model's fields as they are spelled on the wire (camelCase)."""
    return [info.alias or name for name, info in model.model_fields.items()]


def check_uuid(value: str) -> str:
    """A Genesys id in the one spelling Genesys writes (lower case, dashes), so that one
    conversation has one workflow id however a caller spells it."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        shown = value if len(value) <= 60 else value[:57] + "..."
        raise ValueError(
            f"{shown!r} is not a UUID (Genesys ids look like 3fa85f64-5717-4562-b3fc-2c963f66afa6)"
        ) from None


def check_text(value: str | None, what: str, max_chars: int) -> str | None:
    if value is None:
        return None
    if not value.strip():
        raise ValueError(f"{what} is empty: give the text or leave it out")
    if len(value) > max_chars:
        raise ValueError(f"{what} is {len(value)} characters: Genesys accepts at most {max_chars}")
    return value


def _suggestion(field: str, model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    names = wire_names(model)
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", n).lower(): n for n in names}
    close = difflib.get_close_matches(field, names + list(snake), n=1, cutoff=0.6)
    hint = f"; did you mean {snake.get(close[0], close[0])}?" if close else ""
    return f" (the fields are {', '.join(names)}){hint}"


def _malformed(model: type[BaseModel], where: str) -> InvalidInput:
    return InvalidInput([f"expected a JSON object ({_object_hint(model)}), got malformed JSON ({where})"])


def _object_hint(model: type[BaseModel]) -> str:
    required = [info.alias or name for name, info in model.model_fields.items() if info.is_required()]
    return f"{model.__name__} with {', '.join(required)}" if required else model.__name__


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return type(value).__name__
