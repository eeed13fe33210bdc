"""``closer watch``: close a conversation once idle, or at a deadline; touch, cancel, read a watch."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import click

from workflows import WatchResult, WatchStatus
from workflows.contract import InvalidInput
from workflows.durations import format_duration
from workflows.watch_models import WatchRequest

from . import watches
from .cli import CannotStart, _check_profile, _valid, reach_temporal
from .settings import TemporalSettings

F = TypeVar("F", bound=Callable[..., Any])

#: The watch policy, as ``closer watch`` and ``closer sweep`` take it (``watch_settings`` reads it).
_POLICY_OPTIONS = (
    click.option(
        "--idle", metavar="DURATION", help="Close after this long without activity: 90s, 15m, 24h (at most 30d)."
    ),
    click.option(
        "--mode",
        type=click.Choice(["any", "awaiting-customer"]),
        default="any",
        show_default=True,
        help="any: idle since the last message by anyone; awaiting-customer: since the agent's or bot's last unanswered message.",
    ),
    click.option(
        "--warning",
        metavar="TEXT",
        help="Sent once per idle period, --warn-before ahead of the close (at most 2000 characters).",
    ),
    click.option("--warn-before", metavar="DURATION", help="How long before the close the warning goes out, e.g. 2m."),
    click.option(
        "--max-duration",
        metavar="DURATION",
        help="Close this long after the conversation started, whatever its activity.",
    ),
    click.option("--goodbye", metavar="TEXT", help="The closing message (as closer terminate --goodbye)."),
    click.option("--wrapup-code", metavar="ID", help="Wrap-up code id for agents who must wrap up."),
    click.option("--no-teardown", is_flag=True, help="Never use the last-resort teardown when closing."),
    click.option("--delete-transcript", is_flag=True, help="Schedule deletion of the transcript once closed."),
)


def watch_policy_options(command: F) -> F:
    """Add the watch policy's options to a command."""
    for option in reversed(_POLICY_OPTIONS):
        command = option(command)
    return command


@click.command()
@click.argument("conversation_id")
@watch_policy_options
@click.option(
    "--deadline", metavar="TIME", help="Close at this time (ISO 8601 with a time zone), whatever its activity."
)
@click.option("--profile", default="default", show_default=True, help="Genesys credentials profile.")
@click.option(
    "--touch", "action", flag_value="touch", help="Activity seen: restart the idle countdown (no Genesys read)."
)
@click.option("--cancel", "action", flag_value="cancel", help="Stop watching.")
@click.option("--status", "action", flag_value="status", help="Show the watch: due time, last activity, warnings sent.")
@click.option("--json", "as_json", is_flag=True, help="Print the status (or result) as JSON, for scripts.")
def watch(conversation_id: str, action: str | None, as_json: bool, profile: str, **options: Any) -> None:
    """Watch a conversation: warn it, then close it, once idle too long; or close it at a deadline.

    Starting a watch for a conversation that already has one changes its settings.
    """
    if action is None:
        request = _request(conversation_id, profile, options)
        _check_profile(profile)
    elif any(v not in (None, False, "any") for v in options.values()):
        raise CannotStart(f"--{action} takes no watch settings: give them without --{action} to change the watch")
    else:
        request = None
        _valid(WatchRequest, conversation_id=conversation_id, idle="1m")  # the id's own check
    state = asyncio.run(_run(TemporalSettings.from_env(), conversation_id, action, request))
    if state is None:
        click.echo(f"{action}: done" if not as_json else "{}")
    elif as_json:
        click.echo(state.model_dump_json(indent=2))
    else:
        click.echo(_describe(state))


def _request(conversation_id: str, profile: str, options: dict[str, Any]) -> WatchRequest:
    if options["idle"] is None:
        raise CannotStart(
            "--idle is required to start or change a watch (e.g. --idle 15m); or give --touch, --cancel or --status"
        )
    return _valid(WatchRequest, conversation_id=conversation_id, profile=profile, **watch_settings(options))


def watch_settings(options: dict[str, Any]) -> dict[str, Any]:
    """The watch policy options (``closer watch``, ``closer sweep``) as ``WatchSettings`` fields."""
    close = {
        "goodbye": options.pop("goodbye"),
        "wrapup_code": options.pop("wrapup_code"),
        "allow_teardown": not options.pop("no_teardown"),
        "delete_transcript": options.pop("delete_transcript"),
    }
    options["mode"] = options["mode"].replace("-", "_")
    return {"close": close, **{k: v for k, v in options.items() if v is not None}}


async def _run(
    settings: TemporalSettings, conversation_id: str, action: str | None, request: WatchRequest | None
) -> WatchStatus | WatchResult | None:
    client = await reach_temporal(settings)
    try:
        if request is not None:
            return await watches.watch(client, request, task_queue=settings.task_queue)
        if action == "touch":
            await watches.touch(client, conversation_id)
        elif action == "cancel":
            await watches.cancel(client, conversation_id)
        else:
            return await watches.watch_state(client, conversation_id)
    except (watches.NoWatch, InvalidInput) as error:
        raise CannotStart(str(error)) from None
    return None


def _describe(state: WatchStatus | WatchResult) -> str:
    rows: list[tuple[str, str]] = []
    if isinstance(state, WatchResult):
        rows.append(("outcome", state.outcome))
        if state.termination is not None:
            rows.append(("termination", f"{state.termination.outcome} ({state.termination.api_calls} calls)"))
    else:
        rows.append(("state", state.state))
        if state.settings is not None:
            s = state.settings
            rows.append(
                (
                    "idle",
                    f"{format_duration(s.idle)}, mode {s.mode}"
                    + (f", warning {format_duration(s.warn_before)} before" if s.warn_before else ""),
                )
            )
        if state.due_at is not None:
            rows.append(("due", f"{state.due} at {state.due_at.isoformat()}"))
    rows.append(("last activity", state.last_activity_at.isoformat() if state.last_activity_at else "none seen"))
    rows += [
        ("warning" if i == 0 else "", f"{w.status} at {w.at.isoformat()}" + (f": {w.reason}" if w.reason else ""))
        for i, w in enumerate(state.warnings)
    ]
    rows.append(("reads", f"{state.reads} ({state.api_calls} Genesys calls), touches {state.touches}"))
    return "\n".join(f"{label:<14}{value}" for label, value in rows)
