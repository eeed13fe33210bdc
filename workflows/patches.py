"""The ids of the workflow patches (``workflow.patched``): each one lets the runs started before a
change replay as they ran, while new runs take the new path. Each file in tests/histories/<patch>/
is a run recorded before that patch: the replay tests keep them replaying."""

from __future__ import annotations

#: Runs started before the front-door contract neither upserted search attributes nor sent
#: callbacks: their histories replay without those commands.
FRONT_DOOR_PATCH = "front-door-v1"
#: Changes that came out of `make bench`. Runs started before it: a termination upserted
#: `CloserStep` at every step and its start attributes always, slept on a timer before its first
#: verify read, ran the callback delivery even when no callback goes out, and disconnected a
#: bot-only conversation one participant at a time; a watch upserted `CloserStep` around every read.
LEAN_PATCH = "lean-v1"
#: A watch closed or warned on a read that was asked for before the close or warning fell due, if
#: its answer came in after (a slow read, a busy worker): the customer may have written in between.
#: Since this patch such a read is followed by another before anything is sent.
FRESH_READ_PATCH = "fresh-read-v1"
#: A watch read Genesys with an activity task (scheduled, started and completed through the
#: server, and a second workflow task for its answer). Since this patch the read is a local
#: activity, run in the workflow task its timer wakes: 6 history events a period instead of 11.
LOCAL_READ_PATCH = "local-read-v1"
#: A watch continued as new past 1,000 history events, which let a cached watch grow by about
#: 4 KiB of worker memory an idle period for ~160 periods. Since this patch it continues as new
#: past 100 (50 since short-runs-v2, below). A run that passed 100 before it keeps 1,000 (its
#: replay says so); any other run, started before it or not, takes 100.
SHORT_RUNS_PATCH = "short-runs-v1"
#: A watch continued as new past 100 history events. A watch beyond the worker's cache is replayed
#: from the start of its run whenever its timer fires, and a replay's CPU grows with the run
#: (measured: `python -m bench watches-replayed`, 13 ms a read near 18 events, 49 ms near 81), so
#: with more watches than the cache holds, a read cost 32.5 ms on average over a run. Since this
#: patch it continues as new past 50 (WATCH_CONTINUE_AS_NEW_EVENTS): 18.3 ms. A run that passed 50
#: before it keeps 100 (its replay says so).
SHORT_RUNS_V2_PATCH = "short-runs-v2"
#: A watch continued as new past 50 history events, so watches started together and alike busy
#: continued as new together, run after run: 10,000 watches started within 10 minutes did so within
#: some 15, and their timers fired up to 5 minutes late while the server and worker caught up.
#: Since this patch each run continues as new past a length drawn from 25 to 50
#: (WATCH_CONTINUE_AS_NEW_EVENTS_FEWEST): the watches drift apart (the same 10k run: p99 283 ->
#: 89 s, 0.81 s once the runs' ends had spread). A run that passed its drawn length before the
#: patch keeps 50 (its replay says so).
SHORT_RUNS_V3_PATCH = "short-runs-v3"
#: A watch kept each update it took (the start's, from `watch`, and each `configure`) until its run
#: ended: the SDK core holds an update's state with its run, about 33 KiB of a cached watch's
#: worker memory (measured: a bare workflow cached with one update against without, 80 and 46 KiB;
#: closer's watch 129 KiB against a hand-written watch's 80, `python -m bench watch-memory`). Since
#: this patch a run that took an update continues as new before its next sleep.
UPDATED_RUN_PATCH = "fresh-run-after-update-v1"
