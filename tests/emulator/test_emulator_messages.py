"""The agent's last message (and finding it again by id), and messaging recordings."""

from __future__ import annotations

from emulator import EmulatorServer

from .conftest import GenesysApi, ids, wait_until
from .test_emulator_auth import assert_error_body


def test_message_on_the_agent_communication_is_sent_and_found_by_id(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent")
    cid, agent, comm = ids(seeded, "agent")

    response = api.post_message(cid, comm, "Closing this chat now. Goodbye!")

    assert response.status_code == 200
    sent = response.json()
    assert sent["conversationId"] == cid and sent["direction"] == "outbound" and sent["status"] == "sent"
    assert (
        sent["messengerType"] == "webmessaging"
        and sent["normalizedMessage"]["text"] == "Closing this chat now. Goodbye!"
    )
    agent_comm = api.participant(cid, agent)["messages"][0]
    assert [m["messageId"] for m in agent_comm["messages"]] == [sent["id"]]
    assert agent_comm["messages"][0]["messageStatus"] == "sent"
    assert emu.admin.conversation(cid)["sent_messages"] == [
        {"communicationId": comm, "text": "Closing this chat now. Goodbye!"}
    ]

    bulk = api.http.post(f"/api/v2/conversations/messages/{cid}/messages/bulk", json=[sent["id"], "unknown-id"])

    assert bulk.status_code == 200
    assert [(m["id"], m["normalizedMessage"]["text"]) for m in bulk.json()["entities"]] == [
        (sent["id"], "Closing this chat now. Goodbye!")
    ]


def test_seeded_customer_messages_carry_text(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent", customer_messages=["Where is my parcel?"])
    cid, customer, _ = ids(seeded, "customer")
    [details] = api.participant(cid, customer)["messages"][0]["messages"]

    bulk = api.http.post(f"/api/v2/conversations/messages/{cid}/messages/bulk", json=[details["messageId"]]).json()

    assert details["messageStatus"] == "received"
    assert (
        bulk["entities"][0]["direction"] == "inbound"
        and bulk["entities"][0]["normalizedMessage"]["text"] == "Where is my parcel?"
    )
    default = emu.admin.conversation(emu.admin.seed("agent")["conversationId"])["customer_messages"]
    assert default[0]["text"] == "Hi, my order 4411 never arrived"


def test_message_needs_a_connected_agent_communication_and_a_sane_text(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent")
    cid, agent, agent_comm = ids(seeded, "agent")
    _, _, customer_comm = ids(seeded, "customer")

    assert "agent" in assert_error_body(api.post_message(cid, customer_comm, "hi"), 400, "bad.request")["message"]
    assert_error_body(api.post_message(cid, agent_comm, ""), 400, "invalid.value")
    assert_error_body(api.post_message(cid, agent_comm, "x" * 2001), 400, "invalid.value")
    assert api.post_message(cid, agent_comm, "x" * 2000).status_code == 200

    api.disconnect(cid, agent, wrapupSkipped=True)
    wait_until(lambda: api.participant(cid, agent)["messages"][0]["state"] == "disconnected")
    assert "disconnected" in assert_error_body(api.post_message(cid, agent_comm, "late"), 400, "bad.request")["message"]


def test_recording_has_the_transcript_and_takes_a_delete_date(emu: EmulatorServer, api: GenesysApi) -> None:
    seeded = emu.admin.seed("agent", customer_messages=["one", "two"])
    cid, _, comm = ids(seeded, "agent")
    api.post_message(cid, comm, "three")

    [recording] = api.http.get(f"/api/v2/conversations/{cid}/recordings").json()

    assert recording["conversationId"] == cid and recording["media"] == "messaging"
    assert recording["fileState"] == "AVAILABLE" and "deleteDate" not in recording
    assert [m["messageText"] for m in recording["messagingTranscript"]] == ["one", "two", "three"]
    url = f"/api/v2/conversations/{cid}/recordings/{recording['id']}"

    updated = api.http.put(url, json={"deleteDate": "2030-01-02T03:04:05Z"})

    assert updated.status_code == 200 and updated.json()["deleteDate"] == "2030-01-02T03:04:05.000Z"
    assert api.http.get(f"/api/v2/conversations/{cid}/recordings").json()[0]["deleteDate"] == "2030-01-02T03:04:05.000Z"
    assert_error_body(api.http.put(url, json={"deleteDate": "soon"}), 400, "invalid.value")
    assert_error_body(api.http.put(f"/api/v2/conversations/{cid}/recordings/nope", json={}), 404, "not.found")
