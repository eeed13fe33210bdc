"""closer's search attributes on a real cluster: created by ``closer setup``, checked at worker start.

A workflow that upserts a search attribute its namespace does not know fails its workflow task
again and again: every termination would hang. So a worker refuses to start without them, and
``closer setup`` creates them through Temporal's operator API (list first, add only what is missing).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client

from workflows.search_attributes import ALL

SETUP_COMMAND = "closer setup"


def _type_name(value: int) -> str:
    """As Temporal's CLI and UI spell it: Keyword, Text, KeywordList, ..."""
    return (
        IndexedValueType.Name(IndexedValueType.ValueType(value))
        .removeprefix("INDEXED_VALUE_TYPE_")
        .title()
        .replace("_", "")
    )


#: Every search attribute closer's workflows upsert, by name, with its type.
REQUIRED: dict[str, IndexedValueType.ValueType] = {
    key.name: IndexedValueType.ValueType(int(key.indexed_value_type)) for key in ALL
}


def describe(names: Iterable[str]) -> str:
    """For messages: `CloserConversationId (Keyword), CloserOutcome (Keyword)`."""
    return ", ".join(f"{name} ({_type_name(REQUIRED[name])})" for name in names)


@dataclass(frozen=True)
class Check:
    """How a namespace's search attributes compare with what closer needs."""

    namespace: str
    missing: list[str]
    #: Present with another type (name: that type): closer cannot use them, nor change them.
    mistyped: dict[str, str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.mistyped

    def problem(self) -> str:
        """One line: what is wrong and which commands fix it."""
        fixes = []
        if self.mistyped:
            found = ", ".join(f"{name} as {kind}" for name, kind in self.mistyped.items())
            fixes.append(
                f"has {found} where closer needs {describe(self.mistyped)}: remove them "
                f"(temporal operator search-attribute remove --name NAME), then run `{SETUP_COMMAND}`"
            )
        if self.missing:
            fixes.append(
                f"lacks closer's search attributes {', '.join(self.missing)}: create them with `{SETUP_COMMAND}`"
            )
        return f"namespace {self.namespace!r} " + "; it ".join(fixes)


async def check(client: Client, namespace: str) -> Check:
    """Compare; raises RPCError where the operator API is not reachable or not allowed (Temporal Cloud)."""
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    known = dict(listed.custom_attributes)
    return Check(
        namespace=namespace,
        missing=[name for name in REQUIRED if name not in known],
        mistyped={name: _type_name(known[name]) for name, kind in REQUIRED.items() if known.get(name, kind) != kind},
    )


async def add_missing(client: Client, namespace: str) -> Check:
    """Create what is missing, unless some have the wrong type (then nothing is changed).

    Returns the check from before, so callers can say what was done.
    """
    before = await check(client, namespace)
    if before.missing and not before.mistyped:
        request = AddSearchAttributesRequest(
            namespace=namespace, search_attributes={n: REQUIRED[n] for n in before.missing}
        )
        await client.operator_service.add_search_attributes(request)
    return before
