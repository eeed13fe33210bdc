"""One client per profile per worker process."""

from __future__ import annotations

from .client import GenesysClient
from .profile import Profile


class UnknownProfile(KeyError):
    """A termination names a credentials profile this process was not configured with."""

    def __init__(self, name: str, known: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.known = known

    def __str__(self) -> str:
        known = ", ".join(sorted(self.known)) or "none"
        return f"unknown Genesys credentials profile {self.name!r} (configured: {known})"


class ClientPool:
    """Creates each profile's ``GenesysClient`` on first use and keeps it for the process's life."""

    def __init__(self, profiles: dict[str, Profile]) -> None:
        self._profiles = profiles
        self._clients: dict[str, GenesysClient] = {}

    def get(self, name: str) -> GenesysClient:
        client = self._clients.get(name)
        if client is None:
            profile = self._profiles.get(name)
            if profile is None:
                raise UnknownProfile(name, list(self._profiles))
            client = self._clients[name] = GenesysClient(profile)
        return client

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
