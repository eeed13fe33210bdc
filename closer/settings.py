"""closer's configuration, from the environment.

Temporal: ``TEMPORAL_ADDRESS`` (default ``localhost:7233``), ``TEMPORAL_NAMESPACE`` (``default``),
``CLOSER_TASK_QUEUE`` (``closer``).

Genesys, profile ``default``: the variables Genesys's own CLI and Terraform provider read,
``GENESYSCLOUD_OAUTHCLIENT_ID``, ``GENESYSCLOUD_OAUTHCLIENT_SECRET``, ``GENESYSCLOUD_REGION`` (a
region domain such as ``mypurecloud.ie`` or an AWS region name such as ``eu-west-1``), plus closer's
``CLOSER_GENESYS_API_URL`` / ``CLOSER_GENESYS_LOGIN_URL`` (override the region's hosts, e.g. the
emulator), ``CLOSER_GENESYS_REQUESTS_PER_MINUTE`` (the org's per-token rate limit, default 300) and
``CLOSER_GENESYS_RATE_LIMIT_WINDOW_SECONDS`` (the window it counts in: 60, as Genesys; tests shrink it).
Further profiles: the same with the prefix ``CLOSER_PROFILE_<NAME>_``, e.g.
``CLOSER_PROFILE_EU_OAUTHCLIENT_ID``, ``CLOSER_PROFILE_EU_OAUTHCLIENT_SECRET``,
``CLOSER_PROFILE_EU_REGION``, ``CLOSER_PROFILE_EU_API_URL`` (profile name ``eu``).

Closure callbacks (the worker's): ``CLOSER_CALLBACK_URL`` (the default receiver),
``CLOSER_CALLBACK_ALLOWED_ORIGINS`` (comma-separated origins a request's own callbackUrl may use) and
``CLOSER_CALLBACK_SECRET`` (the Standard Webhooks signing secret, ``whsec_<base64>``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pydantic import ValidationError

from activities.callback_config import CallbackConfig, allowed_origin, check_secret, origin_of
from genesys import Profile

DEFAULT_TASK_QUEUE = "closer"
_NAMED = re.compile(r"^CLOSER_PROFILE_([A-Z0-9_]+?)_OAUTHCLIENT_ID$")


class SettingsError(ValueError):
    """The environment does not describe a usable configuration; the message says what to set."""


@dataclass(frozen=True)
class TemporalSettings:
    address: str = "localhost:7233"
    namespace: str = "default"
    task_queue: str = DEFAULT_TASK_QUEUE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TemporalSettings:
        env = os.environ if environ is None else environ
        return cls(
            address=env.get("TEMPORAL_ADDRESS") or cls.address,
            namespace=env.get("TEMPORAL_NAMESPACE") or cls.namespace,
            task_queue=env.get("CLOSER_TASK_QUEUE") or cls.task_queue,
        )


@dataclass(frozen=True)
class Settings:
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    profiles: dict[str, Profile] = field(default_factory=dict)
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(temporal=TemporalSettings.from_env(env), profiles=profiles_from_env(env), callbacks=callbacks_from_env(env))


def _profile_prefixes(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Each profile whose client id is set: its variables' prefixes (credentials, closer's own)."""
    prefixes = {"default": ("GENESYSCLOUD_", "CLOSER_GENESYS_")}
    for key in environ:
        match = _NAMED.match(key)
        if match:
            prefix = f"CLOSER_PROFILE_{match.group(1)}_"
            prefixes[match.group(1).lower()] = (prefix, prefix)
    return {name: p for name, p in prefixes.items() if environ.get(f"{p[0]}OAUTHCLIENT_ID")}


def profile_names_from_env(environ: Mapping[str, str]) -> list[str]:
    """The configured profiles' names: needs only the (non-secret) client ids, as the CLI has."""
    return sorted(_profile_prefixes(environ))


def profile_variables(name: str) -> str:
    """The variables that define profile ``name``, for messages that say what to set."""
    prefix = "GENESYSCLOUD_" if name == "default" else f"CLOSER_PROFILE_{name.upper()}_"
    return f"{prefix}OAUTHCLIENT_ID, {prefix}OAUTHCLIENT_SECRET and {prefix}REGION"


def profiles_from_env(environ: Mapping[str, str]) -> dict[str, Profile]:
    """Every Genesys credentials profile the environment configures (possibly none)."""
    profiles = {}
    for name, (genesys_prefix, closer_prefix) in _profile_prefixes(environ).items():
        client_id = environ[f"{genesys_prefix}OAUTHCLIENT_ID"]
        secret_var = f"{genesys_prefix}OAUTHCLIENT_SECRET"
        if not environ.get(secret_var):
            raise SettingsError(f"profile {name!r}: {genesys_prefix}OAUTHCLIENT_ID is set but {secret_var} is not")
        fields = {
            "name": name,
            "client_id": client_id,
            "client_secret": environ[secret_var],
            "region": environ.get(f"{genesys_prefix}REGION") or "mypurecloud.com",
            "api_url": environ.get(f"{closer_prefix}API_URL") or None,
            "login_url": environ.get(f"{closer_prefix}LOGIN_URL") or None,
        }
        rpm = environ.get(f"{closer_prefix}REQUESTS_PER_MINUTE")
        if rpm:
            fields["requests_per_minute"] = rpm
        window = environ.get(f"{closer_prefix}RATE_LIMIT_WINDOW_SECONDS")
        if window:  # 60, as Genesys counts; only an emulator compressing time differs
            fields["rate_limit_window_seconds"] = window
        try:
            profiles[name] = Profile.model_validate(fields)
        except ValidationError as error:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False))
            raise SettingsError(f"profile {name!r}: {problems}") from None
    return profiles


def callbacks_from_env(environ: Mapping[str, str]) -> CallbackConfig:
    """The worker's closure callback settings (none by default: no callback sent, none allowed)."""
    url = environ.get("CLOSER_CALLBACK_URL") or None
    origins = [entry for entry in environ.get("CLOSER_CALLBACK_ALLOWED_ORIGINS", "").split(",") if entry.strip()]
    secret = environ.get("CLOSER_CALLBACK_SECRET") or None
    try:
        if url:
            _checked("CLOSER_CALLBACK_URL", origin_of, url)
        allowed = frozenset(_checked("CLOSER_CALLBACK_ALLOWED_ORIGINS", allowed_origin, entry) for entry in origins)
        if secret:
            _checked("CLOSER_CALLBACK_SECRET", check_secret, secret)
        return CallbackConfig(url=url, allowed_origins=allowed, secret=secret)
    except ValueError as error:
        raise SettingsError(str(error)) from None


def _checked(variable: str, check: Callable[[str], str], value: str) -> str:
    try:
        return check(value)
    except ValueError as error:
        raise ValueError(f"{variable}: {error}") from None
