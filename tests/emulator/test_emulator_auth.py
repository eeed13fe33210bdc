"""OAuth client credentials, bearer tokens, permissions (403) and the per-token rate limit (429)."""

from __future__ import annotations

import json
import time

import httpx

from emulator import EmulatorServer

from .conftest import GenesysApi, fetch_token


def assert_error_body(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["message"]
    assert body["details"] == [] and body["errors"] == []
    assert body["contextId"] == response.headers["inin-correlation-id"]
    return body


def test_client_credentials_grant_issues_a_bearer_token(emu: EmulatorServer) -> None:
    response = httpx.post(
        f"{emu.url}/oauth/token", auth=("emulator-client", "emulator-secret"), data={"grant_type": "client_credentials"}
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 86400


def test_bad_client_credentials_are_401_bad_credentials(emu: EmulatorServer) -> None:
    grant = {"grant_type": "client_credentials"}
    for auth in (("emulator-client", "wrong"), ("nobody", "emulator-secret")):
        response = httpx.post(f"{emu.url}/oauth/token", auth=auth, data=grant)
        assert_error_body(response, 401, "bad.credentials")
    assert_error_body(httpx.post(f"{emu.url}/oauth/token", data=grant), 401, "bad.credentials")


def test_a_grant_other_than_client_credentials_is_400(emu: EmulatorServer) -> None:
    response = httpx.post(
        f"{emu.url}/oauth/token", auth=("emulator-client", "emulator-secret"), data={"grant_type": "password"}
    )
    assert_error_body(response, 400, "bad.request")


def test_missing_or_unknown_bearer_token_is_401(emu: EmulatorServer) -> None:
    cid = emu.admin.seed("agent")["conversationId"]
    url = f"{emu.url}/api/v2/conversations/{cid}"

    assert_error_body(httpx.get(url), 401, "authentication.required")
    assert_error_body(httpx.get(url, headers={"Authorization": "Bearer not-a-token"}), 401, "bad.credentials")


def test_an_expired_token_is_401_bad_credentials(emu: EmulatorServer) -> None:
    cid = emu.admin.seed("agent")["conversationId"]
    with GenesysApi(emu.url) as api:  # issued for the default 24 h
        assert api.http.get(f"/api/v2/conversations/{cid}").status_code == 200

        emu.admin.config(token_ttl_s=0.2)  # the token now dies early, long before its expires_in
        time.sleep(0.25)

        assert_error_body(api.http.get(f"/api/v2/conversations/{cid}"), 401, "bad.credentials")
    with GenesysApi(emu.url) as fresh:
        assert fresh.conversation(cid)["id"] == cid


def test_a_missing_permission_is_403_naming_it(emu: EmulatorServer) -> None:
    emu.admin.add_client("viewer", "viewer-secret", ["conversation:communication:view"])
    seeded = emu.admin.seed("agent")
    cid, pid = seeded["conversationId"], seeded["participants"]["agent"]["participantId"]
    with GenesysApi(emu.url, ("viewer", "viewer-secret")) as viewer:
        assert viewer.conversation(cid)["id"] == cid
        teardown = viewer.teardown(cid)
        patch = viewer.disconnect(cid, pid)
        recordings = viewer.http.get(f"/api/v2/conversations/{cid}/recordings")

    body = assert_error_body(teardown, 403, "missing.any.permissions")
    assert body["message"] == (
        "Unable to perform the requested action. You must have at least one of the following "
        "permissions assigned: conversation:communication:disconnect"
    )
    body = assert_error_body(patch, 403, "missing.any.permissions")
    assert body["messageParams"] == {
        "permissions": "conversation:communication:disconnect, conversation:participant:wrapup"
    }
    assert "recording:recording:view" in assert_error_body(recordings, 403, "missing.any.permissions")["message"]
    assert emu.admin.conversation(cid)["participants"][2]["state"] == "connected"  # nothing changed


def test_rate_limit_is_per_token_with_retry_after(emu: EmulatorServer) -> None:
    cid = emu.admin.seed("agent")["conversationId"]
    emu.admin.config(rate_limit_per_minute=3)
    with GenesysApi(emu.url) as api, GenesysApi(emu.url) as other:
        for _ in range(3):
            assert api.http.get(f"/api/v2/conversations/{cid}").status_code == 200

        limited = api.http.get(f"/api/v2/conversations/{cid}")

        assert_error_body(limited, 429, "too.many.requests")
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert other.conversation(cid)["id"] == cid  # another token has its own budget


def test_the_request_log_never_holds_secrets_or_tokens(emu: EmulatorServer) -> None:
    emu.admin.clear_requests()
    with httpx.Client(base_url=emu.url) as http:
        token = fetch_token(http)
        http.post("/oauth/token", data={"grant_type": "client_credentials", "client_secret": "emulator-secret"})
        http.get("/api/v2/conversations/x", headers={"Authorization": f"Bearer {token}"})

    log = emu.admin.requests()

    assert log[0]["body"] == {"grant_type": "client_credentials"} and log[0]["client_id"] == "emulator-client"
    assert log[2]["client_id"] == "emulator-client"
    text = json.dumps(log)
    assert token not in text and "emulator-secret" not in text
