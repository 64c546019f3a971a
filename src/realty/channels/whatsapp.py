"""WhatsApp through Twilio: the webhook translates Twilio's form into a turn and answers TwiML.

Twilio signs every webhook with the account's auth token (``X-Twilio-Signature``, an HMAC of
the URL and the form); a request whose signature does not verify is refused with 403 before
anything is read into a conversation. The conversation is keyed by the sender's number, so a
prospect simply keeps writing; ``MessageSid`` makes Twilio's retries idempotent.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData
from twilio.request_validator import (
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.twiml.messaging_response import MessagingResponse

from realty.services.conversation import ChannelIdentity
from realty.services.ratelimit import RateLimitedError
from realty.services.runtime import Resources
from realty.services.wire import ProblemError, documented
from realty.store.base import Channel

router = APIRouter(prefix="/v1/channels", tags=["channels"])

CHANNEL: Channel = "whatsapp"
TWIML = "application/xml"
_MAX_FIELDS = 100
_MAX_SENDER = 128
# Twilio refuses a WhatsApp message body over 1,600 characters: a longer reply (a list of
# listings with the market check) goes out as several messages, split between paragraphs.
MAX_BODY_CHARS = 1600

# Sent instead of a turn when a sender floods; bilingual because the language may be unknown.
_SLOW_DOWN = (
    "Estás enviando mensajes muy rápido; espera {s} s e inténtalo de nuevo. / "
    "You are sending messages too fast; please wait {s} s and try again."
)


def bodies(text: str, limit: int = MAX_BODY_CHARS) -> list[str]:
    """``text`` as WhatsApp message bodies of at most ``limit`` characters each: whole
    paragraphs while they fit, then whole lines, then words (nothing is dropped)."""
    return _pieces(text, limit, ("\n\n", "\n", " ")) or [""]


def _pieces(text: str, limit: int, separators: tuple[str, ...]) -> list[str]:
    """``text`` cut at the coarsest separator that makes pieces of at most ``limit``."""
    if len(text) <= limit:
        return [text]
    if not separators:
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    separator, finer = separators[0], separators[1:]
    pieces: list[str] = []
    current = ""
    for chunk in text.split(separator):
        candidate = f"{current}{separator}{chunk}" if current else chunk
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        if len(chunk) <= limit:
            current = chunk
        else:
            pieces.extend(_pieces(chunk, limit, finer))
            current = ""
    if current:
        pieces.append(current)
    return pieces


def _twiml(text: str) -> Response:
    reply = MessagingResponse()
    for body in bodies(text):
        reply.message(body)
    return Response(str(reply), media_type=TWIML)


def _url(request: Request, resources: Resources) -> str:
    # Twilio signs the URL it was configured with; behind a proxy that is not the URL this
    # process sees, hence REALTY_TWILIO_WEBHOOK_URL.
    return resources.settings.twilio_webhook_url or str(request.url)


def _verify(request: Request, resources: Resources, form: FormData) -> None:
    settings = resources.settings
    token = settings.twilio_auth_token
    assert token is not None
    signature = request.headers.get("X-Twilio-Signature", "")
    # Signed with the auth token (HMAC-SHA1), or — when Twilio says so in this header — with
    # a webhook shared key and the algorithm it names (HMAC-SHA256).
    signing = request.headers.get(SIGNATURE_SETTINGS_HEADER)
    secret = token
    if signing and settings.twilio_signing_key is not None:
        secret = settings.twilio_signing_key
    validator = RequestValidator(secret.get_secret_value())
    algorithm = get_signature_algorithm(signing)
    if not signature or not validator.validate(
        _url(request, resources), form, signature, algorithm
    ):
        raise ProblemError(
            403,
            "bad-signature",
            "Invalid signature",
            "X-Twilio-Signature does not match this request.",
        )


@router.post(
    "/whatsapp",
    summary="Twilio WhatsApp webhook",
    response_class=Response,
    responses={
        200: {"content": {TWIML: {}}, "description": "TwiML with the reply."},
        **documented(
            {
                403: "Missing or invalid X-Twilio-Signature.",
                404: "REALTY_TWILIO_AUTH_TOKEN is not set.",
                413: "Body over REALTY_MAX_BODY_BYTES.",
                422: "No sender (From), or a malformed form.",
            }
        ),
    },
)
async def whatsapp_webhook(request: Request) -> Response:
    """Handle one incoming WhatsApp message (Twilio's `application/x-www-form-urlencoded`)."""
    resources: Resources = request.app.state.resources
    if resources.settings.twilio_auth_token is None:
        raise ProblemError(
            404,
            "channel-disabled",
            "WhatsApp channel not configured",
            "Set REALTY_TWILIO_AUTH_TOKEN to enable the WhatsApp webhook.",
        )
    form = await request.form(max_files=0, max_fields=_MAX_FIELDS)
    _verify(request, resources, form)
    sender = str(form.get("From") or "").strip()
    if not sender or len(sender) > _MAX_SENDER:
        raise ProblemError(422, "invalid-request", "Invalid request", "From must name the sender.")
    service = resources.service
    conversation_id, started = await service.open_channel(CHANNEL, sender)
    if started:
        resources.metrics.conversations.labels(CHANNEL).inc()
    sid = str(form.get("MessageSid") or form.get("SmsMessageSid") or "").strip() or None
    try:
        result = await service.handle_turn(
            conversation_id,
            str(form.get("Body") or ""),
            access=ChannelIdentity(CHANNEL, sender),
            client_message_id=sid[:128] if sid else None,
            # Counted only for new messages: Twilio's retries get their stored reply.
            admit=resources.admission.whatsapp(sender),
        )
    except RateLimitedError as exc:
        return _twiml(_SLOW_DOWN.format(s=exc.decision.retry_after_s))
    resources.metrics.observe(CHANNEL, result)
    return _twiml(result.reply)
