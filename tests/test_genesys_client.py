"""The Genesys client against the emulator over real HTTP: auth, errors, pacing, regions."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from closer.settings import SettingsError, profiles_from_env
from genesys import (
    AuthenticationFailed,
    GenesysClient,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unreachable,
    counting_calls,
    hosts_for,
)
from genesys.pacing import RequestPacer

from .conftest import emulator_profile, new_id, seed


async def test_token_is_fetched_once_and_reused(emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    async with GenesysClient(emulator_profile(emulator.url)) as client:
        with counting_calls() as calls:
            await asyncio.gather(*(client.get_conversation(cid) for _ in range(5)))
        assert calls.count == 5
        assert calls.calls == [("get_conversation", "200", 0.0)] * 5  # operation, status, pacer wait
        assert client._tokens.fetches == 1


async def test_an_expired_token_is_refreshed_once(emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    emulator.admin.config(token_ttl_s=0.5)  # tokens that die long before their advertised hour
    async with GenesysClient(emulator_profile(emulator.url)) as client:
        await client.get_conversation(cid)
        await asyncio.sleep(0.7)
        conversation = await client.get_conversation(cid)
        assert conversation.id == cid
        assert client._tokens.fetches == 2


async def test_wrong_secret_fails_saying_which_client(emulator) -> None:
    profile = emulator_profile(emulator.url).model_copy(update={"client_id": "nobody"})
    async with GenesysClient(profile) as client:
        with pytest.raises(AuthenticationFailed, match=r"'nobody'.*client id and secret"):
            await client.get_conversation(new_id())


async def test_missing_permission_is_named(emulator) -> None:
    emulator.admin.add_client("viewer", "viewer-secret", ["conversation:communication:view"])
    seeded = seed(emulator, "agent")
    profile = emulator_profile(emulator.url).model_copy(update={"client_id": "viewer"})
    profile = profile.model_copy(update={"client_secret": type(profile.client_secret)("viewer-secret")})
    async with GenesysClient(profile) as client:
        with pytest.raises(PermissionDenied) as caught:
            await client.teardown(seeded["conversationId"])
    assert caught.value.status == 403 and caught.value.code == "missing.any.permissions"
    assert "conversation:communication:disconnect" in str(caught.value)
    assert caught.value.context_id


async def test_unknown_conversation_is_not_found(emulator) -> None:
    async with GenesysClient(emulator_profile(emulator.url)) as client:
        with pytest.raises(NotFound) as caught:
            await client.get_conversation(new_id())
    assert caught.value.status == 404 and caught.value.context_id


async def test_429_carries_retry_after(emulator) -> None:
    cid = seed(emulator, "agent")["conversationId"]
    emulator.admin.add_fault(method="GET", status=429, code="too.many.requests", retry_after=7, count=1)
    async with GenesysClient(emulator_profile(emulator.url)) as client:
        with pytest.raises(RateLimited) as caught:
            await client.get_conversation(cid)
    assert caught.value.retry_after == 7 and caught.value.retryable


async def test_nothing_listening_is_unreachable_and_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with GenesysClient(emulator_profile(f"http://127.0.0.1:{port}")) as client:
        with pytest.raises(Unreachable) as caught:
            await client.get_conversation(new_id())
    assert caught.value.retryable


async def test_pacer_sends_at_once_below_the_limit_then_waits_for_the_window() -> None:
    pacer = RequestPacer(20, window_seconds=1.0, headroom=1.0)
    start = time.monotonic()
    for _ in range(20):
        await pacer.wait_turn()
    below_limit = time.monotonic() - start
    await pacer.wait_turn()  # the 21st in the same window waits for the first to leave it
    assert below_limit < 0.5
    assert time.monotonic() - start >= 0.99


async def test_pacer_holds_everyone_off_after_a_429() -> None:
    pacer = RequestPacer(1000)
    pacer.hold_off(0.3)
    start = time.monotonic()
    await pacer.wait_turn()
    assert time.monotonic() - start >= 0.29


def test_regions_accept_domains_and_aws_names() -> None:
    assert hosts_for("eu-west-1").api_url == "https://api.mypurecloud.ie"
    assert hosts_for("mypurecloud.de").login_url == "https://login.mypurecloud.de"
    assert hosts_for("usw2.pure.cloud").api_url == "https://api.usw2.pure.cloud"
    with pytest.raises(ValueError, match="unknown Genesys Cloud region 'mars-1'"):
        hosts_for("mars-1")


def test_profiles_come_from_genesys_variables_and_named_prefixes() -> None:
    profiles = profiles_from_env(
        {
            "GENESYSCLOUD_OAUTHCLIENT_ID": "id",
            "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s3cret",
            "GENESYSCLOUD_REGION": "eu-central-1",
            "CLOSER_PROFILE_EU_OAUTHCLIENT_ID": "id2",
            "CLOSER_PROFILE_EU_OAUTHCLIENT_SECRET": "s3cret2",
            "CLOSER_PROFILE_EU_REGION": "mypurecloud.ie",
        }
    )
    assert set(profiles) == {"default", "eu"}
    assert profiles["default"].hosts.api_url == "https://api.mypurecloud.de"
    assert profiles["eu"].hosts.api_url == "https://api.mypurecloud.ie"
    assert "s3cret" not in repr(profiles)


def test_a_profile_without_its_secret_says_which_variable() -> None:
    with pytest.raises(SettingsError, match="GENESYSCLOUD_OAUTHCLIENT_SECRET is not"):
        profiles_from_env({"GENESYSCLOUD_OAUTHCLIENT_ID": "id"})
    with pytest.raises(SettingsError, match="unknown Genesys Cloud region"):
        profiles_from_env(
            {"GENESYSCLOUD_OAUTHCLIENT_ID": "id", "GENESYSCLOUD_OAUTHCLIENT_SECRET": "s", "GENESYSCLOUD_REGION": "moon"}
        )
