"""A small typed client of the realty API, the app's only way to reach the service.

Every answer is parsed into the models below (mirroring docs/api.md, only what the app uses);
every failure becomes an :class:`ApiProblem` subclass the screens turn into a polite message:
the API unreachable (:class:`ApiUnavailable`), a rate limit (:class:`RateLimited`), an
over-long message (:class:`MessageTooLong`) and the other problem documents by status.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, Self, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

Language = Literal["en", "es"]
Source = Literal["parser", "llm", "user_edit"]
Status = Literal["valid", "invalid", "unconfirmed"]
EntryKind = Literal["start", "message", "edit", "confirm", "refine"]
LeadStatus = Literal["new", "confirmed", "handoff"]
Offer = Literal["rent", "sale"]
Amenity = bool | int | float

EXPORT_CAP = 5000
"""The most leads :meth:`ApiClient.all_leads` fetches (the CSV export's limit)."""
HISTORY_PAGE = 1000
"""Entries asked per history page (the API's largest page)."""
LEADS_PAGE = 200
"""Leads asked per page when exporting (the API's largest page)."""

_MODEL = ConfigDict(frozen=True, extra="ignore")

M = TypeVar("M", bound=BaseModel)


# --- errors ------------------------------------------------------------------------------


class ApiProblem(Exception):  # noqa: N818 -- the names follow the problem documents
    """The API refused a request or could not be reached.

    Attributes:
        title: A short summary (the problem document's ``title``).
        detail: What happened, when the API said (``detail``).
        status: The HTTP status (0 when there was no answer).
    """

    def __init__(self, title: str, detail: str | None = None, status: int = 0) -> None:
        super().__init__(f"{status} {title}: {detail}" if detail else f"{status} {title}")
        self.title = title
        self.detail = detail
        self.status = status


class ApiUnavailable(ApiProblem):
    """No answer (connection refused, timeout) or 503: nothing was stored; try again.

    Attributes:
        retry_after: Seconds the API asked to wait, if it said.
    """

    def __init__(
        self, title: str, detail: str | None = None, status: int = 0, retry_after: int | None = None
    ) -> None:
        super().__init__(title, detail, status)
        self.retry_after = retry_after


class RateLimited(ApiProblem):
    """429: too many messages or conversations; wait ``retry_after`` seconds."""

    def __init__(self, title: str, detail: str | None, retry_after: int) -> None:
        super().__init__(title, detail, 429)
        self.retry_after = retry_after


class MessageTooLong(ApiProblem):
    """413: the message (or the body) is over the limit; nothing was sent or truncated.

    Attributes:
        limit: The longest message in characters, when the API said.
    """

    def __init__(self, title: str, detail: str | None, limit: int | None) -> None:
        super().__init__(title, detail, 413)
        self.limit = limit


class NotFound(ApiProblem):
    """404: unknown or expired id, or a token that does not open it."""


class Unauthorized(ApiProblem):
    """401: no credentials, or a wrong staff key."""


class Forbidden(ApiProblem):
    """403: the staff API is disabled on the server (``REALTY_STAFF_API_KEY`` unset)."""


class Conflict(ApiProblem):
    """409: e.g. confirming a brief that is not complete."""


class FieldProblem(BaseModel):
    """One refused member of a request (``errors`` of a problem document)."""

    model_config = _MODEL

    field: str
    message: str


class InvalidInput(ApiProblem):
    """422: the request (or a brief edit) was refused; ``problems`` names each member."""

    def __init__(self, title: str, detail: str | None, problems: list[FieldProblem]) -> None:
        super().__init__(title, detail, 422)
        self.problems = problems


class _ProblemBody(BaseModel):
    model_config = _MODEL

    title: str = "Error"
    detail: str | None = None
    errors: list[FieldProblem] | None = None
    limit: int | None = None
    retry_after: int | None = None


# --- models ------------------------------------------------------------------------------


class ValueView(BaseModel):
    """One value of the brief in words."""

    model_config = _MODEL

    key: str
    label: str
    text: str
    source: Source
    status: Status
    required: bool


class MissingView(BaseModel):
    """A required field still to collect."""

    model_config = _MODEL

    key: str
    label: str


class BriefDisplay(BaseModel):
    """The brief in words, in the conversation's language (the API's ``display``)."""

    model_config = _MODEL

    language: Language
    required: int
    filled: int
    complete: bool
    fields: list[ValueView]
    extras: list[ValueView]
    missing: list[MissingView]
    summary: str | None = None


class BriefValue(BaseModel):
    """A value of the canonical brief: its provenance, and the members the app reads."""

    model_config = _MODEL

    status: Status
    source: Source
    confidence: float | None = None
    turn: int | None = None
    value: str | int | float | bool | None = None
    text: str | None = None
    amount: float | None = None
    currency: str | None = None
    m2: float | None = None
    original: str | None = None


class Brief(BaseModel):
    """The canonical brief (README, "The brief")."""

    model_config = _MODEL

    fields: dict[str, BriefValue]
    extras: dict[str, BriefValue]
    missing: list[str]
    complete: bool
    language: Language


class Turn(BaseModel):
    """What one message, edit or confirmation produced."""

    model_config = _MODEL

    turn: int
    seq: int
    reply: str
    brief: Brief
    display: BriefDisplay
    actions: list[str]
    blocked: bool
    replayed: bool = False
    client_message_id: str | None = None
    llm_calls: int = 0
    latency_ms: float = 0.0
    refining: bool = False


class ConversationCreated(Turn):
    """A new conversation: its id, its bearer token (shown once) and the first reply."""

    id: str
    token: str
    expires_at: dt.datetime


class TranscriptEntry(BaseModel):
    """One entry of a lead's conversation as a broker reads it."""

    model_config = _MODEL

    seq: int
    turn: int
    kind: EntryKind
    text: str
    reply: str
    blocked: bool
    actions: list[str]
    intent: str | None = None
    intent_confidence: float | None = None
    sentiment: float | None = None
    created_at: dt.datetime


class HistoryEntry(TranscriptEntry):
    """One entry of a conversation's log, with what it accepted and the client's message id."""

    accepted: list[str] = []
    client_message_id: str | None = None


class Conversation(BaseModel):
    """A conversation: its brief and (a page of) its history."""

    model_config = _MODEL

    id: str
    channel: str
    language: Language
    turns: int
    brief: Brief
    display: BriefDisplay
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime
    history: list[HistoryEntry]


class DayStats(BaseModel):
    """One UTC day of activity."""

    model_config = _MODEL

    date: dt.date
    conversations: int
    completed: int
    turns: int
    blocked_turns: int
    llm_calls: int
    p50_latency_ms: float | None
    p95_latency_ms: float | None


class Stats(BaseModel):
    """Aggregate numbers for staff (docs/api.md, "Staff statistics")."""

    model_config = _MODEL

    conversations: int
    conversations_complete: int
    conversations_by_channel: dict[str, int]
    conversations_engaged: int
    conversations_completed: int
    completion_rate: float
    turns_to_completion: dict[str, int]
    fill_rate: dict[str, float]
    turns: int
    blocked_turns: int
    blocked_by_reason: dict[str, int]
    llm_calls: int
    llm_calls_per_turn: float
    llm_calls_histogram: dict[str, int]
    turns_by_intent: dict[str, int] = {}
    mean_sentiment: float | None = None
    mean_latency_ms: float
    p50_latency_ms: float | None
    p95_latency_ms: float | None
    leads: int
    leads_by_status: dict[str, int]
    leads_by_city: dict[str, int]
    leads_by_type: dict[str, int]
    days: list[DayStats]


class Lead(BaseModel):
    """A completed brief for brokers."""

    model_config = _MODEL

    id: str
    conversation_id: str | None
    status: LeadStatus
    brief: Brief
    display: BriefDisplay
    language: str
    channel: str
    contact: str | None
    city: str | None
    property_type: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


class LeadPage(BaseModel):
    """One page of leads, most recently updated first."""

    model_config = _MODEL

    items: list[Lead]
    next_cursor: str | None


class LeadDetail(Lead):
    """A lead with its conversation's transcript."""

    transcript: list[TranscriptEntry]


class LeadFilters(BaseModel):
    """Which leads to list; every member given must match (dates are UTC days, inclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: LeadStatus | None = None
    city: str | None = None
    property_type: str | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None

    def query(self) -> dict[str, str]:
        """The filters as query parameters (only those given)."""
        return {
            name: value.isoformat() if isinstance(value, dt.date) else str(value)
            for name, value in self.model_dump().items()
            if value is not None
        }


class BriefEdit(BaseModel):
    """A direct edit of the brief (``PATCH …/brief``); only the members set are sent.

    ``budget`` and ``size`` are words the API reads as the answer to that question
    ("20 mil dólares al mes", "650 m²"); ``None`` removes a field, and an extra mapped to
    ``None`` is removed.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    budget: str | None = None
    size: str | None = None
    property_type: str | None = None
    city: str | None = None
    extras: dict[str, None] = Field(default_factory=dict)
    language: Language | None = None

    def body(self) -> dict[str, object]:
        """The JSON body: the members that were set, ``null`` where they remove."""
        return self.model_dump(mode="json", exclude_unset=True)


class Listing(BaseModel):
    """One listing of the catalog: ``price`` (and ``price_per_m2``) per month for ``rent``,
    the total for ``sale``, in ``currency``; ``amenities`` under the field registry's keys."""

    model_config = _MODEL

    id: str
    property_type: str
    offer: Offer
    title: str
    city: str
    country: str
    admin1: str | None = None
    zone: str | None = None
    lat: float
    lon: float
    size_m2: float
    price: float
    currency: str
    price_per_m2: float
    amenities: dict[str, Amenity] = Field(default_factory=dict)
    available_from: dt.date | None = None
    source: str = ""


class ListingMatch(BaseModel):
    """A listing that fits the brief: its score (0–1), its distance from the wanted city
    (0 inside it) and why it fits, one phrase per reason and on one line."""

    model_config = _MODEL

    listing: Listing
    score: float
    distance_km: float
    reasons: list[str]
    summary: str


class Relaxation(BaseModel):
    """Why nothing fitted exactly and what would (``applied``: the loosened constraint the
    listings come from, ``None`` when none found anything), in one sentence."""

    model_config = _MODEL

    applied: str | None = None
    text: str


class MarketCheck(BaseModel):
    """The budget against the city's prices; ``text`` says it in words (when there is one)."""

    model_config = _MODEL

    offer: Offer
    verdict: str | None = None
    text: str | None = None


class Matches(BaseModel):
    """The listings that fit the brief, best first (``GET …/matches``).

    ``complete`` is false for a preview (the property type and city known, the brief not yet
    complete); an answer without it is a complete brief's.
    """

    model_config = _MODEL

    conversation_id: str
    language: Language
    total: int
    more: bool = False
    listings: list[ListingMatch]
    relaxation: Relaxation | None = None
    market_check: MarketCheck | None = None
    complete: bool = True


@dataclass(frozen=True, slots=True)
class Access:
    """What opens a conversation: its id and bearer token."""

    conversation_id: str
    token: str


# --- the client --------------------------------------------------------------------------


class ApiClient:
    """Typed calls to the realty API (use as a context manager, or call :meth:`close`).

    Args:
        base_url: The API's base URL (``REALTY_UI_API_URL``).
        timeout: Longest wait for one request, in seconds.
        staff_key: ``X-API-Key`` for the staff endpoints.
        forwarded_for: The browser's address, sent as ``X-Forwarded-For`` so the API's
            per-address limits count people, not this app (the API only reads it when
            ``REALTY_TRUST_FORWARDED_FOR=true``).
        transport: An httpx transport (tests).
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 30.0,
        *,
        staff_key: str | None = None,
        forwarded_for: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        headers = {"accept": "application/json", "user-agent": "realty-ui"}
        if forwarded_for:
            headers["x-forwarded-for"] = forwarded_for
        self._staff_key = staff_key
        self._http = httpx.Client(
            base_url=base_url, timeout=timeout, headers=headers, transport=transport
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the connections."""
        self._http.close()

    # conversations

    def open_conversation(
        self,
        text: str | None = None,
        *,
        language: Language | None = None,
        client_message_id: str | None = None,
    ) -> ConversationCreated:
        """Open a conversation: the greeting, or the reply to ``text`` when given.

        ``language`` pins the conversation's language; by default the API detects it.
        """
        body: dict[str, str] = {}
        if text is not None:
            body["text"] = text
        if language is not None:
            body["language"] = language
        if client_message_id is not None:
            body["client_message_id"] = client_message_id
        answer = self._call("POST", "/v1/conversations", json=body)
        return _parse(ConversationCreated, answer)

    def send(self, access: Access, text: str, client_message_id: str | None = None) -> Turn:
        """Send one message; repeating ``client_message_id`` returns the stored result."""
        body = {"text": text}
        if client_message_id is not None:
            body["client_message_id"] = client_message_id
        path = f"/v1/conversations/{access.conversation_id}/messages"
        return _parse(Turn, self._call("POST", path, json=body, access=access))

    def read(self, access: Access, after: int = 0) -> Conversation:
        """The conversation with its history after entry ``after`` (read page by page)."""
        path = f"/v1/conversations/{access.conversation_id}"
        params = {"after": str(after), "limit": str(HISTORY_PAGE)}
        first = _parse(Conversation, self._call("GET", path, params=params, access=access))
        history = list(first.history)
        page = first
        while len(page.history) == HISTORY_PAGE:
            params = {"after": str(history[-1].seq), "limit": str(HISTORY_PAGE)}
            page = _parse(Conversation, self._call("GET", path, params=params, access=access))
            history.extend(page.history)
        return page.model_copy(update={"history": history})

    def edit(self, access: Access, edit: BriefEdit) -> Turn:
        """Apply a direct edit of the brief.

        Raises:
            InvalidInput: a value was refused (``problems`` per field); nothing changed.
        """
        path = f"/v1/conversations/{access.conversation_id}/brief"
        return _parse(Turn, self._call("PATCH", path, json=edit.body(), access=access))

    def switch_language(self, access: Access, language: Language) -> Turn:
        """Switch the conversation's language; the reply comes in it."""
        return self.edit(access, BriefEdit(language=language))

    def confirm(self, access: Access) -> Turn:
        """Approve the complete brief (the lead becomes ``confirmed``).

        Raises:
            Conflict: the brief is not complete yet.
        """
        path = f"/v1/conversations/{access.conversation_id}/confirm"
        return _parse(Turn, self._call("POST", path, access=access))

    def matches(
        self,
        access: Access,
        *,
        limit: int = 10,
        relax: bool = True,
        language: Language | None = None,
    ) -> Matches | None:
        """The listings that fit the brief, best first; ``None`` while the API has none to
        give yet (409: the brief lacks what a search needs).

        Args:
            access: The conversation.
            limit: At most this many listings (1–50).
            relax: When nothing fits, loosen one constraint at a time.
            language: Words in this language (default: the conversation's).
        """
        path = f"/v1/conversations/{access.conversation_id}/matches"
        params = {"limit": str(limit), "relax": "true" if relax else "false"}
        if language is not None:
            params["language"] = language
        try:
            answer = self._call("GET", path, params=params, access=access)
        except Conflict:
            return None
        return _parse(Matches, answer)

    def listing(self, listing_id: str) -> Listing:
        """One listing of the catalog.

        Raises:
            NotFound: no listing has this id (any more).
        """
        return _parse(Listing, self._call("GET", f"/v1/listings/{listing_id}"))

    # staff

    def stats(self, days: int = 14) -> Stats:
        """Statistics with ``days`` (1–90) days of daily numbers ending today."""
        answer = self._call("GET", "/v1/stats", params={"days": str(days)}, staff=True)
        return _parse(Stats, answer)

    def leads(
        self, filters: LeadFilters | None = None, cursor: str | None = None, limit: int = 50
    ) -> LeadPage:
        """One page of leads, most recently updated first."""
        params = (filters or LeadFilters()).query()
        params["limit"] = str(limit)
        if cursor is not None:
            params["cursor"] = cursor
        return _parse(LeadPage, self._call("GET", "/v1/leads", params=params, staff=True))

    def all_leads(self, filters: LeadFilters | None = None, cap: int = EXPORT_CAP) -> list[Lead]:
        """Every lead matching ``filters``, page after page, at most ``cap`` of them."""
        found: list[Lead] = []
        cursor: str | None = None
        while len(found) < cap:
            page = self.leads(filters, cursor=cursor, limit=min(LEADS_PAGE, cap - len(found)))
            found.extend(page.items)
            cursor = page.next_cursor
            if cursor is None:
                break
        return found[:cap]

    def lead(self, lead_id: str) -> LeadDetail:
        """One lead with its conversation's transcript."""
        return _parse(LeadDetail, self._call("GET", f"/v1/leads/{lead_id}", staff=True))

    # transport

    def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        access: Access | None = None,
        staff: bool = False,
    ) -> bytes:
        headers: dict[str, str] = {}
        if access is not None:
            headers["authorization"] = f"Bearer {access.token}"
        if staff and self._staff_key is not None:
            headers["x-api-key"] = self._staff_key
        try:
            response = self._http.request(method, path, json=json, params=params, headers=headers)
        except httpx.TimeoutException as exc:
            raise ApiUnavailable("The API did not answer in time", str(exc) or None) from exc
        except httpx.HTTPError as exc:
            raise ApiUnavailable("The API cannot be reached", str(exc) or None) from exc
        if response.is_success:
            return response.content
        raise problem_of(response)


def _parse(model: type[M], content: bytes) -> M:
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        raise ApiProblem("Unexpected answer from the API", str(exc), 200) from exc


def problem_of(response: httpx.Response) -> ApiProblem:
    """The typed error for a failed response (its problem document, when it has one)."""
    body = _problem_body(response)
    status = response.status_code
    title, detail = body.title, body.detail
    match status:
        case 401:
            return Unauthorized(title, detail, status)
        case 403:
            return Forbidden(title, detail, status)
        case 404:
            return NotFound(title, detail, status)
        case 409:
            return Conflict(title, detail, status)
        case 413:
            return MessageTooLong(title, detail, body.limit)
        case 422:
            return InvalidInput(title, detail, body.errors or [])
        case 429:
            return RateLimited(title, detail, _retry_after(response, body) or 1)
        case 502 | 503 | 504:
            return ApiUnavailable(title, detail, status, _retry_after(response, body))
    return ApiProblem(title, detail, status)


def _problem_body(response: httpx.Response) -> _ProblemBody:
    try:
        return _ProblemBody.model_validate(response.json())
    except (ValueError, ValidationError, json.JSONDecodeError):
        return _ProblemBody(title=response.reason_phrase or f"HTTP {response.status_code}")


def _retry_after(response: httpx.Response, body: _ProblemBody) -> int | None:
    if body.retry_after is not None:
        return body.retry_after
    header = response.headers.get("retry-after", "")
    return int(header) if header.isdigit() else None
