"""The analytics details query (`POST /api/v2/analytics/conversations/details/query`) as far as a
sweep uses it: the open web messaging conversations that started in an interval, page by page.

Only the query closer sends is understood: `interval`; `order` asc or desc by `conversationStart`;
`paging`; conversation filters on `conversationEnd` (exists, notExists); segment filters on
`mediaType` and `messageType` (matches). Anything else `ConversationQuery` declares is refused
with a 400 rather than ignored: an ignored filter would find conversations the real query would not.

Analytics is near-real-time, not live: a conversation is found `analytics_lag_s` after it started
and shows its `conversationEnd` that long after it ended. The interval selects conversations that
started within it; Genesys selects those that started on a day the interval touches, a superset.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from . import wire
from .bodies import declared_object
from .clock import at_wall, iso, parse_iso
from .errors import GenesysError, bad_request
from .state import Conversation

CONVERSATION_QUERY_FIELDS = frozenset(
    {
        "conversationFilters", "segmentFilters", "evaluationFilters", "surveyFilters",
        "resolutionFilters", "order", "orderBy", "interval", "aggregations", "paging",
    }
)  # fmt: skip
UNMODELLED_QUERY_FIELDS = ("evaluationFilters", "surveyFilters", "resolutionFilters", "aggregations")
PAGING_SPEC_FIELDS = frozenset({"pageSize", "pageNumber"})
FILTER_FIELDS = frozenset({"type", "clauses", "predicates"})
"""`ConversationDetailQueryFilter` and `SegmentDetailQueryFilter` declare the same fields."""
MODELLED_PREDICATE_FIELDS = frozenset({"type", "dimension", "operator", "value"})
DEFAULT_PAGE_SIZE = 25
"""Genesys' default when `paging` leaves it out."""


@dataclass(frozen=True)
class FilterKind:
    """One list of filters of `ConversationQuery` and what the emulator evaluates in it."""

    field: str
    model: str
    predicate_model: str
    predicate_fields: frozenset[str]
    operators: dict[str, tuple[str, ...]]
    """The modelled dimensions, each with the operators the emulator evaluates for it."""


CONVERSATION_FILTERS = FilterKind(
    "conversationFilters",
    "ConversationDetailQueryFilter",
    "ConversationDetailQueryPredicate",
    frozenset({"type", "dimension", "metric", "operator", "value", "range"}),
    {"conversationEnd": ("exists", "notExists")},
)
SEGMENT_FILTERS = FilterKind(
    "segmentFilters",
    "SegmentDetailQueryFilter",
    "SegmentDetailQueryPredicate",
    frozenset({"type", "dimension", "propertyType", "property", "metric", "operator", "value", "range"}),
    {"mediaType": ("matches",), "messageType": ("matches",)},
)


@dataclass(frozen=True)
class Predicate:
    dimension: str
    operator: str
    value: str | None

    def holds(self, actual: str | None) -> bool:
        if self.operator == "exists":
            return actual is not None
        if self.operator == "notExists":
            return actual is None
        return actual == self.value


@dataclass(frozen=True)
class Filter:
    either: bool
    """`type` "or": one predicate must hold; "and": all of them."""
    predicates: tuple[Predicate, ...]

    def matches(self, dimension: Callable[[str], str | None]) -> bool:
        """Whether the filter holds for something whose dimensions `dimension` looks up."""
        results = (p.holds(dimension(p.dimension)) for p in self.predicates)
        return any(results) if self.either else all(results)


@dataclass(frozen=True)
class DetailsQuery:
    start: float
    end: float
    """The interval, in monotonic time: conversations that started in [start, end)."""
    descending: bool
    page_size: int
    page_number: int
    conversation_filters: tuple[Filter, ...]
    segment_filters: tuple[Filter, ...]
    """Each must hold for one of a conversation's sessions (there is one per participant here)."""


def parse_query(body: object, max_page_size: int) -> DetailsQuery:
    """A `ConversationQuery`: 400 for an undeclared field, a bad value, or what is not modelled."""
    fields = declared_object(body, "ConversationQuery", CONVERSATION_QUERY_FIELDS)
    for name in UNMODELLED_QUERY_FIELDS:
        if fields.get(name):
            raise _not_modelled(f"'{name}'")
    if fields.get("order", "asc") not in ("asc", "desc"):
        raise _not_modelled(f"order {fields['order']!r} (only 'asc' and 'desc')")
    if fields.get("orderBy", "conversationStart") != "conversationStart":
        raise _not_modelled(f"orderBy {fields['orderBy']!r} (only 'conversationStart')")
    start, end = _interval(fields.get("interval"))
    paging = declared_object(fields.get("paging") or {}, "PagingSpec", PAGING_SPEC_FIELDS)
    page_size = _positive_int(paging.get("pageSize", DEFAULT_PAGE_SIZE), "paging.pageSize")
    if page_size > max_page_size:
        raise bad_request(f"paging.pageSize must be at most {max_page_size}, got {page_size}.", "invalid.value")
    return DetailsQuery(
        start=start,
        end=end,
        descending=fields.get("order") == "desc",
        page_size=page_size,
        page_number=_positive_int(paging.get("pageNumber", 1), "paging.pageNumber"),
        conversation_filters=_filters(fields.get("conversationFilters"), CONVERSATION_FILTERS),
        segment_filters=_filters(fields.get("segmentFilters"), SEGMENT_FILTERS),
    )


def answer(query: DetailsQuery, conversations: Iterable[Conversation], now: float, lag_s: float) -> dict[str, object]:
    """`AnalyticsConversationQueryResponse`: one page, and how many conversations match in all.

    UNCONFIRMED: `conversations` is left out when the page is empty (what clients are seen to
    expect); `totalHits` is always there."""
    found = [c for c in conversations if _found(query, c, now, lag_s)]
    found.sort(key=lambda c: (c.started_at, c.id), reverse=query.descending)
    first = (query.page_number - 1) * query.page_size
    page = [wire.analytics_conversation(c, _visible_end(c, now, lag_s)) for c in found[first : first + query.page_size]]
    return {**({"conversations": page} if page else {}), "totalHits": len(found)}


def _found(query: DetailsQuery, c: Conversation, now: float, lag_s: float) -> bool:
    if c.started_at + lag_s > now or not query.start <= c.started_at < query.end:
        return False
    end = _visible_end(c, now, lag_s)
    conversation_dimensions = {"conversationEnd": None if end is None else iso(end)}
    if not all(f.matches(conversation_dimensions.get) for f in query.conversation_filters):
        return False
    sessions = [{"mediaType": "message", "messageType": p.communication.type} for p in c.participants]
    return all(any(f.matches(session.get) for session in sessions) for f in query.segment_filters)


def _visible_end(c: Conversation, now: float, lag_s: float) -> float | None:
    """The conversation's end once analytics has caught up with it."""
    return c.ended_at if c.ended_at is not None and c.ended_at + lag_s <= now else None


def _interval(value: object) -> tuple[float, float]:
    if value is None:
        raise bad_request("interval is required, e.g. '2026-11-18T00:00:00.000Z/2026-11-21T12:00:00.000Z'.")
    parts = value.split("/") if isinstance(value, str) else []
    try:
        start, end = (at_wall(parse_iso(part)) for part in parts)
    except ValueError:
        raise bad_request(
            f"interval must be two ISO-8601 date-times with a time zone, 'start/end'; got {value!r}.",
            "invalid.value",
        ) from None
    if end <= start:
        raise bad_request(f"interval must end after it starts; got {value!r}.", "invalid.value")
    return start, end


def _positive_int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise bad_request(f"{name} must be a positive integer, got {value!r}.", "invalid.value")
    return value


def _filters(value: object, kind: FilterKind) -> tuple[Filter, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise bad_request(f"{kind.field} must be a list of {kind.model}.")
    return tuple(_filter(item, kind) for item in value)


def _filter(item: object, kind: FilterKind) -> Filter:
    fields = declared_object(item, kind.model, FILTER_FIELDS)
    if fields.get("clauses"):
        raise _not_modelled(f"clauses in {kind.field}")
    if fields.get("type") not in ("and", "or"):
        raise bad_request(f"{kind.field}: type must be 'and' or 'or', got {fields.get('type')!r}.", "invalid.value")
    predicates = fields.get("predicates")
    if not isinstance(predicates, list) or not predicates:
        raise bad_request(f"{kind.field}: each filter needs a list of predicates.")
    return Filter(fields["type"] == "or", tuple(_predicate(p, kind) for p in predicates))


def _predicate(item: object, kind: FilterKind) -> Predicate:
    fields = declared_object(item, kind.predicate_model, kind.predicate_fields)
    unmodelled = sorted(set(fields) - MODELLED_PREDICATE_FIELDS)
    if unmodelled or fields.get("type", "dimension") != "dimension":
        raise _not_modelled(f"{kind.field} predicates other than dimension ones (got {item!r})")
    dimension = fields.get("dimension")
    operator = fields.get("operator", "matches")
    if dimension not in kind.operators or operator not in kind.operators[dimension]:
        modelled = "; ".join(f"{d} {'/'.join(ops)}" for d, ops in kind.operators.items())
        raise _not_modelled(f"{kind.field} predicate {dimension!r} {operator!r} (only: {modelled})")
    value = fields.get("value")
    if (operator == "matches") != isinstance(value, str):
        raise bad_request(
            f"{kind.field}: {dimension} {operator} takes {'a string value' if operator == 'matches' else 'no value'}.",
            "invalid.value",
        )
    return Predicate(dimension, operator, value if isinstance(value, str) else None)


def _not_modelled(what: str) -> GenesysError:
    return bad_request(f"The emulator does not model {what}: it answers only the query closer sends.")
