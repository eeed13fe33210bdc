"""No secret, access token or customer text in any workflow history the suite produced."""

from __future__ import annotations

import base64
import json

import pytest
from temporalio.client import Client

from .callback_receiver import CALLBACK_SECRET
from .conftest import CUSTOMER_TEXTS, EMULATOR_CLIENT_SECRET


def _decoded_history_text(history_json: dict) -> str:
    """The history as text with every payload decoded (payload data is base64 in the JSON form)."""
    chunks = [json.dumps(history_json)]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if "data" in node and "metadata" in node and isinstance(node["data"], str):
                chunks.append(base64.b64decode(node["data"]).decode("utf-8", "replace"))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(history_json)
    return "\n".join(chunks)


@pytest.mark.after_everything
async def test_histories_hold_no_secret_token_or_customer_text(temporal_client: Client, session_emulator) -> None:
    # Every token the session's emulator issued: to the in-process worker and the subprocess ones.
    tokens = session_emulator.emulator.auth.issued_tokens()
    forbidden = {
        "the client secret": EMULATOR_CLIENT_SECRET,
        "the callback signing secret": CALLBACK_SECRET.removeprefix("whsec_"),
        "a bearer header": "Bearer ",
        **{f"access token {i}": token for i, token in enumerate(tokens)},
        **{f"customer text {i}": text for i, text in enumerate(CUSTOMER_TEXTS)},
    }
    assert tokens and CUSTOMER_TEXTS, "no token or no customer text: this check would pass vacuously"

    checked = 0
    leaks = []
    async for execution in temporal_client.list_workflows():
        history = await temporal_client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        text = _decoded_history_text(history.to_json_dict())
        # The decoding works: the conversation id (in the workflow input) is readable.
        assert execution.id.removeprefix("terminate-") in text
        leaks += [f"{execution.id}: {what}" for what, value in forbidden.items() if value in text]
        checked += 1
    assert checked >= 10, f"only {checked} histories: the suite should have produced many"
    assert not leaks, leaks
