"""The Genesys Cloud operations the emulator serves: real paths, bodies and status codes.

Each handler settles the conversation to one `now`, checks, then changes state; the gateway has
already done faults, authentication, rate limiting and permissions.
"""

from __future__ import annotations

import math

from starlette.responses import JSONResponse, Response

from . import analytics, auth, bodies, clock, wire
from .errors import bad_request, not_found
from .gateway import Call, GenesysRoute
from .state import Conversation, Participant

CONVERSATION = "/api/v2/conversations/{conversationId}"
MESSAGE_CONVERSATION = "/api/v2/conversations/messages/{conversationId}"
PARTICIPANT = MESSAGE_CONVERSATION + "/participants/{participantId}"
COMMUNICATION = PARTICIPANT + "/communications/{communicationId}"


async def oauth_token(call: Call) -> Response:
    """`POST /oauth/token` (on `login.{region}` in Genesys): client credentials grant."""
    grant_type = bodies.form_grant_type(call.raw_body)
    client = call.emulator.auth.client_from_basic(call.request.headers.get("authorization"))
    call.client_id = client.client_id
    if grant_type != "client_credentials":
        raise bad_request(f"Unsupported grant_type {grant_type!r}: use client_credentials.")
    token = call.emulator.auth.issue_token(client)
    expires_in = math.ceil(call.emulator.config.token_ttl_s)
    return JSONResponse({"access_token": token, "token_type": "bearer", "expires_in": expires_in})


async def get_conversation(call: Call) -> Response:
    placement = call.emulator.config.message_placement
    return JSONResponse(wire.conversation(call.conversation(clock.now()), placement))


async def get_message_conversation(call: Call) -> Response:
    placement = call.emulator.config.message_placement
    return JSONResponse(wire.message_conversation(call.conversation(clock.now()), placement))


async def patch_participant(call: Call) -> Response:
    now = clock.now()
    conversation = call.conversation(now)
    participant = conversation.participant(call.params["participantId"])
    change = bodies.participant_change(call.json())
    if change.state not in (None, "disconnected"):
        raise bad_request(
            f"The emulator only changes state to 'disconnected' (got {change.state!r}); "
            "leave state out to only set a wrap-up."
        )
    conversation.patch_participant(
        participant,
        now,
        call.emulator.config,
        disconnect=change.state == "disconnected",
        wrapup=change.wrapup,
        wrapup_skipped=change.wrapup_skipped,
    )
    return Response(status_code=202)


async def patch_communication(call: Call) -> Response:
    """Disconnects one communication. Genesys: "does not update wrapup", so a wrap-up in the body
    is ignored and an agent who needs one goes to after-call work."""
    now = clock.now()
    conversation = call.conversation(now)
    participant = _participant_with_communication(call, conversation)
    change = bodies.participant_change(call.json())
    if change.state != "disconnected":
        raise bad_request("Only state 'disconnected' is allowed here.", "communication.state.required")
    conversation.patch_participant(participant, now, call.emulator.config, disconnect=True)
    # The SDK declares the response as a bare `object`.
    return JSONResponse({})


async def patch_message_conversation(call: Call) -> Response:
    """ "Update a conversation by disconnecting all of the participants": no wrap-up is applied."""
    now = clock.now()
    conversation = call.conversation(now)
    bodies.conversation_disconnect(call.json())
    conversation.disconnect_all(now, call.emulator.config)
    return JSONResponse(wire.conversation(conversation, call.emulator.config.message_placement))


async def post_wrapup(call: Call) -> Response:
    now = clock.now()
    conversation = call.conversation(now)
    participant = _participant_with_communication(call, conversation)
    conversation.post_wrapup(participant, bodies.wrapup_input(call.json()), now)
    return Response(status_code=202)


async def post_message(call: Call) -> Response:
    now = clock.now()
    conversation = call.conversation(now)
    text = bodies.text_body(call.json())
    message = conversation.send_agent_message(call.params["communicationId"], text, now)
    call.emulator.guests.deliver(conversation.id, message)
    participant, _ = conversation.communication(call.params["communicationId"])
    return JSONResponse(wire.message_data(conversation, participant, message))


async def post_messages_bulk(call: Call) -> Response:
    """How a client finds out whether a message it may have sent was sent: look it up by id."""
    conversation = call.conversation(clock.now())
    wanted = set(bodies.message_ids(call.json()))
    entities = [wire.message_data(conversation, p, m) for p, m in conversation.messages() if m.id in wanted]
    return JSONResponse({"entities": entities})


async def post_teardown(call: Call) -> Response:
    now = clock.now()
    call.conversation(now).teardown(now, call.emulator.config)
    return JSONResponse("Accepted", status_code=202)


async def get_recordings(call: Call) -> Response:
    return JSONResponse([wire.recording(call.conversation(clock.now()))])


async def put_recording(call: Call) -> Response:
    conversation = call.conversation(clock.now())
    if call.params["recordingId"] != conversation.recording_id:
        raise not_found(f"Recording {call.params['recordingId']}")
    delete_date = bodies.recording_delete_date(call.json())
    if delete_date is not None:
        conversation.recording_delete_date = delete_date
    return JSONResponse(wire.recording(conversation))


async def post_conversation_details_query(call: Call) -> Response:
    """Finding conversations (a sweep): only the query closer sends is understood, see `analytics`."""
    now = clock.now()
    config = call.emulator.config
    query = analytics.parse_query(call.json(), config.analytics_max_page_size)
    conversations = call.emulator.conversations.settled(now, config)
    return JSONResponse(analytics.answer(query, conversations, now, config.analytics_lag_s))


def _participant_with_communication(call: Call, conversation: Conversation) -> Participant:
    participant = conversation.participant(call.params["participantId"])
    if participant.communication.id != call.params["communicationId"]:
        raise not_found(f"Communication {call.params['communicationId']} of participant {participant.id}")
    return participant


ROUTES: list[GenesysRoute] = [
    GenesysRoute("POST", "/oauth/token", oauth_token, None),
    GenesysRoute("GET", CONVERSATION, get_conversation, (auth.VIEW,)),
    GenesysRoute("GET", MESSAGE_CONVERSATION, get_message_conversation, (auth.VIEW,)),
    GenesysRoute("PATCH", MESSAGE_CONVERSATION, patch_message_conversation, (auth.DISCONNECT,)),
    GenesysRoute("PATCH", PARTICIPANT, patch_participant, (auth.DISCONNECT, auth.WRAPUP)),
    GenesysRoute("PATCH", COMMUNICATION, patch_communication, (auth.DISCONNECT,)),
    GenesysRoute("POST", COMMUNICATION + "/wrapup", post_wrapup, (auth.WRAPUP,)),
    GenesysRoute(
        "POST",
        MESSAGE_CONVERSATION + "/communications/{communicationId}/messages",
        post_message,
        (auth.MESSAGE_CREATE, auth.WEBMESSAGING_CREATE),
    ),
    GenesysRoute("POST", MESSAGE_CONVERSATION + "/messages/bulk", post_messages_bulk, (auth.VIEW,)),
    GenesysRoute("POST", CONVERSATION + "/disconnect", post_teardown, (auth.DISCONNECT,)),
    GenesysRoute("GET", CONVERSATION + "/recordings", get_recordings, (auth.RECORDING_VIEW,)),
    GenesysRoute("PUT", CONVERSATION + "/recordings/{recordingId}", put_recording, (auth.RECORDING_EDIT_RETENTION,)),
    GenesysRoute(
        "POST",
        "/api/v2/analytics/conversations/details/query",
        post_conversation_details_query,
        (auth.ANALYTICS_CONVERSATION_DETAIL_VIEW,),
    ),
]
