"""``/v1/conversations``: open, message, read, edit and erase a conversation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Query, Request, Response

from realty.api.deps import (
    AccessDep,
    ResourcesDep,
    ServiceDep,
    client_address,
    message_quota,
    resources_of,
)
from realty.api.errors import documented, too_long
from realty.api.schemas import (
    ConversationCreate,
    ConversationCreated,
    ConversationPublic,
    JSONBody,
    MessageCreate,
    TurnPublic,
    turn_payload,
)
from realty.pipeline.edit import BriefPatch
from realty.services.opening import KEY_PATTERN, Opener, Opening
from realty.services.runtime import Resources

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])

ConversationId = Annotated[str, Path(min_length=1, max_length=64)]

_NOT_FOUND = {404: "Unknown id, expired, or wrong token."}
_AUTH = {401: "No bearer token.", **_NOT_FOUND}
_TOO_LONG = {413: "Text over REALTY_MAX_MESSAGE_CHARS, or body over REALTY_MAX_BODY_BYTES."}
_LIMITED = {429: "Rate limit; see Retry-After."}
_BUSY = {503: "Busy, or a backing service is down; retry after Retry-After."}
_REPEATED = {
    409: "A request with this Idempotency-Key is still being handled; retry after Retry-After.",
    422: "Invalid request, or an Idempotency-Key sent before with another body.",
}
# RFC 8941 lets the key come as a quoted string too: "key" or key.
_KEY_HEADER = rf'^(?:{KEY_PATTERN[1:-1]}|"{KEY_PATTERN[1:-1]}")$'


def _check_length(resources: Resources, text: str) -> None:
    limit = resources.settings.max_message_chars
    if len(text) > limit:
        raise too_long(len(text), limit)


@router.post(
    "",
    status_code=201,
    response_model=ConversationCreated,
    summary="Open a conversation",
    responses=documented({**_TOO_LONG, **_REPEATED, **_LIMITED, **_BUSY}),
)
async def create_conversation(
    request: Request,
    response: Response,
    resources: ResourcesDep,
    service: ServiceDep,
    body: Annotated[ConversationCreate | None, Body()] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            pattern=_KEY_HEADER,
            description="16–128 characters of `A-Z a-z 0-9 . _ ~ + / = : -` (a random UUID "
            "will do). The same key with the same body within REALTY_IDEMPOTENCY_TTL_S returns "
            "the conversation it opened (`Idempotent-Replayed: true`) instead of a new one.",
        ),
    ] = None,
) -> ConversationCreated:
    """Open a conversation and return its token and the greeting.

    With `text`, the first message is handled at once and `reply` answers it. With an
    `Idempotency-Key`, a repeat of the request gets the same conversation.
    """
    body = body or ConversationCreate()
    if body.text is not None:
        _check_length(resources, body.text)
    address = client_address(request, resources.settings)

    async def admit() -> None:
        await resources.admission.new_conversation(address)

    opener = Opener(service, dt.timedelta(seconds=resources.settings.idempotency_ttl_s))
    opened = await opener.open(
        Opening(body.language, body.text, body.client_message_id),
        key=idempotency_key.strip('"') if idempotency_key else None,
        client=address,
        admit=admit,
    )
    if opened.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    else:
        resources.metrics.conversations.labels("api").inc()
        if body.text is not None:
            resources.metrics.observe("api", opened.result)
    return ConversationCreated(
        **TurnPublic.of(opened.result).model_dump(),
        id=opened.conversation_id,
        token=opened.token,
        expires_at=opened.expires_at,
    )


@router.post(
    "/{conversation_id}/messages",
    response_model=TurnPublic,
    summary="Send a message",
    responses=documented({**_AUTH, **_TOO_LONG, **_LIMITED, **_BUSY}),
)
async def post_message(
    conversation_id: ConversationId, body: MessageCreate, access: AccessDep, request: Request
) -> JSONBody:
    """Handle one message: the reply, the brief after it, and what happened.

    Repeating a `client_message_id` returns the stored result (`replayed: true`).
    """
    resources = resources_of(request)  # the hot path: no dependency resolution for it
    _check_length(resources, body.text)
    result = await resources.service.handle_turn(
        conversation_id,
        body.text,
        access=access,
        client_message_id=body.client_message_id,
        admit=message_quota(resources, conversation_id, request),
    )
    resources.metrics.observe("api", result)
    # The hot path: the payload is built to the documented schema, not validated again.
    return JSONBody(turn_payload(result))


@router.get(
    "/{conversation_id}",
    response_model=ConversationPublic,
    summary="Read a conversation",
    responses=documented(_AUTH),
)
async def get_conversation(
    conversation_id: ConversationId,
    access: AccessDep,
    service: ServiceDep,
    after: Annotated[int, Query(ge=0, le=2**31 - 1, description="Entries after this seq.")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="At most this many entries.")] = 200,
) -> ConversationPublic:
    """The brief and the history (a page of entries after `after`)."""
    view = await service.view(conversation_id, access=access, after=after, limit=limit)
    return ConversationPublic.of(view)


@router.patch(
    "/{conversation_id}/brief",
    response_model=TurnPublic,
    summary="Edit the brief directly",
    responses=documented({**_AUTH, **_TOO_LONG, **_LIMITED, **_BUSY}),
)
async def patch_brief(
    conversation_id: ConversationId,
    patch: BriefPatch,
    access: AccessDep,
    request: Request,
    resources: ResourcesDep,
    service: ServiceDep,
) -> TurnPublic:
    """Apply form edits, validated like chat input; `null` removes a field.

    A value that fails validation refuses the whole edit (422) and changes nothing.
    """
    result = await service.edit_brief(
        conversation_id,
        patch,
        access=access,
        admit=message_quota(resources, conversation_id, request),
    )
    resources.metrics.observe("api", result)
    return TurnPublic.of(result)


@router.post(
    "/{conversation_id}/confirm",
    response_model=TurnPublic,
    summary="Confirm the complete brief",
    responses=documented(
        {**_AUTH, 409: "The brief is not complete yet; nothing changed.", **_LIMITED, **_BUSY}
    ),
)
async def confirm_brief(
    conversation_id: ConversationId,
    access: AccessDep,
    request: Request,
    resources: ResourcesDep,
    service: ServiceDep,
) -> TurnPublic:
    """Approve the complete brief (like answering "yes" to its summary).

    Assumed values become confirmed and the lead's status becomes `confirmed`.
    """
    result = await service.confirm(
        conversation_id, access=access, admit=message_quota(resources, conversation_id, request)
    )
    resources.metrics.observe("api", result)
    return TurnPublic.of(result)


@router.delete(
    "/{conversation_id}",
    status_code=204,
    summary="Erase a conversation",
    responses=documented(_AUTH),
    response_class=Response,
)
async def delete_conversation(
    conversation_id: ConversationId, access: AccessDep, service: ServiceDep
) -> Response:
    """Erase the conversation, its history and its lead."""
    await service.erase(conversation_id, access=access)
    return Response(status_code=204)
