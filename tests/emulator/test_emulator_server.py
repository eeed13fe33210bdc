"""Starting and stopping the emulator: in a thread for tests, or as `python -m emulator`."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
from websockets.sync.client import connect

from emulator import AdminClient, EmulatorConfig, EmulatorServer

from .conftest import CONVERSATION, fetch_token, wait_until


def test_stop_is_quick_with_a_held_response_and_an_open_guest_socket() -> None:
    emu = EmulatorServer(config=EmulatorConfig()).start()
    seeded = emu.admin.seed("agent")
    with httpx.Client(base_url=emu.url) as http:
        token = fetch_token(http)
    hold = emu.admin.hold("GET", CONVERSATION)
    held = threading.Thread(
        target=httpx.get,
        args=(f"{emu.url}/api/v2/conversations/{seeded['conversationId']}",),
        kwargs={"headers": {"Authorization": f"Bearer {token}"}, "timeout": 10},
    )
    held.start()
    wait_until(lambda: emu.admin.hold_status(hold)["engaged"])

    with connect(f"{emu.url.replace('http', 'ws')}/v1?deploymentId={seeded['deploymentId']}"):
        started = time.monotonic()
        emu.stop()
        assert time.monotonic() - started < 3

    held.join(timeout=1)
    assert not held.is_alive()


def test_python_dash_m_emulator_serves_and_admin_client_connects_by_url() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "emulator", "--host", "127.0.0.1", "--port", str(port)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        try:
            assert process.stdout is not None
            banner = process.stdout.readline() + process.stdout.readline()
            assert f"http://127.0.0.1:{port}" in banner and "emulator-client" in banner and "emulator-secret" in banner
            with AdminClient(f"http://127.0.0.1:{port}") as admin:
                seeded = wait_until(lambda: _try_seed(admin), timeout_s=10)
                assert admin.conversation(seeded["conversationId"])["scenario"] == "agent"
        finally:
            process.terminate()


def _try_seed(admin: AdminClient) -> dict | None:
    try:
        return admin.seed("agent")
    except httpx.TransportError:
        return None
