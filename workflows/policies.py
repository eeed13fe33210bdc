"""Timeouts and retry policies of the termination, the watch and the sweep, named once."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.errors import NON_RETRYABLE_TYPES

#: Retries of one step: quick at first (a 202's effect is seconds away), backing off to 30 s;
#: a 429 overrides the next delay with its Retry-After.
STEP_RETRY_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
    non_retryable_error_types=list(NON_RETRYABLE_TYPES),
)

#: One attempt: above the client's 10 s HTTP timeout, with room for pacing and a read-compare.
STEP_START_TO_CLOSE = timedelta(seconds=40)
#: Activities heartbeat every second: a SIGKILLed worker's step is retried after this.
STEP_HEARTBEAT_TIMEOUT = timedelta(seconds=5)
#: All attempts of one step together: a Genesys outage longer than this fails the termination.
STEP_SCHEDULE_TO_CLOSE = timedelta(minutes=10)

#: The first verification read waits this long inside its activity (most 202s have landed by
#: then), not on a durable timer: the server fires sub-second timers about a second late (a 0.5 s
#: timer fired after ~1.07 s on the dev server), and this wait is short enough to lose to a crash.
VERIFY_SETTLE = timedelta(milliseconds=500)
#: Later verification polls on durable timers: the first this long after the read before ...
VERIFY_FIRST_POLL = timedelta(seconds=1)
#: ... then backing off to this.
VERIFY_MAX_POLL = timedelta(seconds=5)
#: How long to wait for Genesys to confirm the end after a teardown.
TEARDOWN_VERIFY_TIMEOUT = timedelta(seconds=60)
#: Transcripts are scheduled for deletion this long after the conversation ended (Genesys
#: deletes recordings at their `deleteDate`; a minute leaves in-flight processing room).
TRANSCRIPT_DELETE_AFTER = timedelta(minutes=1)
#: Default wait for Genesys to confirm the end before the teardown fallback.
DEFAULT_VERIFY_TIMEOUT_SECONDS = 60.0

#: A watch reads Genesys: the same step timeouts, but a failing read is retried for longer (the
#: watch has nothing better to do, and closing without a confirming read is never an option).
WATCH_READ_SCHEDULE_TO_CLOSE = timedelta(hours=1)
#: Waiting for a termination that another caller started: as long as a termination can take.
JOIN_TERMINATION_START_TO_CLOSE = timedelta(hours=1)
#: A watch continues as new past at most this many history events, carrying its state: about 7 idle
#: periods (a run starts with 8 to 13 events, a period adds 6). Short runs bound what a watch costs a
#: worker: the SDK keeps every finished timer and read of a cached run in memory (about 4 KiB an
#: idle period, measured: `python -m bench watches-long`), and a watch beyond the worker's cache is
#: replayed from the start of its run each time its timer fires (13 ms of CPU near 18 events, 49
#: ms near 81: `python -m bench watches-replayed`). A new run costs no Genesys call, about 10
#: history events and a workflow task; past ~50 events a replay costs more than that saves.
WATCH_CONTINUE_AS_NEW_EVENTS = 50
#: Each run draws its length between this and WATCH_CONTINUE_AS_NEW_EVENTS (short-runs-v3):
#: watches started together, and alike busy, would otherwise all continue as new within minutes
#: of each other, each time, and a worker beyond its cache falls behind (measured at 10,000
#: watches: timers 5 minutes late for 10 minutes; README, "Watches at scale"). 3 to 7 idle periods.
WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST = 25
#: The same for runs started before SHORT_RUNS_V2_PATCH (workflows/patches.py).
WATCH_CONTINUE_AS_NEW_EVENTS_BEFORE_SHORT_RUNS_V2 = 100
#: The same for runs started before SHORT_RUNS_PATCH.
WATCH_CONTINUE_AS_NEW_EVENTS_BEFORE_SHORT_RUNS = 1000
#: Checking a request's callback URL against the worker's allowlist: no I/O, so one short attempt
#: (retried only if the worker dies).
CALLBACK_CHECK_TIMEOUT = timedelta(seconds=10)
#: Delivering a closure callback: retried on anything but a 410 Gone, 1 s doubling to an hour
#: (about 35 attempts in the day), or after a 429/503's Retry-After. Standard Webhooks recommends
#: a long exponential schedule: a receiver down for hours still gets the event.
CALLBACK_RETRY_POLICY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(hours=1),
)
#: One delivery attempt: above the 15 s HTTP timeout.
CALLBACK_START_TO_CLOSE = timedelta(seconds=30)
#: All attempts together: after a day without a 2xx the callback is given up (status `failed`).
CALLBACK_SCHEDULE_TO_CLOSE = timedelta(hours=24)
#: Starting a page's watches takes as long as its pace says (``pageSize`` / ``startsPerMinute``);
#: one attempt gets that plus this (Temporal answering slowly), ...
SWEEP_STARTS_SLACK = timedelta(minutes=2)
#: ... all attempts together that plus this: a Temporal outage longer than this fails the sweep
#: (the next one, minutes later, starts over; starting a watch twice is refused, never doubled).
SWEEP_STARTS_RETRY_BUDGET = timedelta(minutes=10)
#: A scheduled sweep missed by more than this (server or workers down) is skipped, not run late:
#: the next one is due soon after.
SWEEP_CATCHUP_WINDOW = timedelta(minutes=1)
