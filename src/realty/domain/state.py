"""Conversation state and the actions a transition produces. Pure data."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from realty.domain.brief import Brief, Language, Modality, PropertyKind, Slot
from realty.domain.turn import OptionsFrom, Rejection

_FROZEN = ConfigDict(frozen=True, extra="forbid")

Phase = Literal["collecting", "complete"]
Handoff = Literal["person", "visit"]


class PendingCity(BaseModel):
    """The bot offered city suggestions for a place it did not know."""

    model_config = _FROZEN
    kind: Literal["city"] = "city"
    text: str
    options: tuple[str, ...]
    options_from: OptionsFrom = "typo"  # a misspelt name, cities named, or a region's


class PendingCurrency(BaseModel):
    """The bot asked which currency an amount is in; ``options`` in the order offered (the
    market's home currency first)."""

    model_config = _FROZEN
    kind: Literal["currency"] = "currency"
    options: tuple[str, ...]


class PendingType(BaseModel):
    """The bot is confirming an unusual property type kept as ``other``, or the kind it
    proposed for a business the prospect described (``proposal``)."""

    model_config = _FROZEN
    kind: Literal["type"] = "type"
    text: str
    proposal: PropertyKind | None = None


Pending = PendingCity | PendingCurrency | PendingType


class ConversationState(BaseModel):
    """Everything ``advance`` needs to continue a conversation; serialisable to JSON."""

    model_config = _FROZEN

    brief: Brief = Field(default_factory=Brief)
    turn: int = 0  # number of user turns handled so far
    language: Language = "en"
    language_locked: bool = False  # True once a message was confidently in one language
    phase: Phase = "collecting"
    asked: tuple[str, ...] = ()  # fields the last reply asked for
    pending: Pending | None = Field(default=None, discriminator="kind")
    deferred: frozenset[str] = frozenset()  # fields the prospect does not know yet
    modality: Modality | None = None  # rent/buy said before any budget
    completed_once: bool = False  # the brief has been complete at least once
    # The listings of the last numbered list the prospect was shown ("reply 2" picks one).
    shown: tuple[str, ...] = ()
    # The prospect asked for a person: a broker (``person``) or a visit (``visit``).
    handoff: Handoff | None = None
    # The message(s) of a cost simulation still missing inputs, which the reply asked for.
    simulating: str | None = None
    # The prospect confirmed the brief as it stands (a change asks for a new confirmation).
    confirmed: bool = False


# ---- actions: a closed union of frozen types; the responder renders each one ----


class Greet(BaseModel):
    model_config = _FROZEN
    kind: Literal["greet"] = "greet"


class Acknowledge(BaseModel):
    """New or changed values this turn (``previous`` holds the replaced slot, if any)."""

    model_config = _FROZEN
    kind: Literal["acknowledge"] = "acknowledge"
    key: str
    slot: Slot
    previous: Slot | None = None


class Removed(BaseModel):
    model_config = _FROZEN
    kind: Literal["removed"] = "removed"
    key: str


class Reject(BaseModel):
    """A value failed validation; ``kept`` is the value still in the brief, if any."""

    model_config = _FROZEN
    kind: Literal["reject"] = "reject"
    rejection: Rejection
    kept: Slot | None = None


class AskFields(BaseModel):
    """Ask for every listed field in one question."""

    model_config = _FROZEN
    kind: Literal["ask"] = "ask"
    keys: tuple[str, ...]


class ClarifyCity(BaseModel):
    model_config = _FROZEN
    kind: Literal["clarify_city"] = "clarify_city"
    text: str
    options: tuple[str, ...]
    options_from: OptionsFrom = "typo"


class ClarifyCurrency(BaseModel):
    """Ask which of ``options`` (the market's home currency first) ``amount`` is in."""

    model_config = _FROZEN
    kind: Literal["clarify_currency"] = "clarify_currency"
    amount: float
    options: tuple[str, ...]


class ConfirmType(BaseModel):
    model_config = _FROZEN
    kind: Literal["confirm_type"] = "confirm_type"
    text: str
    proposal: PropertyKind | None = None  # the kind suggested for a described business


class NotedUnknown(BaseModel):
    """The prospect does not know these yet; we will not insist."""

    model_config = _FROZEN
    kind: Literal["noted_unknown"] = "noted_unknown"
    keys: tuple[str, ...]


class Redirect(BaseModel):
    """Off-topic message: polite redirect to the search."""

    model_config = _FROZEN
    kind: Literal["redirect"] = "redirect"


class Reprompt(BaseModel):
    """Gibberish or nothing understood: nothing filled, ask again."""

    model_config = _FROZEN
    kind: Literal["reprompt"] = "reprompt"


class Help(BaseModel):
    model_config = _FROZEN
    kind: Literal["help"] = "help"


class Answered(BaseModel):
    """A question answered outside the brief (the guides, a cost estimate, a person to talk
    to), its text already written in the conversation's language by the service."""

    model_config = _FROZEN
    kind: Literal["answered"] = "answered"
    topic: Literal["knowledge", "simulation", "person", "visit", "listings", "market"]
    text: str


class Restarted(BaseModel):
    model_config = _FROZEN
    kind: Literal["restarted"] = "restarted"


class Thanks(BaseModel):
    model_config = _FROZEN
    kind: Literal["thanks"] = "thanks"


class Summary(BaseModel):
    """The brief is complete: show it and ask for confirmation."""

    model_config = _FROZEN
    kind: Literal["summary"] = "summary"
    brief: Brief
    changed: bool = False  # True when re-confirming after a correction


class Confirmed(BaseModel):
    """The prospect confirmed the complete brief."""

    model_config = _FROZEN
    kind: Literal["confirmed"] = "confirmed"


class AlreadyConfirmed(BaseModel):
    """A "yes" to a brief already confirmed as it stands: the reply says so instead of
    confirming again (no second list, no second count)."""

    model_config = _FROZEN
    kind: Literal["already_confirmed"] = "already_confirmed"


# Why the guard refused a message: an explicit limit (``empty``, ``too_long``) or a category of
# attack or abuse (see docs/guard.md).
LimitReason = Literal["empty", "too_long"]
AttackCategory = Literal[
    "injection",
    "jailbreak",
    "prompt_extraction",
    "other_users_data",
    "harmful",
    "code_execution",
]
BlockReason = LimitReason | AttackCategory


class Blocked(BaseModel):
    """The guard refused the message (over a limit, or an attack); nothing was processed."""

    model_config = _FROZEN
    kind: Literal["blocked"] = "blocked"
    reason: BlockReason
    limit: int | None = None
    length: int | None = None


class BriefCompleted(BaseModel):
    """Emitted once per completion (and again after changes): the seam where follow-through
    features (listing matching, market check, financing, booking) attach. Renders nothing."""

    model_config = _FROZEN
    kind: Literal["brief_completed"] = "brief_completed"
    brief: Brief


class Refined(BaseModel):
    """Values a slower reading of an earlier message added after its reply was sent."""

    model_config = _FROZEN
    kind: Literal["refined"] = "refined"
    acks: tuple[Acknowledge, ...]


Action = (
    Greet
    | Acknowledge
    | Removed
    | Reject
    | AskFields
    | ClarifyCity
    | ClarifyCurrency
    | ConfirmType
    | NotedUnknown
    | Redirect
    | Reprompt
    | Help
    | Answered
    | Restarted
    | Thanks
    | Summary
    | Confirmed
    | AlreadyConfirmed
    | Blocked
    | BriefCompleted
    | Refined
)


class Transition(BaseModel):
    """The result of one ``advance``: the next state and what to say/do, in order."""

    model_config = _FROZEN

    state: ConversationState
    actions: tuple[Action, ...]
