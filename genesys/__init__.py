"""An async client for the part of the Genesys Cloud API that ends Web Messaging conversations."""

from .client import GenesysClient, counting_calls
from .errors import (
    AuthenticationFailed,
    BadRequest,
    Conflict,
    GenesysError,
    NotFound,
    PermissionDenied,
    RateLimited,
    ServerError,
    Unreachable,
)
from .pool import ClientPool, UnknownProfile
from .profile import Profile
from .regions import AWS_REGIONS, DOMAINS, hosts_for, resolve_domain

__all__ = [
    "AWS_REGIONS",
    "DOMAINS",
    "AuthenticationFailed",
    "BadRequest",
    "ClientPool",
    "Conflict",
    "GenesysClient",
    "GenesysError",
    "NotFound",
    "PermissionDenied",
    "Profile",
    "RateLimited",
    "ServerError",
    "UnknownProfile",
    "Unreachable",
    "counting_calls",
    "hosts_for",
    "resolve_domain",
]
