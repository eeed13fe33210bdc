"""The official Genesys Cloud Python SDK (`purecloudplatformclientv2`) as a test oracle.

Everything here is derived, at test time, from the installed SDK package, never from a copy of
its data: the operations come from the source text of `PureCloudPlatformClientV2/apis/*.py`, the
fields and enum values from the model classes, and responses are read back with the SDK's own
deserializer. So when the SDK pin moves, the oracle moves with it.

- `operations()`, `match(method, path)`: every (HTTP method, path template) the SDK can call;
- `check_body(model, body)`: the problems of a JSON value against an SDK model (undeclared keys,
  wrong JSON kinds, enum values the SDK does not list), recursively;
- `deserialize(json, type)`: a JSON value read into SDK model objects.

Importing the SDK's models takes seconds, so it happens once, lazily; parsing the operations needs
no import at all.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

SDK_PACKAGE = "PureCloudPlatformClientV2"

# `/oauth/token` is not among the SDK's API operations (the SDK's ApiClient posts to it directly,
# see `ApiClient.get_client_credentials_token`): the documented client-credentials grant.
OAUTH_TOKEN_PATH = "/oauth/token"
OAUTH_TOKEN_BODY = {"grant_type": "client_credentials"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    """The SDK path template, e.g. `/api/v2/conversations/{conversationId}`."""
    body_type: str | None
    """The SDK type of the JSON body (`MediaParticipantRequest`, `list[str]`), None for no body."""
    response_type: str | None
    query_params: frozenset[str] = field(default_factory=frozenset)
    sdk_function: str = ""
    """Where the SDK defines it, e.g. `ConversationsApi.patch_conversations_message_participant`."""

    @functools.cached_property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path[1:].split("/"))

    @functools.cached_property
    def specificity(self) -> tuple[int, tuple[bool, ...]]:
        """Sort key, most specific first: most literal segments, then literals further left
        (`/assistants/agentchecklists/{id}` before `/assistants/{assistantId}/queues`)."""
        placeholders = tuple(_is_placeholder(s) for s in self.segments)
        return (sum(placeholders), placeholders)


OAUTH_TOKEN = Operation("POST", OAUTH_TOKEN_PATH, None, None, sdk_function="ApiClient.get_client_credentials_token")


def sdk_dir() -> Path:
    """The installed SDK package directory, found without importing it (that takes seconds)."""
    spec = importlib.util.find_spec(SDK_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"{SDK_PACKAGE} is not installed: pip install -e '.[dev]'")
    return Path(next(iter(spec.submodule_search_locations)))


# --- operations ---------------------------------------------------------------------------------

# The SDK's generated api methods all read like this (swagger-codegen template):
#     def patch_conversations_message_participant(self, conversation_id: str, ...) -> None:
#         :param MediaParticipantRequest body:
#         resource_path = '/api/v2/...'.replace('{format}', 'json')
#             query_params['cursor'] = params['cursor']
#         body_params = params['body']
#         response = self.api_client.call_api(resource_path, 'PATCH', ..., response_type='X', ...)
_CLASS = re.compile(r"^class (\w+)\(", re.MULTILINE)
_DEF = re.compile(r"^    def (\w+)\(self", re.MULTILINE)
_RESOURCE_PATH = re.compile(r"resource_path = '([^']+)'")
_CALL_API = re.compile(r"call_api\(resource_path, '([A-Z]+)'")
_RESPONSE_TYPE = re.compile(r"response_type=(None|'([^']+)')")
_BODY_PARAM = re.compile(r"body_params = params\['(\w+)'\]")
_QUERY_PARAM = re.compile(r"query_params\['([^']+)'\] =")


def _param_type(chunk: str, param: str) -> str:
    found = re.search(rf":param (\S+) {re.escape(param)}:", chunk)
    if found is None:
        raise ValueError(f"no `:param <type> {param}:` in the docstring")
    return found.group(1)


def _parse_api_file(path: Path) -> list[Operation]:
    text = path.read_text(encoding="utf-8")
    class_match = _CLASS.search(text)
    class_name = class_match.group(1) if class_match else path.stem
    starts = [m.start() for m in _DEF.finditer(text)] + [len(text)]
    found: list[Operation] = []
    for start, end in zip(starts, starts[1:]):
        chunk = text[start:end]
        resource = _RESOURCE_PATH.search(chunk)
        if resource is None:  # __init__ and helpers
            continue
        name = _DEF.match(chunk)
        method = _CALL_API.search(chunk)
        response = _RESPONSE_TYPE.search(chunk)
        if name is None or method is None or response is None:
            raise ValueError(f"{path.name}: an api method in an unexpected format near {resource.group(1)}")
        body = _BODY_PARAM.search(chunk)
        found.append(
            Operation(
                method=method.group(1),
                path=resource.group(1),
                body_type=_param_type(chunk, body.group(1)) if body else None,
                response_type=response.group(2),
                query_params=frozenset(_QUERY_PARAM.findall(chunk)),
                sdk_function=f"{class_name}.{name.group(1)}",
            )
        )
    return found


@functools.cache
def operations() -> dict[tuple[str, str], Operation]:
    """Every SDK operation by (method, path template). Some appear in two api classes (e.g.
    `ConversationsApi` and a media-specific one): the same operation, kept once."""
    by_key: dict[tuple[str, str], Operation] = {}
    for api_file in sorted((sdk_dir() / "apis").glob("*_api.py")):
        for op in _parse_api_file(api_file):
            by_key.setdefault((op.method, op.path), op)
    if len(by_key) < 1000:  # the format changed under us: fail loudly rather than match nothing
        raise RuntimeError(f"parsed only {len(by_key)} operations from {sdk_dir() / 'apis'}")
    return by_key


def _is_placeholder(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


@functools.cache
def _by_shape() -> dict[tuple[str, int], list[Operation]]:
    """Operations grouped by (method, number of segments), most specific first."""
    groups: dict[tuple[str, int], list[Operation]] = {}
    for op in operations().values():
        groups.setdefault((op.method, len(op.segments)), []).append(op)
    for ops in groups.values():
        ops.sort(key=lambda op: op.specificity)
    return groups


def match(method: str, path: str) -> Operation | None:
    """The SDK operation a concrete request is an instance of, None if there is none.

    Literal segments must be equal, a `{placeholder}` takes exactly one non-empty segment; of
    several matches the most specific one wins, as in any router (see `Operation.specificity`)."""
    method = method.upper()
    path = path.split("?", 1)[0]
    if path == OAUTH_TOKEN_PATH:
        return OAUTH_TOKEN if method == "POST" else None
    if not path.startswith("/"):
        return None
    # No stripping of a trailing slash: `.../participants/` has an empty last segment, which no
    # placeholder takes.
    segments = path[1:].split("/")
    for op in _by_shape().get((method, len(segments)), []):
        if all(_segment_matches(t, s) for t, s in zip(op.segments, segments)):
            return op
    return None


def _segment_matches(template: str, actual: str) -> bool:
    return actual != "" if _is_placeholder(template) else actual == template


# --- models -------------------------------------------------------------------------------------


@functools.cache
def sdk() -> ModuleType:
    """The SDK package, imported once (about 3 s: it imports all of its ~6,800 models)."""
    import PureCloudPlatformClientV2

    return PureCloudPlatformClientV2


def model_class(name: str) -> type | None:
    cls = getattr(sdk().models, name, None)
    return cls if isinstance(cls, type) else None


@dataclass(frozen=True)
class ModelInfo:
    name: str
    types: dict[str, str]
    """JSON key -> SDK type (`str`, `WrapupInput`, `list[str]`, `dict(str, object)`, ...)."""
    enums: dict[str, tuple[str, ...]]
    """JSON key -> the values the SDK setter accepts, for enum fields."""


@functools.cache
def model_info(name: str) -> ModelInfo | None:
    cls = model_class(name)
    if cls is None:
        return None
    instance = cls()  # swagger_types and attribute_map are set per instance, in __init__
    attributes: dict[str, str] = instance.attribute_map
    types = {attributes[attr]: kind for attr, kind in instance.swagger_types.items()}
    enums = {attributes[attr]: values for attr, values in _setter_allowed_values(cls).items() if attr in attributes}
    return ModelInfo(name, types, enums)


def _setter_allowed_values(cls: type) -> dict[str, tuple[str, ...]]:
    """Python attribute -> `allowed_values`, read from the setters' source.

    Every SDK enum setter reads `allowed_values = [...]` and, for a value not in it, stores
    "outdated_sdk_version" instead of raising: so calling a setter cannot tell us the list, but
    its source can."""
    allowed: dict[str, tuple[str, ...]] = {}
    for node in ast.walk(ast.parse(inspect.getsource(cls))):
        if not isinstance(node, ast.FunctionDef) or not any(
            isinstance(d, ast.Attribute) and d.attr == "setter" for d in node.decorator_list
        ):
            continue
        for statement in ast.walk(node):
            if isinstance(statement, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "allowed_values" for t in statement.targets
            ):
                allowed[node.name] = tuple(ast.literal_eval(statement.value))
    return allowed


_LIST = re.compile(r"^list\[(.*)\]$")
_DICT = re.compile(r"^dict\(([^,]*), (.*)\)$")


def check_body(type_name: str, body: object) -> list[str]:
    """Problems of a JSON request body against the SDK type the operation declares; [] if none."""
    return check_value(type_name, body, "body")


def check_value(type_name: str, value: object, where: str = "$") -> list[str]:
    """Problems of a JSON value against an SDK type, recursively.

    Objects may only carry the JSON keys the SDK model declares; values must be of the declared
    JSON kind; enum fields must hold one of the SDK's values, matched exactly (the SDK setter
    compares case-insensitively, but the API declares these exact spellings). null is allowed
    anywhere (the API treats it as absent)."""
    if value is None:
        return []
    if list_match := _LIST.match(type_name):
        if not isinstance(value, list):
            return [f"{where}: expected a JSON array ({type_name}), got {_kind(value)}"]
        return [p for i, item in enumerate(value) for p in check_value(list_match.group(1), item, f"{where}[{i}]")]
    if dict_match := _DICT.match(type_name):
        if not isinstance(value, dict):
            return [f"{where}: expected a JSON object ({type_name}), got {_kind(value)}"]
        return [p for k, v in value.items() for p in check_value(dict_match.group(2), v, f"{where}.{k}")]
    if type_name in _PRIMITIVES:
        return [] if _PRIMITIVES[type_name](value) else [f"{where}: expected {type_name}, got {_kind(value)} {value!r}"]
    info = model_info(type_name)
    if info is None:
        return [f"{where}: the SDK has no type {type_name!r}"]
    if not isinstance(value, dict):
        return [f"{where}: expected a JSON object ({type_name}), got {_kind(value)}"]
    problems: list[str] = []
    for key, item in value.items():
        path = f"{where}.{key}"
        if key not in info.types:
            problems.append(f"{path}: {type_name} has no field {key!r} (it has: {', '.join(sorted(info.types))})")
            continue
        problems += check_value(info.types[key], item, path)
        allowed = info.enums.get(key)
        if allowed is not None and isinstance(item, str) and item not in allowed:
            problems.append(f"{path}: {item!r} is not a {type_name}.{key} value (allowed: {', '.join(allowed)})")
    return problems


def _kind(value: object) -> str:
    return type(value).__name__


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


# JSON kinds of the SDK's primitive type names (bool is not a number in JSON).
_PRIMITIVES: dict[str, Any] = {
    "str": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "datetime": _is_datetime,
    "LocalDateTime": lambda v: isinstance(v, str),
    "date": _is_date,
    "YearMonth": lambda v: isinstance(v, str) and re.fullmatch(r"\d{4}-\d{2}", v) is not None,
    "object": lambda v: True,
}


# --- responses ----------------------------------------------------------------------------------


@functools.cache
def _api_client() -> Any:
    return sdk().ApiClient()


def deserialize(data: object, type_name: str) -> Any:
    """A JSON value read into SDK objects exactly as the SDK reads an API response (its private
    `ApiClient.__deserialize`, which `ApiClient.deserialize` calls after parsing the HTTP body)."""
    return _api_client()._ApiClient__deserialize(data, type_name)
