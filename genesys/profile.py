"""A credentials profile: which OAuth client, in which region, at which hosts."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from .regions import Hosts, hosts_for, resolve_domain


class Profile(BaseModel):
    """One Genesys Cloud OAuth client (client credentials grant) and where it lives.

    ``api_url`` / ``login_url`` override the region's hosts: that is how closer talks to the local
    emulator. The secret is a ``SecretStr`` so it never prints in a repr, a log or an error.
    """

    model_config = ConfigDict(frozen=True)

    name: str = "default"
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    region: str = "mypurecloud.com"
    api_url: str | None = None
    login_url: str | None = None
    #: The org's per-token API rate limit; closer paces itself below it.
    requests_per_minute: int = Field(default=300, gt=0)
    #: The window Genesys counts that limit in: a minute. (Tests shrink it to compress time.)
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        return resolve_domain(value)

    @property
    def hosts(self) -> Hosts:
        default = hosts_for(self.region)
        return Hosts(
            login_url=(self.login_url or default.login_url).rstrip("/"),
            api_url=(self.api_url or default.api_url).rstrip("/"),
        )
