"""The conversation policy ``advance``: table-driven scenarios plus a robustness property."""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realty.domain.brief import (
    Area,
    City,
    Language,
    Money,
    PropertyType,
    Scalar,
    Value,
)
from realty.domain.fields import FieldRegistry
from realty.domain.machine import advance
from realty.domain.state import (
    Acknowledge,
    AskFields,
    ClarifyCity,
    ClarifyCurrency,
    ConfirmType,
    ConversationState,
    NotedUnknown,
    PendingCity,
    PendingCurrency,
    PendingType,
    Reject,
    Removed,
    Reprompt,
    Summary,
    Transition,
)
from realty.domain.turn import (
    Candidate,
    CandidateOp,
    Extraction,
    Rejection,
    Signal,
    TurnUpdate,
    UnknownCity,
)
from realty.domain.validate import validate
from realty.pipeline.respond import Responder


def _registry() -> FieldRegistry:
    text = resources.files("realty.data").joinpath("fields.yaml").read_text("utf-8")
    return FieldRegistry.from_mapping(yaml.safe_load(text))


REGISTRY = _registry()
ALL = ("property_type", "city", "budget", "size")
CDMX = City(value="Mexico City", country="MX", lat=19.43, lon=-99.13)
AUSTIN = City(value="Austin", country="US", lat=30.27, lon=-97.74)
SPRINGFIELD = City(value="Springfield", country="US", lat=39.8, lon=-89.64)


def cand(
    key: str, value: Value | None, op: CandidateOp = "set", hint: str | None = None
) -> Candidate:
    return Candidate(key=key, value=value, op=op, span=(0, 4), currency_hint=hint)


def office() -> Candidate:
    return cand("property_type", PropertyType(value="office", text="office"))


def city(value: City = CDMX) -> Candidate:
    return cand("city", value)


def budget(amount: float | None, currency: str | None = "USD", **kw: object) -> Candidate:
    op = kw.pop("op", "set")
    hint = kw.pop("hint", None)
    money = Money.model_validate({"amount": amount, "currency": currency, **kw})
    return cand("budget", money, op, hint)  # type: ignore[arg-type]


def size(m2: float) -> Candidate:
    return cand("size", Area(m2=m2))


def upd(
    *accepted: Candidate,
    signals: Sequence[Signal] = (),
    language: Language | None = None,
    confidence: float = 0.95,
    **kw: object,
) -> TurnUpdate:
    return TurnUpdate.model_validate(
        {
            "text": "message",
            "accepted": accepted,
            "signals": frozenset(signals),
            "language": language,
            "language_confidence": confidence if language else 0.0,
            **kw,
        }
    )


def run(
    *updates: TurnUpdate,
    state: ConversationState | None = None,
    registry: FieldRegistry = REGISTRY,
) -> list[Transition]:
    out: list[Transition] = []
    current = state or ConversationState()
    for update in updates:
        transition = advance(current, update, registry)
        out.append(transition)
        current = transition.state
    return out


def kinds(transition: Transition) -> list[str]:
    return [a.kind for a in transition.actions]


def value(transition: Transition, key: str) -> object:
    slot = transition.state.brief.get(key)
    return None if slot is None else slot.value


def complete_state(language: Language = "en") -> ConversationState:
    return run(upd(office(), city(), budget(20_000), size(500), language=language))[-1].state


# ---- the canonical conversation ----


@pytest.mark.parametrize("language", ["en", "es"])
def test_canonical_two_turns(language: Language) -> None:
    first, second = run(
        upd(office(), city(), language=language),
        upd(budget(20_000, "USD"), size(500), language=language),
    )
    assert kinds(first) == ["acknowledge", "acknowledge", "ask"]
    assert first.actions[-1] == AskFields(keys=("budget", "size"))
    assert first.state.asked == ("budget", "size")
    assert first.state.phase == "collecting"
    assert first.state.language == language
    assert kinds(second) == ["summary", "brief_completed"]
    assert second.state.phase == "complete"
    assert second.state.completed_once
    assert second.state.asked == ()
    brief = second.state.brief
    assert brief.missing(REGISTRY.required) == []
    assert brief.language == language
    assert brief.get("budget") is not None
    assert value(second, "budget") == Money(amount=20_000, currency="USD")
    assert value(second, "size") == Area(m2=500)
    summary = second.actions[0]
    assert isinstance(summary, Summary)
    assert summary.brief == brief
    assert not summary.changed
    meta = brief.slots["budget"].meta
    assert (meta.status, meta.turn, meta.span, meta.source) == ("valid", 2, (0, 4), "parser")


SINGLE = [
    ("property_type", office(), ("city", "budget", "size")),
    ("city", city(), ("property_type", "budget", "size")),
    ("budget", budget(20_000), ("property_type", "city", "size")),
    ("size", size(500), ("property_type", "city", "budget")),
]


@pytest.mark.parametrize(("key", "candidate", "asked"), SINGLE, ids=[s[0] for s in SINGLE])
def test_each_single_field(key: str, candidate: Candidate, asked: tuple[str, ...]) -> None:
    (t,) = run(upd(candidate))
    assert kinds(t) == ["acknowledge", "ask"]
    ack = t.actions[0]
    assert isinstance(ack, Acknowledge)
    assert (ack.key, ack.previous) == (key, None)
    assert ack.slot.value == candidate.value
    assert t.actions[1] == AskFields(keys=asked)
    assert t.state.turn == 1


# ---- corrections, rejections, extras, removal ----


def test_latest_value_within_a_message_wins() -> None:
    (t,) = run(upd(budget(500), budget(800), signals=["correction"]))
    assert value(t, "budget") == Money(amount=800, currency="USD")
    acks = [a for a in t.actions if isinstance(a, Acknowledge)]
    assert len(acks) == 1
    assert acks[0].previous is None


def test_correction_across_turns_reports_previous() -> None:
    _, t = run(upd(size(500)), upd(size(600), signals=["correction"]))
    ack = t.actions[0]
    assert isinstance(ack, Acknowledge)
    assert ack.previous is not None
    assert ack.previous.value == Area(m2=500)
    assert ack.slot.value == Area(m2=600)
    assert ack.slot.meta.turn == 2


def test_new_figure_keeps_agreed_currency_and_period() -> None:
    _, t = run(
        upd(budget(800, "MXN", period="month", modality="rent")),
        upd(budget(900, None, hint="$")),
    )
    assert value(t, "budget") == Money(amount=900, currency="MXN", period="month", modality="rent")
    assert t.state.brief.slots["budget"].meta.status == "valid"


def test_invalid_correction_keeps_old_value_and_applies_the_rest() -> None:
    bad = budget(-5_000)
    _, t = run(
        upd(budget(800)),
        upd(size(300), rejected=(Rejection(candidate=bad, reason="non_positive_amount"),)),
    )
    assert value(t, "budget") == Money(amount=800, currency="USD")
    assert value(t, "size") == Area(m2=300)
    reject = next(a for a in t.actions if isinstance(a, Reject))
    assert reject.kept is not None
    assert reject.kept.value == Money(amount=800, currency="USD")
    assert kinds(t) == ["acknowledge", "reject", "ask"]


def test_rejection_without_previous_value_asks_again() -> None:
    bad = size(0)
    (t,) = run(upd(rejected=(Rejection(candidate=bad, reason="size_out_of_range"),)))
    assert kinds(t) == ["reject", "ask"]
    reject = t.actions[0]
    assert isinstance(reject, Reject)
    assert reject.kept is None
    assert t.actions[1] == AskFields(keys=ALL)


def test_extras_persist_and_can_be_removed() -> None:
    pets = cand("pets_allowed", Scalar(kind="bool", value=True))
    first, second, third = run(
        upd(pets, office()),
        upd(city(), size(200)),
        upd(cand("pets_allowed", None, "remove")),
    )
    assert value(first, "pets_allowed") == Scalar(kind="bool", value=True)
    assert value(second, "pets_allowed") == Scalar(kind="bool", value=True)
    assert third.state.brief.get("pets_allowed") is None
    assert kinds(third) == ["removed", "ask"]
    assert third.actions[0] == Removed(key="pets_allowed")


def test_removing_a_required_field_reopens_the_brief() -> None:
    (t,) = run(upd(cand("size", None, "remove")), state=complete_state())
    assert t.state.phase == "collecting"
    assert kinds(t) == ["removed", "ask"]
    assert t.actions[1] == AskFields(keys=("size",))


def test_removing_something_absent_says_no_removal() -> None:
    (t,) = run(upd(cand("parking", None, "remove")))
    assert kinds(t) == ["ask"]


def test_change_after_completion_resummarises() -> None:
    (t,) = run(upd(size(600)), state=complete_state())
    assert kinds(t) == ["acknowledge", "summary", "brief_completed"]
    summary = t.actions[1]
    assert isinstance(summary, Summary)
    assert summary.changed


def test_repeating_a_value_after_completion_shows_summary_again() -> None:
    (t,) = run(upd(size(500)), state=complete_state())
    assert kinds(t) == ["summary"]


@pytest.mark.parametrize(
    "again",
    [
        cand("property_type", PropertyType(value="office", text="offices")),
        cand("size", Area(m2=500, original="500 square meters")),
    ],
    ids=["kind in other words", "size in other units"],
)
def test_a_value_said_again_in_other_words_is_no_change(again: Candidate) -> None:
    (t,) = run(upd(again), state=complete_state())
    assert not [a for a in t.actions if isinstance(a, Acknowledge)]
    assert kinds(t) == ["summary"]


def test_an_unlisted_kind_in_other_words_is_a_change() -> None:
    held = cand("property_type", PropertyType(value="other", text="data center"))
    (first,) = run(upd(held, city(), budget(20000), size(500)))
    (t,) = run(
        upd(cand("property_type", PropertyType(value="other", text="cold storage"))),
        state=first.state,
    )
    assert "acknowledge" in kinds(t)


@pytest.mark.parametrize(
    "contact",
    [
        cand("email", Scalar(kind="text", value="ana@example.com")),
        cand("phone", Scalar(kind="text", value="+525512345678")),
        cand("visit_date", Scalar(kind="date", value="2026-12-10")),
    ],
    ids=["email", "phone", "visit date"],
)
def test_a_contact_after_completion_is_noted_without_a_new_summary(contact: Candidate) -> None:
    (t,) = run(upd(contact), state=complete_state())
    assert kinds(t) == ["acknowledge"]
    assert t.state.phase == "complete"
    assert value(t, contact.key) == contact.value


def test_a_contact_with_a_change_after_completion_resummarises() -> None:
    (t,) = run(
        upd(cand("email", Scalar(kind="text", value="ana@example.com")), size(600)),
        state=complete_state(),
    )
    assert kinds(t)[-2:] == ["summary", "brief_completed"]


# ---- "I don't know" ----


def test_dont_know_defers_the_asked_field_and_asks_the_rest() -> None:
    first, second = run(
        upd(office()),
        upd(city(), signals=["dont_know"]),
    )
    assert first.state.asked == ("city", "budget", "size")
    assert second.state.deferred == frozenset({"budget", "size"})
    assert kinds(second) == ["acknowledge", "noted_unknown"]
    assert second.actions[1] == NotedUnknown(keys=("budget", "size"))


def test_deferred_fields_wait_until_only_they_remain() -> None:
    _, t2, t3, t4 = run(
        upd(office()),
        upd(signals=["dont_know"]),  # asked city, budget, size
        upd(city(), size(100)),
        upd(budget(900)),
    )
    assert t2.state.deferred == frozenset({"city", "budget", "size"})
    assert kinds(t2) == ["noted_unknown"]
    assert t2.state.asked == ()
    # city and size arrive: they leave the deferred set; budget alone remains, asked gently.
    assert t3.state.deferred == frozenset({"budget"})
    assert t3.actions[-1] == AskFields(keys=("budget",))
    assert t4.state.deferred == frozenset()
    assert t4.state.phase == "complete"


def test_deferred_field_not_asked_while_others_missing() -> None:
    state = ConversationState(asked=("budget",))
    (t,) = run(upd(signals=["dont_know"]), state=state)
    assert t.actions == (
        NotedUnknown(keys=("budget",)),
        AskFields(keys=("property_type", "city", "size")),
    )


def test_dont_know_naming_a_field_defers_that_one_and_asks_the_others() -> None:
    # "I don't know the budget yet", asked budget and size: the size is asked at once.
    _, t = run(upd(office(), city()), upd(signals=["dont_know"], unknown_about={"budget"}))
    assert t.state.deferred == frozenset({"budget"})
    assert t.actions == (NotedUnknown(keys=("budget",)), AskFields(keys=("size",)))


def test_dont_know_naming_only_a_field_already_held_defers_nothing() -> None:
    # "no sé si en Ciudad de México": unsure of what was given; the questions still stand.
    _, t = run(upd(office(), city()), upd(signals=["dont_know"], unknown_about={"city"}))
    assert t.state.deferred == frozenset()
    assert t.actions[-1] == AskFields(keys=("budget", "size"))


def test_dont_know_beside_the_field_it_names_defers_nothing() -> None:
    # "no tengo presupuesto para más de 20 mil": the budget is given, the size still asked.
    _, t = run(
        upd(office(), city()), upd(budget(20_000), signals=["dont_know"], unknown_about={"budget"})
    )
    assert t.state.deferred == frozenset()
    assert t.actions[-1] == AskFields(keys=("size",))


def test_dont_know_with_nothing_asked_just_asks() -> None:
    (t,) = run(upd(signals=["dont_know"]))
    assert kinds(t) == ["ask"]
    assert t.state.deferred == frozenset()


# ---- start over and messages without values ----


def test_start_over_keeps_only_the_language() -> None:
    state = complete_state("es").model_copy(update={"language_locked": True})
    (t,) = run(upd(signals=["start_over"]), state=state)
    assert kinds(t) == ["restarted", "ask"]
    assert t.actions[1] == AskFields(keys=ALL)
    assert t.state.brief.slots == {}
    assert t.state.language == "es"
    assert t.state.brief.language == "es"
    assert t.state.phase == "collecting"
    assert not t.state.completed_once
    assert t.state.turn == state.turn + 1


def test_start_over_applies_values_from_the_same_message() -> None:
    (t,) = run(
        upd(cand("property_type", PropertyType(value="warehouse")), signals=["start_over"]),
        state=complete_state(),
    )
    assert kinds(t) == ["restarted", "acknowledge", "ask"]
    assert list(t.state.brief.slots) == ["property_type"]


NOTHING = [
    (["gibberish"], ["reprompt", "ask"]),
    (["greeting"], ["greet", "ask"]),
    (["thanks"], ["thanks", "ask"]),
    (["help"], ["help", "ask"]),
    (["question"], ["help", "ask"]),
    (["off_topic"], ["redirect", "ask"]),
    (["question", "off_topic"], ["redirect", "ask"]),
    (["help", "question"], ["help", "ask"]),
    ([], ["redirect", "ask"]),
    (["greeting", "off_topic"], ["greet", "redirect", "ask"]),
    (["affirm"], ["ask"]),
    (["deny"], ["ask"]),
]


@pytest.mark.parametrize(("signals", "expected"), NOTHING, ids=[str(n[0]) for n in NOTHING])
def test_messages_without_values(signals: list[Signal], expected: list[str]) -> None:
    state = run(upd(office()))[-1].state
    (t,) = run(upd(signals=signals), state=state)
    assert kinds(t) == expected
    assert t.state.brief == state.brief
    assert t.actions[-1] == AskFields(keys=("city", "budget", "size"))


COMPLETE_NOTHING = [
    (["thanks"], ["thanks"]),
    (["greeting"], ["greet"]),
    (["gibberish"], ["reprompt"]),
    (["off_topic"], ["redirect"]),
    (["help"], ["help"]),
    (["affirm"], ["confirmed"]),
    (["deny"], ["ask"]),
    (["correction"], ["summary"]),
]


@pytest.mark.parametrize(
    ("signals", "expected"), COMPLETE_NOTHING, ids=[str(n[0]) for n in COMPLETE_NOTHING]
)
def test_messages_without_values_after_completion(
    signals: list[Signal], expected: list[str]
) -> None:
    (t,) = run(upd(signals=signals), state=complete_state())
    assert kinds(t) == expected
    assert t.state.phase == "complete"


def test_deny_after_summary_asks_what_to_change() -> None:
    (t,) = run(upd(signals=["deny"]), state=complete_state())
    assert t.actions == (AskFields(keys=()),)


def test_greeting_with_values_greets_back_first() -> None:
    (t,) = run(upd(office(), signals=["greeting"]))
    assert kinds(t) == ["greet", "acknowledge", "ask"]


# ---- currency ----

CURRENCY = [
    ("es, $", "es", None, "$", "MXN"),
    ("es, bare figure", "es", None, None, "MXN"),
    ("es, US city", "es", AUSTIN, "$", "MXN"),
    ("en, no city", "en", None, "$", "USD"),
    ("en, US city", "en", AUSTIN, None, "USD"),
]


@pytest.mark.parametrize(
    ("name", "language", "place", "hint", "expected"), CURRENCY, ids=[c[0] for c in CURRENCY]
)
def test_currency_inference(
    name: str, language: Language, place: City | None, hint: str | None, expected: str
) -> None:
    given_city = (city(place),) if place else ()
    (t,) = run(upd(*given_city, budget(20_000, None, hint=hint), language=language))
    assert value(t, "budget") == Money(amount=20_000, currency=expected)
    meta = t.state.brief.slots["budget"].meta
    assert (meta.status, meta.confidence) == ("unconfirmed", 0.8)
    assert "budget" not in t.state.brief.missing(REGISTRY.required)


def test_english_in_mexico_asks_which_currency() -> None:
    first, second = run(
        upd(city(), budget(20_000, None, hint="$"), language="en"),
        upd(cand("budget", Money(currency="MXN"), "merge")),
    )
    assert first.state.pending == PendingCurrency(options=("MXN", "USD"))
    assert ClarifyCurrency(amount=20_000, options=("MXN", "USD")) in first.actions
    assert first.actions[-1] == AskFields(keys=("property_type", "size"))
    assert first.state.asked == ("property_type", "budget", "size")
    assert value(first, "budget") == Money(amount=20_000)
    assert "budget" in first.state.brief.missing(REGISTRY.required)
    assert value(second, "budget") == Money(amount=20_000, currency="MXN")
    assert second.state.brief.slots["budget"].meta.status == "valid"
    assert second.state.pending is None


def test_currency_choice_resolves_pending_currency() -> None:
    _, t = run(upd(city(), budget(20_000, None), language="en"), upd(choice=1))
    assert value(t, "budget") == Money(amount=20_000, currency="USD")
    assert t.state.pending is None
    assert kinds(t)[0] == "acknowledge"


def test_pending_currency_asked_again_when_nothing_said() -> None:
    _, t = run(upd(city(), budget(20_000, None), language="en"), upd(signals=["greeting"]))
    assert t.state.pending == PendingCurrency(options=("MXN", "USD"))
    assert kinds(t) == ["greet", "clarify_currency", "ask"]


def test_explicit_currency_is_valid() -> None:
    (t,) = run(upd(city(), budget(20_000, "MXN"), language="en"))
    meta = t.state.brief.slots["budget"].meta
    assert (meta.status, meta.confidence) == ("valid", 0.9)
    assert t.state.pending is None


def test_inferred_dollars_kept_when_city_later_mexican() -> None:
    _, t = run(upd(budget(20_000, None), language="en"), upd(city(), language="en"))
    assert value(t, "budget") == Money(amount=20_000, currency="USD")
    assert t.state.pending is None


def test_assumed_currency_carried_by_a_new_figure_stays_assumed() -> None:
    _, t = run(upd(budget(20_000, None), language="es"), upd(budget(25_000, None)))
    assert value(t, "budget") == Money(amount=25_000, currency="MXN")
    assert t.state.brief.slots["budget"].meta.status == "unconfirmed"


def test_affirming_the_summary_confirms_assumptions() -> None:
    first, second = run(
        upd(office(), city(), budget(20_000, None), size(500), language="es"),
        upd(signals=["affirm"]),
    )
    assert first.state.brief.slots["budget"].meta.status == "unconfirmed"
    assert kinds(first) == ["summary", "brief_completed"]
    assert kinds(second) == ["confirmed"]
    assert {s.meta.status for s in second.state.brief.slots.values()} == {"valid"}
    assert second.state.brief.slots["budget"].meta.confidence == 0.8


def test_a_second_yes_says_the_brief_is_already_confirmed_until_it_changes() -> None:
    yes = upd(signals=["affirm"])
    email = cand("email", Scalar(kind="text", value="ana@example.com"))
    first, again, noted, still, changed, anew = run(
        yes, yes, upd(email), yes, upd(size(600)), yes, state=complete_state()
    )
    assert kinds(first) == ["confirmed"]
    assert kinds(again) == ["already_confirmed"]
    assert noted.state.confirmed  # a contact changes nothing that was confirmed
    assert kinds(still) == ["already_confirmed"]
    assert not changed.state.confirmed  # a change is summarised for a new confirmation
    assert kinds(anew) == ["confirmed"]
    assert Responder(REGISTRY).render(again).startswith("Your brief is already confirmed.")


def test_modality_before_budget_is_held() -> None:
    first, second = run(
        upd(cand("budget", Money(modality="rent"), "merge")),
        upd(budget(30_000, "MXN")),
    )
    assert first.state.modality == "rent"
    assert first.state.brief.get("budget") is None
    assert value(second, "budget") == Money(amount=30_000, currency="MXN", modality="rent")
    assert second.state.modality is None


def test_currency_before_amount_is_held_as_partial_budget() -> None:
    first, second = run(
        upd(cand("budget", Money(currency="USD", period="month"), "merge"), language="en"),
        upd(budget(9_000, None)),
    )
    slot = first.state.brief.slots["budget"]
    assert slot.meta.status == "unconfirmed"
    assert "budget" in first.state.brief.missing(REGISTRY.required)
    assert value(second, "budget") == Money(amount=9_000, currency="USD", period="month")
    assert second.state.brief.slots["budget"].meta.status == "valid"


def test_merge_fills_existing_budget() -> None:
    _, t = run(
        upd(budget(20_000, "USD", min=15_000, max=20_000)),
        upd(cand("budget", Money(period="month"), "merge")),
    )
    assert value(t, "budget") == Money(
        amount=20_000, currency="USD", min=15_000, max=20_000, period="month"
    )


# ---- cities ----

UNKNOWN = UnknownCity(text="Springfieldia", span=(3, 16), suggestions=("Springfield", "Springdale"))


def test_unknown_city_offers_suggestions_then_choice_resolves() -> None:
    first, second = run(
        upd(office(), unknown_cities=(UNKNOWN,)),
        upd(city(SPRINGFIELD), choice=0),
    )
    assert kinds(first) == ["acknowledge", "clarify_city", "ask"]
    assert first.actions[1] == ClarifyCity(text="Springfieldia", options=UNKNOWN.suggestions)
    assert first.actions[2] == AskFields(keys=("budget", "size"))
    assert first.state.pending == PendingCity(text="Springfieldia", options=UNKNOWN.suggestions)
    assert first.state.asked == ("city", "budget", "size")
    assert value(second, "city") == SPRINGFIELD
    assert second.state.pending is None
    assert second.actions[-1] == AskFields(keys=("budget", "size"))


def test_unresolved_choice_asks_the_city_again() -> None:
    _, t = run(upd(unknown_cities=(UNKNOWN,)), upd(choice=7))
    assert t.state.pending == PendingCity(text="Springfieldia", options=UNKNOWN.suggestions)
    assert ClarifyCity(text="Springfieldia", options=UNKNOWN.suggestions) in t.actions


def test_cities_named_as_a_choice_are_asked_which_first_until_one_is_picked() -> None:
    choice = UnknownCity(
        text="Springfield or Springdale",
        span=(10, 35),
        suggestions=("Springfield", "Springdale"),
        options_from="named",
    )
    pending = PendingCity(text=choice.text, options=choice.suggestions, options_from="named")
    first, second, third = run(
        upd(office(), unknown_cities=(choice,)), upd(choice=5), upd(city(SPRINGFIELD), choice=0)
    )
    asked = ClarifyCity(text=choice.text, options=choice.suggestions, options_from="named")
    assert first.actions[1] == asked
    assert first.state.pending == pending
    # An answer that picks none asks the same way again.
    assert asked in second.actions
    assert second.state.pending == pending
    assert value(third, "city") == SPRINGFIELD
    assert third.state.pending is None


def test_city_without_suggestions_is_asked_again() -> None:
    (t,) = run(upd(unknown_cities=(UnknownCity(text="Xyzzy", span=(0, 5)),)))
    assert t.actions == (ClarifyCity(text="Xyzzy", options=()), AskFields(keys=ALL))
    assert t.state.pending is None
    assert t.state.asked == ALL


def test_moving_on_clears_pending_city() -> None:
    _, t = run(upd(unknown_cities=(UNKNOWN,)), upd(size(100)))
    assert t.state.pending is None
    assert t.actions[-1] == AskFields(keys=("property_type", "city", "budget"))


def test_gibberish_place_is_noise() -> None:
    noise = UnknownCity(text="asldkfjaslkdfj", span=(0, 14))
    (t,) = run(upd(signals=["gibberish"], unknown_cities=(noise,)))
    assert t.actions == (Reprompt(), AskFields(keys=ALL))
    assert t.state.pending is None


def test_known_city_in_same_message_wins_over_unknown() -> None:
    (t,) = run(upd(city(), unknown_cities=(UNKNOWN,)))
    assert not any(isinstance(a, ClarifyCity) for a in t.actions)


# ---- unusual property types ----

SILO = cand("property_type", PropertyType(value="other", text="grain silo"))


def test_unusual_type_confirmed_by_affirm() -> None:
    first, second = run(upd(SILO, city(), budget(1_000), size(90)), upd(signals=["affirm"]))
    assert first.state.pending == PendingType(text="grain silo")
    assert ConfirmType(text="grain silo") in first.actions
    assert first.state.brief.slots["property_type"].meta.status == "unconfirmed"
    assert first.state.phase == "collecting"
    assert second.state.brief.slots["property_type"].meta.status == "valid"
    assert second.state.pending is None
    assert kinds(second) == ["summary", "brief_completed"]


def test_unusual_type_confirmation_is_acknowledged_while_collecting() -> None:
    _, second = run(upd(SILO, city()), upd(signals=["affirm"]))
    assert kinds(second)[0] == "acknowledge"
    assert second.state.brief.slots["property_type"].meta.status == "valid"
    assert second.state.asked == ("budget", "size")


def test_unusual_type_denied_is_asked_again() -> None:
    _, t = run(upd(SILO), upd(signals=["deny"]))
    assert t.state.brief.get("property_type") is None
    assert t.state.pending is None
    assert t.actions == (AskFields(keys=ALL),)


def test_unusual_type_replaced_by_a_new_type() -> None:
    _, t = run(upd(SILO), upd(office(), signals=["deny"]))
    assert value(t, "property_type") == PropertyType(value="office", text="office")
    assert t.state.pending is None


# ---- language ----

LANGUAGE = [
    ("locked switch", "es", True, "en", 0.9, "en", True),
    ("locked weak evidence", "es", True, "en", 0.6, "es", True),
    ("unlocked weak evidence", "en", False, "es", 0.5, "es", True),
    ("unlocked too weak", "en", False, "es", 0.4, "en", False),
    ("no detection", "es", True, None, 0.0, "es", True),
]


@pytest.mark.parametrize(
    ("name", "start", "locked", "detected", "confidence", "expected", "now_locked"),
    LANGUAGE,
    ids=[x[0] for x in LANGUAGE],
)
def test_language_follows_confident_switches(
    name: str,
    start: Language,
    locked: bool,
    detected: Language | None,
    confidence: float,
    expected: Language,
    now_locked: bool,
) -> None:
    state = ConversationState(language=start, language_locked=locked)
    update = TurnUpdate(text="x", language=detected, language_confidence=confidence)
    (t,) = run(update, state=state)
    assert t.state.language == expected
    assert t.state.brief.language == expected
    assert t.state.language_locked == now_locked


# ---- a deployment that requires more ----


def test_registry_requiring_move_in_date_asks_for_it() -> None:
    registry = REGISTRY.with_required([*ALL, "move_in_date"])
    first, second, third = run(
        upd(office(), city()),
        upd(budget(20_000), size(500)),
        upd(cand("move_in_date", Scalar(kind="date", value="2026-06-01"))),
        registry=registry,
    )
    assert first.actions[-1] == AskFields(keys=("budget", "size", "move_in_date"))
    assert second.actions[-1] == AskFields(keys=("move_in_date",))
    assert second.state.phase == "collecting"
    assert kinds(third) == ["summary", "brief_completed"]


# ---- robustness ----

_KEYS = st.sampled_from(
    [
        "budget",
        "size",
        "property_type",
        "city",
        "parking_spaces",
        "pets_allowed",
        "move_in_date",
        "x",
    ]
)
_FLOATS = st.floats(allow_nan=True, allow_infinity=True) | st.none()
_VALUES = st.one_of(
    st.none(),
    st.builds(
        Money,
        amount=_FLOATS,
        currency=st.sampled_from([None, "USD", "MXN"]),
        period=st.sampled_from([None, "month", "total"]),
        min=_FLOATS,
        max=_FLOATS,
        modality=st.sampled_from([None, "rent", "buy"]),
    ),
    st.builds(Area, m2=st.floats(allow_nan=True), original=st.sampled_from([None, "5,000 sq ft"])),
    st.builds(
        PropertyType,
        value=st.sampled_from(["office", "other"]),
        text=st.sampled_from([None, "", "silo"]),
    ),
    st.sampled_from([CDMX, AUSTIN]),
    st.builds(
        Scalar,
        kind=st.sampled_from(["int", "bool", "date", "text"]),
        value=st.sampled_from([3, -1, True, "2020-01-01", "x"]),
    ),
)
_CANDIDATES = st.builds(
    Candidate,
    key=_KEYS,
    value=_VALUES,
    op=st.sampled_from(["set", "merge", "remove"]),
    span=st.just((0, 1)),
    currency_hint=st.sampled_from([None, "$", "dólares"]),
)
_SIGNALS: list[Signal] = [
    "greeting",
    "affirm",
    "deny",
    "dont_know",
    "start_over",
    "thanks",
    "help",
    "question",
    "correction",
    "off_topic",
    "gibberish",
]
_UPDATES = st.builds(
    TurnUpdate,
    text=st.text(max_size=20),
    accepted=st.lists(_CANDIDATES, max_size=4).map(tuple),
    rejected=st.lists(
        st.builds(Rejection, candidate=_CANDIDATES, reason=st.just("non_positive_amount")),
        max_size=2,
    ).map(tuple),
    signals=st.frozensets(st.sampled_from(_SIGNALS), max_size=3),
    language=st.sampled_from([None, "en", "es"]),
    language_confidence=st.floats(0, 1),
    unknown_cities=st.lists(
        st.builds(
            UnknownCity,
            text=st.text(max_size=8),
            span=st.just((0, 1)),
            suggestions=st.lists(st.text(max_size=5), max_size=3).map(tuple),
        ),
        max_size=2,
    ).map(tuple),
    choice=st.none() | st.integers(-3, 5),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(updates=st.lists(_UPDATES, min_size=1, max_size=6))
def test_advance_is_total_and_always_has_something_to_say(updates: list[TurnUpdate]) -> None:
    responder = Responder(REGISTRY)
    state = ConversationState()
    for number, update in enumerate(updates, start=1):
        transition = advance(state, update, REGISTRY)
        assert any(a.kind != "brief_completed" for a in transition.actions)
        assert responder.render(transition).strip()
        assert transition.state.turn == number
        assert transition.state.model_dump_json()
        state = transition.state


def test_slot_meta_records_turn_and_source() -> None:
    llm = Candidate(key="size", value=Area(m2=50), span=(5, 9), confidence=0.7, source="llm")
    _, t = run(upd(office()), upd(llm))
    slot = t.state.brief.get("size")
    assert slot is not None
    assert slot.value == Area(m2=50)
    assert (slot.meta.turn, slot.meta.source, slot.meta.confidence, slot.meta.span) == (
        2,
        "llm",
        0.7,
        (5, 9),
    )


def test_one_question_at_a_time_type_waits_for_currency() -> None:
    first, second, third = run(
        upd(SILO, city(), budget(1_000, None), size(90), language="en"),
        upd(cand("budget", Money(currency="MXN"), "merge")),
        upd(signals=["affirm"]),
    )
    assert kinds(first) == ["acknowledge"] * 4 + ["clarify_currency"]
    assert first.state.pending == PendingCurrency(options=("MXN", "USD"))
    assert kinds(second) == ["acknowledge", "confirm_type"]
    assert second.state.pending == PendingType(text="grain silo")
    assert kinds(third) == ["summary", "brief_completed"]
    assert third.state.brief.slots["property_type"].meta.status == "valid"


RESTAURANT = cand("property_type", PropertyType(value="retail", text="restaurant", proposed=True))


def test_a_kind_proposed_for_a_business_waits_for_its_yes_while_other_values_arrive() -> None:
    first, second, third = run(
        upd(RESTAURANT, city(), size(150), budget(2_000, period="month")),
        upd(budget(3_000)),  # "actually our budget is more like 3000"
        upd(signals=["affirm"]),
    )
    assert first.actions[-1] == ConfirmType(text="restaurant", proposal="retail")
    # The budget is taken and the same question is asked again, not a generic one.
    assert value(second, "budget").amount == 3_000
    assert second.actions[-1] == ConfirmType(text="restaurant", proposal="retail")
    assert second.state.pending == PendingType(text="restaurant", proposal="retail")
    assert third.state.brief.slots["property_type"].meta.status == "valid"
    assert kinds(third) == ["summary", "brief_completed"]


def test_a_kind_proposed_waits_behind_a_currency_question_without_being_asked_for() -> None:
    """A "restaurant" proposes retail; "120 m2, 60 mil al mes" raises the currency question:
    that one is asked alone (the kind is not asked for as if it were missing), then the kind's
    yes, then the summary."""
    first, second, third, fourth = run(
        upd(RESTAURANT, city(), language="en"),
        upd(size(120), budget(60_000, None, period="month"), language="en"),
        upd(cand("budget", Money(currency="MXN"), "merge")),
        upd(signals=["affirm"]),
    )
    assert first.actions[-2:] == (
        ConfirmType(text="restaurant", proposal="retail"),
        AskFields(keys=("budget", "size")),
    )
    assert kinds(second)[-1] == "clarify_currency"
    assert not any(isinstance(a, AskFields) for a in second.actions)
    assert second.state.pending == PendingCurrency(options=("MXN", "USD"))
    assert second.actions[-1] == ClarifyCurrency(amount=60_000, options=("MXN", "USD"))
    assert kinds(third) == ["acknowledge", "confirm_type"]
    assert third.state.pending == PendingType(text="restaurant", proposal="retail")
    assert kinds(fourth) == ["summary", "brief_completed"]


def test_a_business_named_again_keeps_the_kind_already_settled() -> None:
    retail = cand("property_type", PropertyType(value="retail", text="commercial space"))
    first, second = run(
        upd(retail, city(), size(600), budget(80_000, "MXN")),
        upd(RESTAURANT, signals=["affirm"]),  # "yes, a restaurant"
    )
    assert kinds(first) == ["summary", "brief_completed"]
    assert second.state.brief.slots["property_type"].meta.status == "valid"
    assert kinds(second) == ["confirmed"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    extractions=st.lists(
        st.builds(
            Extraction,
            candidates=st.lists(_CANDIDATES, max_size=4).map(tuple),
            signals=st.frozensets(st.sampled_from(_SIGNALS), max_size=3),
            language=st.sampled_from([None, "en", "es"]),
            language_confidence=st.floats(0, 1),
            choice=st.none() | st.integers(0, 2),
        ),
        min_size=1,
        max_size=5,
    )
)
def test_validated_turns_keep_a_persistable_state(extractions: list[Extraction]) -> None:
    state = ConversationState()
    for extraction in extractions:
        update = validate(extraction, "message", REGISTRY, "2026-01-01")
        state = advance(state, update, REGISTRY).state
        assert ConversationState.model_validate_json(state.model_dump_json()) == state


# ---- a language switch (a form's language control) ----


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (run(upd(office(), city(), language="en"))[-1].state, ["ask"]),
        (complete_state("en"), ["summary"]),
        (ConversationState(), ["ask"]),
    ],
)
def test_a_language_switch_is_answered_by_the_follow_up_in_the_new_language(
    state: ConversationState, expected: list[str]
) -> None:
    """Nothing else in the message: no "I didn't understand", just the open question (or the
    summary) again, in the new language, which is then locked in."""
    (switched,) = run(upd(signals=["switch_language"], language="es", confidence=1.0), state=state)
    assert kinds(switched) == expected
    assert (switched.state.language, switched.state.language_locked) == ("es", True)
    assert switched.state.brief.language == "es"
    assert switched.state.brief.slots == state.brief.slots
    assert Responder(REGISTRY).render(switched).startswith(("¿", "Este es el resumen"))


def test_without_the_switch_signal_an_empty_message_still_gets_a_redirect() -> None:
    """Only the explicit switch skips the redirect: a chat message with no recognisable
    content in another language is still redirected to the search."""
    state = run(upd(office(), city(), language="en"))[-1].state
    (plain,) = run(upd(language="es", confidence=1.0), state=state)
    assert kinds(plain) == ["redirect", "ask"]


# ---- "the size is wrong": a value to ask for again ----


def test_a_value_said_to_be_wrong_is_asked_for_again_and_a_bare_answer_replaces_it() -> None:
    wrong, fixed = run(
        upd(to_change=frozenset({"size"})),  # "the size is wrong"
        upd(size(300)),  # "300", read as the size asked for
        state=complete_state(),
    )
    assert wrong.actions == (AskFields(keys=("size",)),)
    assert wrong.state.asked == ("size",)
    assert value(wrong, "size") == Area(m2=500)  # kept until the new one comes
    assert kinds(fixed) == ["acknowledge", "summary", "brief_completed"]
    assert value(fixed, "size") == Area(m2=300)


def test_a_wrong_value_with_its_replacement_is_simply_replaced() -> None:
    (fixed,) = run(upd(size(300), to_change=frozenset({"size"})), state=complete_state())
    assert kinds(fixed) == ["acknowledge", "summary", "brief_completed"]


def test_a_wrong_value_while_collecting_is_asked_with_what_is_missing() -> None:
    first, wrong = run(
        upd(office(), city(), language="en"),
        upd(to_change=frozenset({"city"})),  # "wrong city"
    )
    assert first.state.asked == ("budget", "size")
    assert wrong.actions == (AskFields(keys=("city", "budget", "size")),)
    assert wrong.state.asked == ("city", "budget", "size")


def test_a_city_withdrawn_by_name_goes_only_when_it_is_the_briefs() -> None:
    monterrey = City(value="Monterrey", country="MX", lat=25.68, lon=-100.32)
    other = Candidate(key="city", value=monterrey, op="remove", span=(0, 16))
    (kept,) = run(upd(other), state=complete_state())  # "forget Monterrey" about Mexico City
    assert value(kept, "city") == CDMX
    state = run(upd(office(), city(monterrey), language="en"))[-1].state
    (gone,) = run(upd(other), state=state)
    assert value(gone, "city") is None
    assert "removed" in kinds(gone)
