"""The SGD Homes suite: user-stated slots of the Schema-Guided Dialogue apartment dialogues.

Each dialogue's USER turns are replayed in order through one conversation. For every user
turn the *expected* slots are what the user said in that turn:

* non-categorical slots with a character span in the utterance (``slot_spans``: ``area``,
  ``visit_date``), with every surface form the dialogue state lists for them;
* categorical slots whose value changed in this turn (``state_delta``: beds, baths, pets,
  furnished, garage, laundry, intent), unless the system offered or confirmed that very value
  in its previous turn (accepting an offer restates it, the user did not say it);
* never the offer slots (``property_name``, ``address``, ``phone_number``, ``rent``,
  ``price``): those are picked from the system's offers.

The *predicted* slots are the candidates the service accepted in that turn
(``TurnResult.extracted``), mapped to SGD slots with :data:`KEY_MAP`. A prediction that
repeats a value already in the dialogue state (the user restating it) is neither right nor
wrong; predictions for slots the service's schema does not have are ignored.

Key mapping (:data:`KEY_MAP`) and how values are compared:

=================  ==================  ==================================================
brief key          SGD slot            comparison
=================  ==================  ==================================================
city               area                case-insensitive; the gazetteer's canonical name of
                                       the SGD value is accepted too ("SF")
bedrooms           number_of_beds      integer as text
bathrooms          number_of_baths     integer as text
pets_allowed       pets_allowed        "true" / "false"
furnished          furnished           "true" / "false"
garage, parking    has_garage          "true" / "false"
in_unit_laundry    in_unit_laundry     "true" / "false"
budget (modality)  intent              "rent" / "buy" (a merge candidate is enough)
visit_date,        visit_date          both sides as ISO dates from :data:`BASE_DATE`
move_in_date
=================  ==================  ==================================================
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from realty.domain.brief import City, Money, Scalar
from realty.domain.turn import Candidate
from realty.evaluation.metrics import FieldScores, TurnStats
from realty.parsing.dates import read_date
from realty.parsing.text import fold
from realty.services.conversation import ConversationService

# Our brief key → the SGD slot it answers. ``move_in_date`` is included because SGD's
# ``visit_date`` is "a move-in or visit date"; ``parking`` because ``has_garage`` is the
# nearest SGD slot to it.
KEY_MAP: Mapping[str, str] = {
    "city": "area",
    "bedrooms": "number_of_beds",
    "bathrooms": "number_of_baths",
    "pets_allowed": "pets_allowed",
    "furnished": "furnished",
    "garage": "has_garage",
    "parking": "has_garage",
    "in_unit_laundry": "in_unit_laundry",
    "budget": "intent",  # the budget's modality: rent or buy
    "visit_date": "visit_date",
    "move_in_date": "visit_date",
}

CATEGORICAL: frozenset[str] = frozenset(
    {
        "number_of_beds",
        "number_of_baths",
        "pets_allowed",
        "furnished",
        "has_garage",
        "in_unit_laundry",
        "intent",
    }
)
OFFER_SLOTS: frozenset[str] = frozenset(
    {"property_name", "address", "phone_number", "rent", "price"}
)
# System acts after which a user's "yes" restates the value rather than states it.
_RESTATING_ACTS: frozenset[str] = frozenset({"OFFER", "CONFIRM", "INFORM"})

SERVICE_SLOTS: Mapping[str, frozenset[str]] = {
    "Homes_1": frozenset(
        {"area", "number_of_beds", "number_of_baths", "pets_allowed", "furnished", "visit_date"}
    ),
    "Homes_2": frozenset(
        {
            "area",
            "number_of_beds",
            "number_of_baths",
            "has_garage",
            "in_unit_laundry",
            "intent",
            "visit_date",
        }
    ),
}

# SGD was collected in 2019; every relative date on both sides is resolved from this day.
BASE_DATE = dt.date(2019, 3, 1)


Pair = tuple[str, str]


@dataclass(frozen=True, slots=True)
class SgdTurn:
    """One user turn with what it is scored against."""

    text: str
    expected: Mapping[str, tuple[str, ...]]  # slot → accepted surface forms
    state: Mapping[str, tuple[str, ...]]  # the dialogue state after this turn


@dataclass(frozen=True, slots=True)
class SgdDialogue:
    """One SGD dialogue reduced to its user turns."""

    id: str
    split: str
    service: str
    turns: tuple[SgdTurn, ...]

    @property
    def group(self) -> str:
        """The report group: ``Homes_1`` (train+dev) or ``Homes_2`` (test)."""
        return self.service


def normalise_date(text: str, base: dt.date = BASE_DATE) -> str:
    """An ISO date for an SGD date phrase ("the 6th", "next Monday"), or the folded text.

    Read with the parser's own date reader, so a gold phrase and the prospect's words resolve
    by the same rules (the scorer has no date logic of its own).
    """
    phrase = fold(text.strip())
    parsed = read_date(phrase, base)
    return parsed.isoformat() if parsed is not None else phrase


def normalise(slot: str, value: str, base: dt.date = BASE_DATE) -> str:
    """The comparable form of an SGD slot value."""
    if slot == "visit_date":
        return normalise_date(value, base)
    return value.strip().casefold()


def _previous_offers(system: Mapping[str, Any] | None) -> set[Pair]:
    if system is None:
        return set()
    return {
        (act["slot"], str(v))
        for act in system.get("actions", [])
        if act.get("act") in _RESTATING_ACTS
        for v in act.get("values", [])
    }


def expected_slots(
    user: Mapping[str, Any], previous_system: Mapping[str, Any] | None
) -> dict[str, tuple[str, ...]]:
    """What the user stated in this turn: slot → surface forms (see the module docstring)."""
    state: Mapping[str, list[str]] = user.get("state", {})
    out: dict[str, tuple[str, ...]] = {}
    for span in user.get("slot_spans", []):
        slot = span["slot"]
        if slot in OFFER_SLOTS or slot in CATEGORICAL:
            continue
        forms = [span["value"], *state.get(slot, [])]
        out[slot] = tuple(dict.fromkeys(forms))
    offers = _previous_offers(previous_system)
    for slot, values in user.get("state_delta", {}).items():
        if slot not in CATEGORICAL:
            continue
        stated = tuple(v for v in values if (slot, v) not in offers)
        if stated:
            out[slot] = stated
    return out


def parse_dialogue(raw: Mapping[str, Any]) -> SgdDialogue:
    """Reduce one line of ``sgd_homes_dialogues.jsonl`` to its scored user turns."""
    turns = []
    system: Mapping[str, Any] | None = None
    for turn in raw["turns"]:
        if turn["speaker"] != "USER":
            system = turn
            continue
        state = {k: tuple(v) for k, v in turn.get("state", {}).items()}
        turns.append(
            SgdTurn(text=turn["utterance"], expected=expected_slots(turn, system), state=state)
        )
    service = raw.get("services", ["Homes_1"])[0]
    return SgdDialogue(id=raw["id"], split=raw["split"], service=service, turns=tuple(turns))


def load_dialogues(
    path: Path, limit: int | None = None, service: str | None = None
) -> list[SgdDialogue]:
    """The dialogues of ``sgd_homes_dialogues.jsonl`` (the first ``limit`` of each service).

    ``service`` keeps one service only (``Homes_1`` or ``Homes_2``).
    """
    out: list[SgdDialogue] = []
    taken: dict[str, int] = {}
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        dialogue = parse_dialogue(json.loads(line))
        if service is not None and dialogue.service != service:
            continue
        if limit is not None and taken.get(dialogue.service, 0) >= limit:
            continue
        taken[dialogue.service] = taken.get(dialogue.service, 0) + 1
        out.append(dialogue)
    return out


def predicted_pairs(candidates: Iterable[Candidate], base: dt.date = BASE_DATE) -> set[Pair]:
    """Accepted candidates as (SGD slot, comparable value) pairs, through :data:`KEY_MAP`."""
    out: set[Pair] = set()
    for cand in candidates:
        slot = KEY_MAP.get(cand.key)
        if slot is None or cand.op == "remove" or cand.value is None:
            continue
        value = _candidate_value(cand)
        if value is not None:
            out.add((slot, normalise(slot, value, base)))
    return out


def _candidate_value(cand: Candidate) -> str | None:
    value = cand.value
    if isinstance(value, City):
        return value.value
    if isinstance(value, Money):
        return value.modality
    if isinstance(value, Scalar):
        if isinstance(value.value, bool):
            return str(value.value)
        if isinstance(value.value, float) and value.value.is_integer():
            return str(int(value.value))
        return str(value.value)
    return None


CityAlias = Callable[[str], str | None]


def _forms(
    slot: str, values: Sequence[str], alias: CityAlias, base: dt.date = BASE_DATE
) -> set[str]:
    forms = {normalise(slot, v, base) for v in values}
    if slot == "area":
        forms |= {a.casefold() for v in values if (a := alias(v)) is not None}
    return forms


def score_turn(
    turn: SgdTurn,
    predicted: set[Pair],
    slots: frozenset[str],
    scores: FieldScores,
    alias: CityAlias = lambda _: None,
) -> None:
    """Count one user turn: expected slots against predicted pairs (restated values neutral)."""
    matched: set[Pair] = set()
    for slot, values in turn.expected.items():
        forms = _forms(slot, values, alias)
        hits = {p for p in predicted if p[0] == slot and p[1] in forms}
        if hits:
            scores.tp(slot)
            matched |= hits
        else:
            scores.fn(slot)
    for slot, value in sorted(predicted - matched):
        if slot not in slots:
            continue  # this service's schema cannot say whether it is right
        restated = value in _forms(slot, turn.state.get(slot, ()), alias)
        if slot in turn.expected or not restated:
            scores.fp(slot)


@dataclass(slots=True)
class SgdResult:
    """Scores of one SGD group (Homes_1 or Homes_2)."""

    scores: FieldScores = field(default_factory=FieldScores)
    stats: TurnStats = field(default_factory=TurnStats)
    dialogues: int = 0

    def to_json(self) -> dict[str, Any]:
        """The group's section of the JSON report."""
        return {"dialogues": self.dialogues, **self.stats.to_json(), **self.scores.to_json()}


def _groups(dialogues: Sequence[SgdDialogue]) -> Iterator[str]:
    return iter(dict.fromkeys(d.group for d in dialogues))


async def run_sgd(
    service: ConversationService,
    dialogues: Sequence[SgdDialogue],
    *,
    alias: CityAlias = lambda _: None,
    tick: Callable[[], None] = lambda: None,
) -> dict[str, SgdResult]:
    """Replay every dialogue's user turns and score them, grouped by service.

    Args:
        service: the service under test; its ``today`` should be :data:`BASE_DATE`.
        dialogues: from :func:`load_dialogues`.
        alias: the gazetteer's canonical name for a place name (accepted for ``area``).
        tick: called once per dialogue (progress reporting).

    Returns:
        ``{"Homes_1": ..., "Homes_2": ...}`` (only the groups present).
    """
    results = {group: SgdResult() for group in _groups(dialogues)}
    for dialogue in dialogues:
        result = results[dialogue.group]
        slots = SERVICE_SLOTS.get(dialogue.service, frozenset(KEY_MAP.values()))
        start = await service.start()
        for turn in dialogue.turns:
            out = await service.handle_turn(start.conversation_id, turn.text, access=start.access)
            refined = await service.settle()
            result.stats.record(out.latency_ms, out.llm_calls, refined)
            extracted = [*out.extracted, *(c for r in refined for c in r.extracted)]
            score_turn(turn, predicted_pairs(extracted), slots, result.scores, alias)
        result.dialogues += 1
        tick()
    return results
