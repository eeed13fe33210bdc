"""The typed search attributes every closer workflow upserts, so operators find runs in the UI.

A search attribute the server does not know makes a workflow task retry forever (a hang, not a
failure): every key here must be registered where the server starts (`closer setup`, the test and
demo dev servers, the compose stack's admin step).
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CONVERSATION_ID = SearchAttributeKey.for_keyword("CloserConversationId")
#: The outcome once the run has one (a termination's, a watch's or a sweep's).
OUTCOME = SearchAttributeKey.for_keyword("CloserOutcome")
#: The step under way (lookup, verify, ...; `done` once finished).
STEP = SearchAttributeKey.for_keyword("CloserStep")
PROFILE = SearchAttributeKey.for_keyword("CloserProfile")

ALL = (CONVERSATION_ID, OUTCOME, STEP, PROFILE)
