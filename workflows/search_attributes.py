"""The typed search attributes every closer workflow upserts, so operators find runs in the UI.

A search attribute the server does not know makes a workflow task retry forever (a hang, not a
failure): every key here must be registered where the server starts (`closer setup`, the test and
demo dev servers, the compose stack's admin step).
"""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, SearchAttributeUpdate, TypedSearchAttributes

CONVERSATION_ID = SearchAttributeKey.for_keyword("CloserConversationId")
#: The outcome once the run has one (a termination's, a watch's or a sweep's).
OUTCOME = SearchAttributeKey.for_keyword("CloserOutcome")
#: The phase a run is in: for a termination, the last one that can wait long (`lookup` from the
#: start, `verify`, `teardown`, `deliver callback`; `done` once finished); a watch's state.
STEP = SearchAttributeKey.for_keyword("CloserStep")
PROFILE = SearchAttributeKey.for_keyword("CloserProfile")

ALL = (CONVERSATION_ID, OUTCOME, STEP, PROFILE)
#: A termination's phase from its start (its lookup, goodbye and disconnects take a second when
#: Genesys answers; one retrying shows in the Temporal UI's pending activities).
FIRST_STEP = "lookup"


def at_start(conversation_id: str, profile: str) -> TypedSearchAttributes:
    """What a termination carries from its start: closer's own starters set these with the start
    (free: they go into the start's own visibility record), so the workflow need not upsert them."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CONVERSATION_ID, conversation_id),
            SearchAttributePair(PROFILE, profile),
            SearchAttributePair(STEP, FIRST_STEP),
        ]
    )


def missing_at_start(
    conversation_id: str, profile: str, present: TypedSearchAttributes
) -> list[SearchAttributeUpdate[Any]]:
    """The start attributes a starter did not set (any client but closer's own): the workflow upserts these."""
    return [
        pair.key.value_set(pair.value)
        for pair in at_start(conversation_id, profile)
        if present.get(pair.key) != pair.value
    ]
