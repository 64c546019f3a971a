"""The conversation policy: ``advance(state, update, registry, market=...) -> Transition``.

A pure, total function. Everything a message said arrives as a validated
:class:`~realty.domain.turn.TurnUpdate`; the next :class:`~realty.domain.state.ConversationState`
and the ordered actions of the reply come out. Corrections, rejections, clarifications,
skips and completion are all data; nothing here raises for any update.

The order of the actions is the order of the reply:

1. ``Restarted`` (start over) and ``Greet`` (the message greeted us);
2. ``Acknowledge`` / ``Removed`` for every key that changed, in the order first touched;
3. ``Reject`` for every value that failed validation, with the value kept;
4. clarifications: ``ClarifyCity``, ``ClarifyCurrency``, ``ConfirmType``;
5. ``NotedUnknown`` when the prospect does not know what we asked;
6. a reaction when nothing was understood (``Reprompt``, ``Thanks``, ``Help``, ``Redirect``);
7. the follow-up: ``AskFields`` for what is missing, or ``Summary`` + ``BriefCompleted`` when
   the brief became complete or changed (the summary lists the values, so only changes to
   earlier values keep their ``Acknowledge``), ``Confirmed`` when the prospect approved the summary,
   or ``AskFields(())`` ("what would you like to change?") when they rejected it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import assert_never

from realty.domain.brief import (
    ARRANGEMENT_KEYS,
    Area,
    Brief,
    City,
    Language,
    Meta,
    Modality,
    Money,
    PropertyType,
    Scalar,
    Slot,
    same_meaning,
)
from realty.domain.fields import FieldRegistry
from realty.domain.figures import roundest
from realty.domain.market import HOME_CURRENCIES, Market
from realty.domain.state import (
    Acknowledge,
    Action,
    AlreadyConfirmed,
    Answered,
    AskFields,
    Blocked,
    BlockReason,
    BriefCompleted,
    ClarifyCity,
    ClarifyCurrency,
    Confirmed,
    ConfirmType,
    ConversationState,
    Greet,
    Help,
    NotedUnknown,
    Pending,
    PendingCity,
    PendingCurrency,
    PendingType,
    Redirect,
    Refined,
    Reject,
    Removed,
    Reprompt,
    Restarted,
    Summary,
    Thanks,
    Transition,
)
from realty.domain.turn import Candidate, TurnUpdate

# A language detected with this confidence switches a conversation that already has one.
SWITCH_CONFIDENCE = 0.8
# The first confident-enough message fixes the language of a new conversation.
LOCK_CONFIDENCE = 0.5
# Values the policy inferred rather than read (a currency from "$") carry this confidence.
INFERRED_CONFIDENCE = 0.8

# The market of a deployment that names none: Mexico, with the packaged exchange rates.
DEFAULT_MARKET = Market.default("MX")
# What "$" means to a prospect writing in English: the dollar.
_ENGLISH_SIGN = "USD"
# Currency marks that say "some dollar or peso" without saying which.
_AMBIGUOUS_MARKS: tuple[str | None, ...] = (None, "$")

BUDGET, CITY, PROPERTY_TYPE = "budget", "city", "property_type"
SIZE, PRICE_PER_M2 = "size", "price_per_m2"

_Value = Money | Area | PropertyType | City | Scalar


@dataclass
class _Turn:
    """The working copy of one turn; local to :func:`advance`, never shared."""

    base: ConversationState
    update: TurnUpdate
    registry: FieldRegistry
    turn: int
    language: Language
    locked: bool
    brief: Brief
    modality: Modality | None
    deferred: set[str]
    pending: Pending | None  # the pending question carried over, until resolved
    market: Market = DEFAULT_MARKET  # resolves a bare "$"; refine() resolves no currency
    opening: list[Action] = field(default_factory=list)
    clarifications: list[Action] = field(default_factory=list)
    raised: list[Pending] = field(default_factory=list)  # new questions raised this turn
    clarified: list[str] = field(default_factory=list)  # keys a clarification asks about
    touched: list[str] = field(default_factory=list)  # keys changed, in first-touch order
    budget_hint: str | None = None
    consumed: bool = False  # a signal or choice answered a pending question

    def touch(self, key: str) -> None:
        if key not in self.touched:
            self.touched.append(key)
        self.deferred.discard(key)

    def meta(self, candidate: Candidate) -> Meta:
        return Meta(
            confidence=candidate.confidence,
            source=candidate.source,
            turn=self.turn,
            span=candidate.span,
        )


def advance(
    state: ConversationState,
    update: TurnUpdate,
    registry: FieldRegistry,
    *,
    market: Market = DEFAULT_MARKET,
) -> Transition:
    """Continue the conversation with one validated message.

    Args:
        state: The conversation so far.
        update: The validated content of the new message.
        registry: The field registry (which fields are required, in which order).
        market: The deployment's market: what a bare "$" means and which currencies the
            currency question offers (its home currency first).

    Returns:
        The next state and the ordered actions the reply is made of; never raises and never
        returns a transition without something to say.
    """
    work = _start(state, update, registry, market)
    _answer_pending(work)
    for candidate in update.accepted:
        _apply(work, candidate)
    _budget_from_price(work)
    # One open question at a time, most important first: what the answer "the second one"
    # or "yes" refers to must be unambiguous.
    _check_cities(work)
    _resolve_currency(work)
    _price_currency(work)
    _check_type(work)
    changes = _changes(work)
    rejects = [Reject(rejection=r, kept=work.brief.get(r.candidate.key)) for r in update.rejected]
    noted = _defer(work)
    pending = _next_pending(work)
    reaction = _reaction(work)
    actions: list[Action] = [*work.opening, *changes, *rejects]
    if reaction is not None:
        actions.append(reaction)
    actions.extend([*work.clarifications, *noted])
    return _finish(work, actions, pending)


def refuse(
    state: ConversationState,
    reason: BlockReason,
    registry: FieldRegistry,
    *,
    limit: int | None = None,
    length: int | None = None,
) -> Transition:
    """A message the guard refused: the state stays exactly as it was.

    A message over a limit is only told why. An attack (injection, jailbreak, …) is refused
    and the prospect is led back to the brief: the question still open, else the required
    fields still missing (none once the brief is complete).

    Args:
        state: The conversation so far (returned unchanged).
        reason: The guard's category.
        registry: The field registry (which fields are required, in which order).
        limit: The limit that was exceeded (``too_long``).
        length: The message's length (``too_long``).

    Returns:
        The unchanged state and the refusal, with the way back to the brief.
    """
    actions: list[Action] = [Blocked(reason=reason, limit=limit, length=length)]
    if reason not in ("empty", "too_long") and state.phase == "collecting":
        ask = state.asked or tuple(state.brief.missing(registry.required))
        if ask:
            actions.append(AskFields(keys=tuple(ask)))
    return Transition(state=state, actions=tuple(actions))


def answer(transition: Transition, answered: Answered) -> Transition:
    """``transition`` with a question answered outside the brief.

    The answer takes the place of the generic help, redirect or re-prompt line, and of the
    reminder that the brief is already confirmed (the "ok" of "ok, can a broker call me?"
    confirms nothing new), and comes first (after a greeting); what the message also said,
    and the question still open, follow as usual. The state is unchanged: answering a
    question fills nothing.
    """
    generic = Help | Redirect | Reprompt | AlreadyConfirmed
    kept = [a for a in transition.actions if not isinstance(a, generic)]
    at = 1 if kept and isinstance(kept[0], Greet) else 0
    return transition.model_copy(update={"actions": (*kept[:at], answered, *kept[at:])})


def refine(
    state: ConversationState, update: TurnUpdate, registry: FieldRegistry, turn: int
) -> Transition:
    """Add what a slower reading of user turn ``turn`` found, after its reply was sent.

    Only values the brief lacks, or a guess made on that same turn (a value still
    unconfirmed), are taken: a later turn's value always stands. No turn is counted and no
    question is asked again; the reply is a short acknowledgement (``Refined``), followed by
    the question about a kind proposed for a described business (when no other question is
    open), or by the summary when this completes the brief. A refinement that changes nothing
    yields no actions.

    Args:
        state: The conversation as it is now (possibly after later turns).
        update: The validated values of the slower reading.
        registry: The field registry.
        turn: The user turn whose message was read.
    """
    work = _Turn(
        base=state,
        update=update,
        registry=registry,
        turn=turn,
        language=state.language,
        locked=state.language_locked,
        brief=state.brief,
        modality=state.modality,
        deferred=set(state.deferred),
        pending=state.pending,
    )
    for candidate in update.accepted:
        slot = state.brief.get(candidate.key)
        if slot is None or (slot.meta.turn == turn and slot.meta.status == "unconfirmed"):
            _apply(work, candidate)
    acks = tuple(a for a in _changes(work) if isinstance(a, Acknowledge))
    if not acks:
        return Transition(state=state, actions=())
    if state.pending is None:
        _check_type(work)  # a kind proposed for a described business is asked about now
    if work.raised:  # the question names the kind: it is not "noted" too
        acks = tuple(a for a in acks if a.key != PROPERTY_TYPE)
    actions: list[Action] = [Refined(acks=acks)] if acks else []
    actions += work.clarifications
    pending = work.raised[0] if work.raised else state.pending
    missing = work.brief.missing(registry.required)
    complete = not missing and pending is None
    if complete and state.phase != "complete":
        actions += [Summary(brief=work.brief, changed=False), BriefCompleted(brief=work.brief)]
    next_state = state.model_copy(
        update={
            "brief": work.brief,
            "pending": pending,
            "phase": "complete" if complete else state.phase,
            "asked": tuple(k for k in state.asked if k in missing),
            "deferred": frozenset(work.deferred),
            "modality": work.modality,
            "completed_once": state.completed_once or complete,
        }
    )
    return Transition(state=next_state, actions=tuple(actions))


# ---- 1–2: turn, language, start over ----


def _language(state: ConversationState, update: TurnUpdate) -> tuple[Language, bool]:
    if update.language is None:
        return state.language, state.language_locked
    threshold = SWITCH_CONFIDENCE if state.language_locked else LOCK_CONFIDENCE
    if update.language_confidence >= threshold:
        return update.language, True
    return state.language, state.language_locked


def _start(
    state: ConversationState, update: TurnUpdate, registry: FieldRegistry, market: Market
) -> _Turn:
    language, locked = _language(state, update)
    opening: list[Action] = []
    base = state
    if "start_over" in update.signals:
        # A fresh conversation that remembers only who we are talking to (the language);
        # values in the same message ("start over: a warehouse") still apply below.
        base = ConversationState(
            brief=Brief(language=language), language=language, language_locked=locked
        )
        opening.append(Restarted())
    if "greeting" in update.signals:
        opening.append(Greet())
    return _Turn(
        base=base,
        update=update,
        registry=registry,
        turn=state.turn + 1,
        language=language,
        locked=locked,
        brief=base.brief.with_language(language),
        modality=base.modality,
        deferred=set(base.deferred),
        pending=base.pending,
        market=market,
        opening=opening,
    )


# ---- answers to the question we asked last turn ----


def _answer_pending(work: _Turn) -> None:
    pending = work.pending
    if pending is None:
        return
    if isinstance(pending, PendingType):
        _answer_type(work)
    elif isinstance(pending, PendingCurrency):
        _answer_currency(work, pending)
    elif isinstance(pending, PendingCity):
        _answer_city(work, pending)
    else:
        assert_never(pending)


def _mentions(work: _Turn, key: str) -> bool:
    return any(c.key == key for c in work.update.accepted)


def _answer_type(work: _Turn) -> None:
    if _mentions(work, PROPERTY_TYPE):
        return  # the new type replaces the unusual one
    signals = work.update.signals
    slot = work.brief.get(PROPERTY_TYPE)
    if "deny" in signals:
        # Dropped quietly: the follow-up asks for the property type again.
        work.brief = work.brief.without(PROPERTY_TYPE)
    elif "affirm" in signals and slot is not None:
        meta = slot.meta.model_copy(update={"status": "valid"})
        value = slot.value
        if isinstance(value, PropertyType) and value.proposed:
            value = value.model_copy(update={"proposed": False})
        confirmed = slot.model_copy(update={"meta": meta, "value": value})
        work.brief = work.brief.with_slot(PROPERTY_TYPE, confirmed)
        work.opening.append(Acknowledge(key=PROPERTY_TYPE, slot=confirmed))
    else:
        return
    work.pending = None
    work.consumed = True


def _answer_currency(work: _Turn, pending: PendingCurrency) -> None:
    choice = work.update.choice
    slot = work.brief.get(BUDGET)
    if choice is None or not 0 <= choice < len(pending.options) or slot is None:
        return
    if not isinstance(slot.value, Money) or slot.value.currency is not None:
        return
    value = slot.value.model_copy(update={"currency": pending.options[choice]})
    meta = Meta(status="valid", source=slot.meta.source, turn=work.turn, span=slot.meta.span)
    work.brief = work.brief.with_slot(BUDGET, Slot(value=value, meta=meta))
    work.touch(BUDGET)
    work.pending = None
    work.consumed = True


def _answer_city(work: _Turn, pending: PendingCity) -> None:
    # Only the parser can turn an option into a place (it knows the gazetteer); a choice it
    # did not resolve into a city candidate is asked again with the same options.
    if work.update.choice is None or _mentions(work, CITY):
        return
    work.clarifications.append(_clarify_city(pending))
    work.raised.append(pending)
    work.clarified.append(CITY)
    work.consumed = True


# ---- 3: applying the accepted candidates ----


def _apply(work: _Turn, candidate: Candidate) -> None:
    op = candidate.op
    if op == "remove":
        held = work.brief.get(candidate.key)
        if candidate.value is not None and (
            held is None or not same_meaning(held.value, candidate.value)
        ):
            return  # "forget Monterrey" withdraws Monterrey only, not another city
        work.brief = work.brief.without(candidate.key)
        work.touch(candidate.key)
    elif op == "merge":
        _merge(work, candidate)
    elif op == "set":
        _set(work, candidate, candidate.value)
    else:
        assert_never(op)


def _merge(work: _Turn, candidate: Candidate) -> None:
    value = candidate.value
    if value is None:
        return
    existing = work.brief.get(candidate.key)
    if (
        existing is None
        and candidate.key == BUDGET
        and isinstance(value, Money)
        and _only_modality(value)
    ):
        # "to rent" before any figure: remembered until a budget arrives.
        work.modality = value.modality
        return
    if existing is not None and type(existing.value) is type(value):
        updates = {k: v for k, v in value.model_dump(exclude={"kind"}).items() if v is not None}
        if isinstance(value, Money) and "amount" in updates:
            # A new figure replaces the old range unless the message gave a range too.
            updates.setdefault("min", None)
            updates.setdefault("max", None)
        value = existing.value.model_copy(update=updates)
    _set(work, candidate, value)


def _same_kind_proposed(work: _Turn, key: str, value: _Value) -> bool:
    """A business described again whose usual kind is the kind the brief holds, settled."""
    held = work.brief.get(key)
    return (
        isinstance(value, PropertyType)
        and value.proposed
        and held is not None
        and isinstance(held.value, PropertyType)
        and held.value.value == value.value
        and held.meta.status == "valid"
    )


def _only_modality(money: Money) -> bool:
    rest = (money.amount, money.currency, money.period, money.min, money.max)
    return money.modality is not None and all(x is None for x in rest)


def _set(work: _Turn, candidate: Candidate, value: _Value | None) -> None:
    if value is None:
        return
    if _same_kind_proposed(work, candidate.key, value):
        return  # "yes, a gym" after "commercial space": the kind held already says it
    meta = work.meta(candidate)
    if isinstance(value, Money) and candidate.key == BUDGET:
        value, inferred = _carry_budget(work, value, candidate.value)
        work.budget_hint = candidate.currency_hint
        if inferred:
            meta = _inferred(meta)
        elif not value.is_complete():
            meta = _unconfirmed(meta)
    elif isinstance(value, PropertyType) and _to_confirm(value):
        meta = _unconfirmed(meta)
    work.brief = work.brief.with_slot(candidate.key, Slot(value=value, meta=meta))
    work.touch(candidate.key)


def _carry_budget(work: _Turn, money: Money, said: _Value | None) -> tuple[Money, bool]:
    """Fill what a new figure leaves open from the current budget and the held modality.

    "Actually 30,000" keeps the currency, period and rent/buy already agreed. The flag says
    whether the resulting currency is one we only assumed (the message did not state it and
    the budget it came from was itself an assumption).
    """
    updates: dict[str, object] = {}
    old = work.brief.get(BUDGET)
    old_money = old.value if old is not None and isinstance(old.value, Money) else None
    if old_money is not None:
        for name in ("currency", "period", "modality"):
            if getattr(money, name) is None and getattr(old_money, name) is not None:
                updates[name] = getattr(old_money, name)
    if money.modality is None and "modality" not in updates and work.modality is not None:
        updates["modality"] = work.modality
    work.modality = None
    result = money.model_copy(update=updates)
    stated = isinstance(said, Money) and said.currency is not None
    inferred = (
        not stated
        and old is not None
        and old_money is not None
        and _is_inferred(old)
        and result.currency == old_money.currency
    )
    return result, inferred


def _is_inferred(slot: Slot) -> bool:
    # A complete budget is only ever unconfirmed because its currency was assumed.
    return slot.meta.status == "unconfirmed" and slot.value.is_complete()


def _inferred(meta: Meta) -> Meta:
    return meta.model_copy(update={"status": "unconfirmed", "confidence": INFERRED_CONFIDENCE})


def _unconfirmed(meta: Meta) -> Meta:
    return meta.model_copy(update={"status": "unconfirmed"})


def _budget_from_price(work: _Turn) -> None:
    """A price per m² and a size give the budget: the rate times the size.

    Applied when either arrives (in any order, in any turn) and the message did not state a
    budget itself; a message that states both already carries the exact total.
    """
    if _mentions(work, BUDGET) or not ({PRICE_PER_M2, SIZE} & set(work.touched)):
        return
    price, size = work.brief.get(PRICE_PER_M2), work.brief.get(SIZE)
    if price is None or size is None:
        return
    rate, area = price.value, size.value
    if not isinstance(rate, Money) or not isinstance(area, Area) or rate.amount is None:
        return
    total = roundest(rate.amount * area.m2, _ROUNDED * (rate.amount + area.m2))
    money = rate.model_copy(update={"amount": total, "min": None, "max": None, "original": None})
    meta = price.meta.model_copy(update={"turn": work.turn, "span": None})
    if not money.is_complete():
        meta = _unconfirmed(meta)
    work.brief = work.brief.with_slot(BUDGET, Slot(value=money, meta=meta))
    work.touch(BUDGET)


# Half a cent, or half a hundredth of a m²: how far a stored figure may be from the one said
# (both are kept to two decimals).
_ROUNDED = 0.005


def _price_currency(work: _Turn) -> None:
    """A price per m² written with a bare "$" takes the currency settled for its budget."""
    price, budget = work.brief.get(PRICE_PER_M2), work.brief.get(BUDGET)
    if price is None or budget is None or PRICE_PER_M2 not in work.touched:
        return
    rate, money = price.value, budget.value
    if not (isinstance(rate, Money) and isinstance(money, Money)) or rate.currency is not None:
        return
    if money.currency is not None:
        value = rate.model_copy(update={"currency": money.currency})
        work.brief = work.brief.with_slot(PRICE_PER_M2, Slot(value=value, meta=budget.meta))


# ---- 4–6: currency, unusual property types, unknown cities ----


def _resolve_currency(work: _Turn) -> None:
    slot = work.brief.get(BUDGET)
    if BUDGET not in work.touched or slot is None or not isinstance(slot.value, Money):
        return
    money = slot.value
    if money.amount is None or money.currency is not None:
        return
    currency = _infer_currency(work)
    if currency is None and work.raised:
        return  # another question is open; the budget is asked for again once it is answered
    if currency is None:
        options = (work.market.home_currency, work.market.foreign_currency)
        work.clarifications.append(ClarifyCurrency(amount=money.amount, options=options))
        work.raised.append(PendingCurrency(options=options))
        work.clarified.append(BUDGET)
        return
    value = money.model_copy(update={"currency": currency})
    work.brief = work.brief.with_slot(BUDGET, Slot(value=value, meta=_inferred(slot.meta)))


def _infer_currency(work: _Turn) -> str | None:
    """The currency a bare "$" or figure most likely means, or ``None`` when truly ambiguous.

    In Spanish "$" is the local currency: the market's own (the peso in Mexico, the dollar in
    a US market). In English it is the dollar, except for a property in a country whose own
    currency is written "$" too (the peso in Mexico), where both are quoted in practice, so
    we ask.
    """
    if work.budget_hint not in _AMBIGUOUS_MARKS:
        return None
    if work.language == "es":
        return work.market.home_currency
    city = work.brief.get(CITY)
    if city is not None and isinstance(city.value, City):
        local = HOME_CURRENCIES.get(city.value.country, _ENGLISH_SIGN)
        if local != _ENGLISH_SIGN:
            return None
    return _ENGLISH_SIGN


def _check_type(work: _Turn) -> None:
    slot = work.brief.get(PROPERTY_TYPE)
    if work.raised or slot is None or slot.meta.status != "unconfirmed":
        return
    carried = work.base.pending
    # Asked when the type arrives, or once the question that postponed it has been answered.
    postponed = (
        carried is not None
        and not isinstance(carried, PendingType)
        and bool(work.update.accepted or work.consumed)
    )
    if PROPERTY_TYPE not in work.touched and not postponed:
        return
    value = slot.value
    if isinstance(value, PropertyType) and _to_confirm(value):
        text = value.text or ""
        proposal = value.value if value.proposed else None
        work.clarifications.append(ConfirmType(text=text, proposal=proposal))
        work.raised.append(PendingType(text=text, proposal=proposal))
        if value.proposed:
            work.clarified.append(PROPERTY_TYPE)  # the confirmation is the question


def _to_confirm(value: PropertyType) -> bool:
    """An unusual kind (``other``) or one inferred from a business is asked about first."""
    return value.value == "other" or value.proposed


def _check_cities(work: _Turn) -> None:
    unknown = work.update.unknown_cities
    if not unknown or _mentions(work, CITY) or work.raised or _noise(work):
        return
    first = unknown[0]
    pending = PendingCity(
        text=first.text, options=first.suggestions, options_from=first.options_from
    )
    work.clarifications.append(_clarify_city(pending))
    if first.suggestions:
        work.clarified.append(CITY)
        work.raised.append(pending)
    # Without suggestions the follow-up question simply asks for the city again.


def _clarify_city(pending: PendingCity) -> ClarifyCity:
    return ClarifyCity(
        text=pending.text, options=pending.options, options_from=pending.options_from
    )


# ---- acknowledgements and "I don't know" ----


def _changes(work: _Turn) -> list[Action]:
    out: list[Action] = []
    for key in work.touched:
        before = work.base.brief.get(key)
        after = work.brief.get(key)
        if after is None:
            if before is not None:
                out.append(Removed(key=key))
        elif before is None or not same_meaning(before.value, after.value):
            out.append(Acknowledge(key=key, slot=after, previous=before))
    return out


def _defer(work: _Turn) -> list[Action]:
    if "dont_know" not in work.update.signals:
        return []
    missing = set(work.brief.missing(work.registry.required))
    # "I don't know the budget yet": that one, when it was asked; else all that was asked.
    asked = [k for k in work.base.asked if k in missing and k not in work.touched]
    named = work.update.unknown_about
    if named & set(work.registry.required):
        # Only what it names, and nothing when that was just given ("no tengo presupuesto
        # para más de 20 mil" states the budget).
        keys = tuple(k for k in asked if k in named)
    else:
        keys = tuple(asked)
    if not keys:
        return []
    work.deferred.update(keys)
    work.consumed = True
    return [NotedUnknown(keys=keys)]


# ---- 9–11: the follow-up and the next state ----


def _next_pending(work: _Turn) -> Pending | None:
    if work.raised:
        return work.raised[0]
    carried = work.pending
    if isinstance(carried, PendingType) and _awaits_yes(work):
        # "actually the budget is 3000": taken, and the kind proposed still awaits its yes.
        work.clarifications.append(ConfirmType(text=carried.text, proposal=carried.proposal))
        work.clarified.append(PROPERTY_TYPE)
        return carried
    if carried is None or work.update.accepted or work.update.rejected or work.consumed:
        # Resolved, or the prospect moved on to something else.
        return None
    # Nothing new was said: the open question stands and is asked again.
    question = _reask(work, carried)
    if question is None:
        return None
    work.clarifications.append(question)
    return carried


def _awaits_yes(work: _Turn) -> bool:
    """Whether the brief's kind is still a proposal this message did not answer."""
    slot = work.brief.get(PROPERTY_TYPE)
    return (
        PROPERTY_TYPE not in work.touched
        and _proposed(work, PROPERTY_TYPE)
        and slot is not None
        and slot.meta.status == "unconfirmed"
    )


def _proposed(work: _Turn, key: str) -> bool:
    """Whether ``key`` holds a kind proposed for a described business, awaiting its yes."""
    slot = work.brief.get(key)
    return (
        key == PROPERTY_TYPE
        and slot is not None
        and isinstance(slot.value, PropertyType)
        and slot.value.proposed
    )


def _reask(work: _Turn, pending: Pending) -> Action | None:
    if isinstance(pending, PendingCity):
        work.clarified.append(CITY)
        return _clarify_city(pending)
    if isinstance(pending, PendingType):
        return ConfirmType(text=pending.text, proposal=pending.proposal)
    if isinstance(pending, PendingCurrency):
        slot = work.brief.get(BUDGET)
        if slot is None or not isinstance(slot.value, Money) or slot.value.amount is None:
            return None
        work.clarified.append(BUDGET)
        return ClarifyCurrency(amount=slot.value.amount, options=pending.options)
    assert_never(pending)


def _noise(work: _Turn) -> bool:
    """A message of no recognisable words: any "place" found in it is noise too."""
    return "gibberish" in work.update.signals and not work.update.accepted


def _understood(work: _Turn) -> bool:
    update = work.update
    return bool(
        update.accepted
        or update.rejected
        or (update.unknown_cities and not _noise(work))
        or update.choice is not None
        or work.consumed
        or "start_over" in update.signals
        or bool(_to_change(work))
    )


def _reaction(work: _Turn) -> Action | None:
    """What to say to a message that carried no values (step 10 of the policy)."""
    signals = work.update.signals
    if _understood(work) or "switch_language" in signals:
        # A language switch is answered by the follow-up question, in the new language.
        return None
    if "gibberish" in signals:
        return Reprompt()
    if "thanks" in signals:
        return Thanks()
    if "help" in signals:
        return Help()
    if "off_topic" in signals or not signals:
        # Off topic (even when phrased as a question), or words we could not place at all.
        return Redirect()
    if "question" in signals:
        return Help()
    # A bare greeting was answered in the opening; "yes", "no", "actually", "not sure" are
    # conversational: the follow-up question is the answer.
    return None


def _ask_keys(
    work: _Turn, missing: list[str], noted: bool, pending: Pending | None
) -> tuple[str, ...]:
    # A kind proposed for a business, while another question is open, is not missing: its
    # yes is asked once that question is answered ("restaurant" → retail, then "60 mil" asks
    # the currency first, then whether retail is right).
    askable = [
        k
        for k in missing
        if k not in work.clarified and not (pending is not None and _proposed(work, k))
    ]
    fresh = [k for k in askable if k not in work.deferred]
    if fresh:
        return tuple(fresh)
    if noted:
        return ()  # just told us they don't know: do not ask again in the same breath
    return tuple(askable)


def _finish(work: _Turn, actions: list[Action], pending: Pending | None) -> Transition:
    missing = work.brief.missing(work.registry.required)
    complete = not missing and pending is None
    asked: tuple[str, ...] = ()
    if complete:
        follow = _complete(work, actions)
        if any(isinstance(a, Summary) for a in follow):
            # The summary lists every value; only changes to earlier values are announced.
            actions = [a for a in actions if not _is_new_value(a)]
        actions.extend(follow)
        # A value asked for again: a bare answer ("300") is that value.
        asked = next((a.keys for a in follow if isinstance(a, AskFields)), ())
    else:
        noted = any(isinstance(a, NotedUnknown) for a in actions)
        ask = _ask_keys(work, missing, noted, pending)
        if pending is None:
            ask = _in_order(work.registry, [*_to_change(work), *ask])
        if ask:
            actions.append(AskFields(keys=ask))
        asked = _in_order(work.registry, [*work.clarified, *ask])
    if not any(_renders(a) for a in actions):
        actions.append(Reprompt())
    state = ConversationState(
        brief=work.brief,
        turn=work.turn,
        language=work.language,
        language_locked=work.locked,
        phase="complete" if complete else "collecting",
        asked=asked,
        pending=pending,
        deferred=frozenset(work.deferred),
        modality=work.modality,
        completed_once=work.base.completed_once or complete,
        shown=work.base.shown,
        handoff=work.base.handoff,
        simulating=work.base.simulating,
        confirmed=_still_confirmed(work, actions),
    )
    return Transition(state=state, actions=tuple(actions))


def _still_confirmed(work: _Turn, actions: Sequence[Action]) -> bool:
    """Whether the brief stands confirmed after this turn: confirmed now, or before and not
    summarised again since (a change asks for a new confirmation)."""
    if any(isinstance(a, Confirmed | AlreadyConfirmed) for a in actions):
        return True
    return work.base.confirmed and not any(isinstance(a, Summary | AskFields) for a in actions)


def _complete(work: _Turn, so_far: list[Action]) -> list[Action]:
    """The follow-up once nothing is missing and no question is open.

    A contact left for the broker, or the day for a visit, changes nothing the prospect is
    looking for: it is noted, and a brief already complete (or confirmed) is not summarised
    again for it.
    """
    changed = any(
        isinstance(a, Acknowledge | Removed) and a.key not in ARRANGEMENT_KEYS for a in so_far
    )
    if changed or work.base.phase != "complete":
        brief = work.brief
        return [
            Summary(brief=brief, changed=work.base.completed_once and changed),
            BriefCompleted(brief=brief),
        ]
    signals = work.update.signals
    redo = _to_change(work)
    if work.base.pending is None and redo:
        return [AskFields(keys=redo)]  # "the size is wrong": what is it, then?
    if work.base.pending is None and "affirm" in signals and "deny" not in signals:
        work.brief = _confirm_all(work.brief)
        return [AlreadyConfirmed() if work.base.confirmed else Confirmed()]
    if work.base.pending is None and "deny" in signals:
        return [AskFields(keys=())]  # "what would you like to change?"
    if any(_renders(a) for a in so_far):
        return []
    return [Summary(brief=work.brief, changed=False)]


def _to_change(work: _Turn) -> tuple[str, ...]:
    """The values the message says are wrong without giving new ones ("the size is wrong",
    "quiero cambiar la ciudad"), to ask for again."""
    named = work.update.to_change
    keys = [k for k in named if k in work.brief.slots and k not in work.touched]
    return _in_order(work.registry, keys)


def _is_new_value(action: Action) -> bool:
    if not isinstance(action, Acknowledge):
        return False
    return action.previous is None or not action.previous.value.is_complete()


def _confirm_all(brief: Brief) -> Brief:
    """The prospect approved the summary: every assumed value becomes a valid one."""
    for key, slot in brief.slots.items():
        if slot.meta.status == "unconfirmed" and slot.value.is_complete():
            meta = slot.meta.model_copy(update={"status": "valid"})
            brief = brief.with_slot(key, slot.model_copy(update={"meta": meta}))
    return brief


def _in_order(registry: FieldRegistry, keys: list[str]) -> tuple[str, ...]:
    order = {spec.key: i for i, spec in enumerate(registry.specs)}
    unique = dict.fromkeys(keys)
    return tuple(sorted(unique, key=lambda k: order.get(k, len(order))))


def _renders(action: Action) -> bool:
    """Whether an action produces words in the reply (``BriefCompleted`` is a hook only)."""
    return not isinstance(action, BriefCompleted)
