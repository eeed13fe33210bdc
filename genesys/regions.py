"""Genesys Cloud regions and the hosts that serve them.

Genesys's own SDKs and the `gc` CLI name a region by its domain (``mypurecloud.ie``); its Terraform
provider and CX as Code name it by AWS region (``eu-west-1``) in ``GENESYSCLOUD_REGION``. Both are
accepted everywhere closer takes a region.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every Genesys Cloud region domain.
DOMAINS: tuple[str, ...] = (
    "mypurecloud.com",
    "mypurecloud.ie",
    "mypurecloud.com.au",
    "mypurecloud.jp",
    "mypurecloud.de",
    "usw2.pure.cloud",
    "cac1.pure.cloud",
    "apne2.pure.cloud",
    "euw2.pure.cloud",
    "aps1.pure.cloud",
    "use2.us-gov-pure.cloud",
    "sae1.pure.cloud",
    "mec1.pure.cloud",
    "apne3.pure.cloud",
    "euc2.pure.cloud",
    "mxc1.pure.cloud",
    "apse1.pure.cloud",
)

# The Terraform provider's AWS region names (provider.go, getRegionMap).
AWS_REGIONS: dict[str, str] = {
    "us-east-1": "mypurecloud.com",
    "us-east-2": "use2.us-gov-pure.cloud",
    "us-west-2": "usw2.pure.cloud",
    "eu-west-1": "mypurecloud.ie",
    "eu-west-2": "euw2.pure.cloud",
    "ap-southeast-2": "mypurecloud.com.au",
    "ap-northeast-1": "mypurecloud.jp",
    "eu-central-1": "mypurecloud.de",
    "ca-central-1": "cac1.pure.cloud",
    "ap-northeast-2": "apne2.pure.cloud",
    "ap-south-1": "aps1.pure.cloud",
    "sa-east-1": "sae1.pure.cloud",
    "ap-northeast-3": "apne3.pure.cloud",
    "eu-central-2": "euc2.pure.cloud",
    "me-central-1": "mec1.pure.cloud",
    "mx-central-1": "mxc1.pure.cloud",
    "ap-southeast-1": "apse1.pure.cloud",
}


@dataclass(frozen=True)
class Hosts:
    """Where to get tokens and where to call the API."""

    login_url: str
    api_url: str


def resolve_domain(region: str) -> str:
    """A region domain from either spelling; ValueError naming the accepted values otherwise."""
    name = region.strip().lower()
    for prefix in ("https://", "api.", "login."):
        name = name.removeprefix(prefix)
    if name in DOMAINS:
        return name
    if name in AWS_REGIONS:
        return AWS_REGIONS[name]
    raise ValueError(
        f"unknown Genesys Cloud region {region!r}: use a domain ({', '.join(DOMAINS)}) "
        f"or an AWS region name ({', '.join(AWS_REGIONS)})"
    )


def hosts_for(region: str) -> Hosts:
    domain = resolve_domain(region)
    return Hosts(login_url=f"https://login.{domain}", api_url=f"https://api.{domain}")
