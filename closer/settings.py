"""closer's configuration, from the environment.

Temporal: what Temporal's own CLI and SDKs read (``temporalio.envconfig``): ``TEMPORAL_ADDRESS``
(default ``localhost:7233``), ``TEMPORAL_NAMESPACE`` (``default``), ``TEMPORAL_API_KEY``, ``TEMPORAL_TLS``
and ``TEMPORAL_TLS_*`` (mTLS: ``TEMPORAL_TLS_CLIENT_CERT_PATH`` and ``TEMPORAL_TLS_CLIENT_KEY_PATH``),
``TEMPORAL_GRPC_META_*``, or a profile (``TEMPORAL_PROFILE``) of the config file (``TEMPORAL_CONFIG_FILE``,
default ``~/.config/temporalio/temporal.toml``), variables overriding the file; plus closer's
``CLOSER_TASK_QUEUE`` (``closer``). An empty variable counts as unset (as compose's ``${VAR:-}`` passes it).

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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from temporalio.envconfig import ClientConfigProfile, ClientConfigTLS
from temporalio.service import TLSConfig

from activities.callback_config import CallbackConfig, allowed_origin, check_secret, origin_of
from genesys import Profile

DEFAULT_TASK_QUEUE = "closer"
_NAMED = re.compile(r"^CLOSER_PROFILE_([A-Z0-9_]+?)_OAUTHCLIENT_ID$")


class SettingsError(ValueError):
    """The environment does not describe a usable configuration; the message says what to set."""


#: Where Temporal is when nothing says otherwise: a dev server on this machine.
DEFAULT_TEMPORAL_ADDRESS = "localhost:7233"
DEFAULT_TEMPORAL_NAMESPACE = "default"
#: The variables ``temporalio.envconfig`` reads, by setting (besides ``TEMPORAL_GRPC_META_*``), as
#: Temporal's CLI and every SDK do. A variable overrides the same setting of the config file's profile.
TEMPORAL_VARIABLES = {
    "address": "TEMPORAL_ADDRESS",
    "namespace": "TEMPORAL_NAMESPACE",
    "api_key": "TEMPORAL_API_KEY",
    "tls": "TEMPORAL_TLS",
    "server_name": "TEMPORAL_TLS_SERVER_NAME",
    "profile": "TEMPORAL_PROFILE",
    "config_file": "TEMPORAL_CONFIG_FILE",
}
#: The TLS files (ClientConfigTLS field: the variables' stem, the TOML key's stem, what it is).
TLS_SOURCES = {
    "client_cert": ("TEMPORAL_TLS_CLIENT_CERT", "client_cert", "client certificate"),
    "client_private_key": ("TEMPORAL_TLS_CLIENT_KEY", "client_key", "client key"),
    "server_root_ca_cert": ("TEMPORAL_TLS_SERVER_CA_CERT", "server_ca_cert", "server CA certificate"),
}
#: Read by envconfig, but the Python SDK has no such option: refused rather than silently ignored.
_HOST_VERIFICATION = "TEMPORAL_TLS_DISABLE_HOST_VERIFICATION"
_BOOLEANS = {"true": False, "1": False, "false": True, "0": True}  # TEMPORAL_TLS value: disabled?
_ADDRESS = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")
_CLOUD_SUFFIXES = (".tmprl.cloud", ".api.temporal.io")


@dataclass(frozen=True)
class TemporalSettings:
    """Where closer's Temporal is and how to reach it, for every entry point (worker, CLI, API, demo).

    Built from the environment by ``from_env`` through ``temporalio.envconfig``, so an API key, mTLS
    and config-file profiles work as in Temporal's own CLI. Nothing is read from disk and nothing
    fails here: a setting that cannot work is kept as ``problem``, and ``closer.temporal.connect``
    reports it (one line naming the variable or file to fix), where every caller already reports
    an unreachable server. Certificates are read when connecting, so a renewed file is picked up.
    """

    address: str = DEFAULT_TEMPORAL_ADDRESS
    namespace: str = DEFAULT_TEMPORAL_NAMESPACE
    task_queue: str = DEFAULT_TASK_QUEUE
    api_key: str | None = field(default=None, repr=False)
    #: TLS as configured (files or PEM data); None: TLS exactly when there is an API key.
    tls: ClientConfigTLS | None = None
    rpc_metadata: Mapping[str, str] = field(default_factory=dict, repr=False)
    #: What to fix, in one line, where the settings cannot work (a missing profile, a bad address).
    problem: str | None = None
    #: Where each setting came from (a variable, or a key of a config file's profile), for messages.
    sources: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TemporalSettings:
        env = os.environ if environ is None else environ
        task_queue = env.get("CLOSER_TASK_QUEUE") or DEFAULT_TASK_QUEUE
        # Empty means unset: envconfig would take an empty TEMPORAL_API_KEY or TEMPORAL_TLS as TLS on.
        temporal_env = {key: value for key, value in env.items() if key.startswith("TEMPORAL_") and value.strip()}
        try:
            config_file = temporal_env.get(TEMPORAL_VARIABLES["config_file"])
            if config_file and not Path(config_file).is_file():
                raise ValueError(f"TEMPORAL_CONFIG_FILE: no such file {config_file}")
            profile = ClientConfigProfile.load(override_env_vars=temporal_env)
        except (RuntimeError, ValueError) as error:  # envconfig's ConfigError is a RuntimeError
            return cls(
                address=temporal_env.get("TEMPORAL_ADDRESS", DEFAULT_TEMPORAL_ADDRESS),
                namespace=temporal_env.get("TEMPORAL_NAMESPACE", DEFAULT_TEMPORAL_NAMESPACE),
                task_queue=task_queue,
                problem=_config_problem(error, temporal_env),
                sources=_sources(temporal_env),
            )
        settings = cls(
            address=profile.address or DEFAULT_TEMPORAL_ADDRESS,
            namespace=profile.namespace or DEFAULT_TEMPORAL_NAMESPACE,
            task_queue=task_queue,
            api_key=profile.api_key or None,
            tls=profile.tls,
            rpc_metadata=dict(profile.grpc_meta),
            sources=_sources(temporal_env, profile.tls),
        )
        problems = settings._problems(temporal_env, namespace_set=profile.namespace is not None)
        return replace(settings, problem="; ".join(problems)) if problems else settings

    def source(self, setting: str) -> str:
        """What sets ``setting`` (``address``, ``client_cert``, ...): a variable or a config file's key."""
        if setting in self.sources:
            return self.sources[setting]
        if setting in TLS_SOURCES:
            return f"{TLS_SOURCES[setting][0]}_PATH"
        return TEMPORAL_VARIABLES[setting]

    @property
    def uses_tls(self) -> bool:
        return bool(self.api_key) if self.tls is None else not self.tls.disabled

    def describe(self) -> str:
        """For logs: ``host:7233 namespace ns (TLS, API key)``; never a secret."""
        if not self.uses_tls:
            how = ""
        elif self.api_key:
            how = " (TLS, API key)"
        elif self.tls is not None and self.tls.client_cert is not None:
            how = " (mTLS)"
        else:
            how = " (TLS)"
        return f"{self.address} namespace {self.namespace}{how}"

    def connect_options(self) -> dict[str, Any]:
        """``Client.connect``'s keyword arguments (all but the data converter).

        Reads the TLS files; SettingsError, one line naming what to fix, where they cannot work.
        """
        if self.problem:
            raise SettingsError(self.problem)
        options: dict[str, Any] = {"target_host": self.address, "namespace": self.namespace, "tls": self._tls_config()}
        if self.api_key:
            options["api_key"] = self.api_key
        if self.rpc_metadata:
            options["rpc_metadata"] = dict(self.rpc_metadata)
        return options

    def _problems(self, env: Mapping[str, str], *, namespace_set: bool) -> list[str]:
        problems = []
        address = _ADDRESS.match(self.address)
        if address is None or not 0 < int(address.group(1)) < 65536:
            problems.append(
                f"{self.source('address')}={self.address!r} is not host:port: e.g. localhost:7233, or "
                "<namespace>.<account>.tmprl.cloud:7233 for Temporal Cloud (no scheme, no path)"
            )
        tls_flag = env.get("TEMPORAL_TLS")
        if tls_flag is not None and tls_flag.strip().lower() not in _BOOLEANS:
            problems.append(f"TEMPORAL_TLS={tls_flag!r}: use true or false")
        if env.get(_HOST_VERIFICATION, "").strip().lower() in ("true", "1"):
            problems.append(
                f"{_HOST_VERIFICATION} is not supported by the Python SDK closer runs on: set "
                "TEMPORAL_TLS_SERVER_NAME to the name in the server's certificate instead"
            )
        if (
            self.tls is not None
            and not self.tls.disabled
            and (self.tls.client_cert is None) != (self.tls.client_private_key is None)
        ):
            have, lacking = (
                ("client_cert", "client_private_key")
                if self.tls.client_private_key is None
                else ("client_private_key", "client_cert")
            )
            stem, key, _ = TLS_SOURCES[lacking]
            if self.source(have).startswith("TEMPORAL_"):
                problems.append(
                    f"{self.source(have)} is set but not {stem}_PATH: mTLS needs the certificate and its key"
                )
            else:
                problems.append(f"{self.source(have)} has no tls.{key}_path: mTLS needs the certificate and its key")
        host = self.address.rsplit(":", 1)[0].lower()
        if host.endswith(_CLOUD_SUFFIXES):
            if not self.uses_tls:
                problems.append(
                    f"Temporal Cloud ({self.address}) needs TLS: set TEMPORAL_API_KEY, or "
                    "TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH (and leave TEMPORAL_TLS unset)"
                )
            if not namespace_set:
                example = (
                    host.removesuffix(".tmprl.cloud") if host.endswith(".tmprl.cloud") else "<namespace>.<account>"
                )
                problems.append(
                    f"Temporal Cloud ({self.address}) needs its namespace: set TEMPORAL_NAMESPACE={example}"
                )
        return problems

    def _tls_config(self) -> bool | TLSConfig:
        if self.tls is None:
            return bool(self.api_key)  # an API key means TLS, as in envconfig
        if self.tls.disabled:
            return False
        return TLSConfig(
            domain=self.tls.server_name,
            server_root_ca_cert=self._pem("server_root_ca_cert"),
            client_cert=self._pem("client_cert"),
            client_private_key=self._pem("client_private_key"),
        )

    def _pem(self, setting: str) -> bytes | None:
        value = getattr(self.tls, setting)
        what = TLS_SOURCES[setting][2]
        if value is None:
            return None
        if isinstance(value, Path):
            try:
                data = value.read_bytes()
            except FileNotFoundError:
                raise SettingsError(f"{self.source(setting)}: no such file {value} (the {what})") from None
            except OSError as error:
                raise SettingsError(
                    f"{self.source(setting)}: cannot read {value} (the {what}): {error.strerror}"
                ) from None
        else:
            data = value.encode() if isinstance(value, str) else value
        if b"-----BEGIN " not in data:
            where = f"{value} is" if isinstance(value, Path) else "its value is"
            raise SettingsError(f"{self.source(setting)}: {where} not PEM (the {what}, -----BEGIN ...)")
        return data


def _sources(env: Mapping[str, str], tls: ClientConfigTLS | None = None) -> dict[str, str]:
    """Each setting's source: its variable where set, else its key in the config file's profile."""
    in_file = f"in profile {env.get('TEMPORAL_PROFILE', 'default')!r} of {_config_file(env)}"
    sources = {}
    for setting, variable in TEMPORAL_VARIABLES.items():
        key = "tls.server_name" if setting == "server_name" else setting
        sources[setting] = variable if variable in env else f"{key} {in_file}"
    for setting, (stem, key, _) in TLS_SOURCES.items():
        named = next((f"{stem}_{kind}" for kind in ("PATH", "DATA") if f"{stem}_{kind}" in env), None)
        kind = "path" if isinstance(getattr(tls, setting, None), Path) else "data"
        sources[setting] = named or f"tls.{key}_{kind} {in_file}"
    return sources


def _config_file(env: Mapping[str, str]) -> str:
    return env.get("TEMPORAL_CONFIG_FILE", "~/.config/temporalio/temporal.toml")


def _config_problem(error: Exception, env: Mapping[str, str]) -> str:
    message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    if isinstance(error, ValueError):
        return message
    profile = env.get("TEMPORAL_PROFILE")
    file = _config_file(env)
    if profile and "not found" in message:
        return f"TEMPORAL_PROFILE={profile!r}: no such profile in {file} (set TEMPORAL_CONFIG_FILE to the file that has it)"
    return f"Temporal config file {file}: {message}"


@dataclass(frozen=True)
class Settings:
    temporal: TemporalSettings = field(default_factory=TemporalSettings)
    profiles: dict[str, Profile] = field(default_factory=dict)
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        return cls(
            temporal=TemporalSettings.from_env(env), profiles=profiles_from_env(env), callbacks=callbacks_from_env(env)
        )


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
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors(include_input=False)
            )
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
