"""The reply stage: turns a :class:`~realty.domain.state.Transition` into text.

Replies come from the templates in :mod:`realty.pipeline.templates`, in the conversation's
language, so they are instant and deterministic. Each action renders to zero or more
sentences; the sentences are joined with spaces. ``BriefCompleted`` is a hook for follow-up
features and renders nothing; when a ``Summary`` is part of the same reply, new values are
not acknowledged one by one (the summary lists them), while updates and removals still are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import date
from typing import assert_never

from realty.domain.brief import (
    CORE_FIELDS,
    Area,
    Brief,
    City,
    Language,
    Money,
    PropertyType,
    Scalar,
    Slot,
)
from realty.domain.fields import FieldRegistry
from realty.domain.state import (
    Acknowledge,
    Action,
    AlreadyConfirmed,
    Answered,
    AskFields,
    Blocked,
    BriefCompleted,
    ClarifyCity,
    ClarifyCurrency,
    Confirmed,
    ConfirmType,
    Greet,
    Help,
    NotedUnknown,
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
from realty.pipeline import templates as t

_WORD = re.compile(r"[^\W\d_]+")

# Acknowledgements are grouped into one sentence per kind, in this order.
_NEW, _EXTRA, _UPDATED = "new", "extra", "updated"


def _say(key: str, language: Language, **values: str) -> str:
    return t.PHRASES[key][language].format(**values)


def join(items: Sequence[str], language: Language, word: str = "and") -> str:
    """Join items the way a person writes a list: "A", "A and B", "A, B and C".

    Args:
        items: The parts, in order.
        language: ``en`` joins with "and"/"or", ``es`` with "y"/"o".
        word: ``"and"`` or ``"or"``.

    Returns:
        The joined text ("" for no items).
    """
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_say(word, language)} {items[-1]}"


def number(value: float) -> str:
    """A figure with thousands commas: ``20000`` → ``20,000``; ``1500.5`` → ``1,500.50``."""
    if not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _metres(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    # Converted areas carry meaningless decimals (5,000 sq ft = 464.5152 m²).
    if abs(value) >= 10:
        return number(round(value))
    return f"{value:.1f}".removesuffix(".0")


def money(value: Money, language: Language, *, short: bool = False) -> str:
    """A budget as prospects write it: ``20,000 USD``, ``$150,000 MXN al mes``.

    Args:
        value: The budget (complete or partial).
        language: The conversation language.
        short: The compact form of a form or sidebar (``20,000 USD / month, rent``).

    Returns:
        The figure (or range), currency, period and rent/buy, as far as they are known.
    """
    figure = _figure(value, language)
    currency = value.currency or ""
    if figure and currency == "MXN" and language == "es":
        figure = f"${figure}"  # the peso sign, as written in Mexico
    parts = [p for p in (figure, currency) if p]
    periods = t.SHORT_PERIODS if short else t.PERIODS
    if value.period is not None:
        parts.append(periods[language][value.period])
    text = " ".join(parts)
    if value.modality is None:
        return text
    if short:
        return f"{text}, {t.SHORT_MODALITIES[language][value.modality]}" if text else text
    return f"{text} {t.MODALITIES[language][value.modality]}".strip()


def _figure(value: Money, language: Language) -> str:
    low, high = value.min, value.max
    if low is not None and high is not None and low != high:
        return f"{number(low)}–{number(high)}"
    if value.amount is not None:
        return number(value.amount)
    if high is not None:
        return number(high)
    if low is not None:
        return _say("from", language, value=number(low))
    return ""


def area(value: Area) -> str:
    """A surface: ``500 m²``, ``400–500 m²``, or ``465 m² (5,000 sq ft)`` after conversion."""
    low, high = value.min_m2, value.max_m2
    if low is not None and high is not None and low != high:
        text = f"{_metres(low)}–{_metres(high)} m²"
    else:
        text = f"{_metres(value.m2)} m²"
    original = (value.original or "").strip()
    words = {w.lower() for w in _WORD.findall(original)}
    if words & t.FOREIGN_AREA_UNITS:
        text = f"{text} ({original})"
    return text


def day(iso: str, language: Language) -> str:
    """An ISO date spelled out: ``March 1, 2026`` / ``1 de marzo de 2026``."""
    try:
        when = date.fromisoformat(iso)
    except ValueError:
        return iso
    month = t.MONTHS[language][when.month - 1]
    if language == "es":
        return f"{when.day} de {month} de {when.year}"
    return f"{month} {when.day}, {when.year}"


def city_name(value: City, language: Language) -> str:
    """The city as the prospect would write it in their language."""
    if language == "es":
        return t.CITY_NAMES_ES.get(value.value, value.value)
    return value.value


def kind_name(value: PropertyType, language: Language) -> str:
    """The property kind in words; an unusual kind keeps the prospect's own words."""
    if value.value == "other" and value.text:
        return value.text
    return t.KIND_NAMES[language][value.value]


class Responder:
    """Renders transitions as replies in the conversation language."""

    def __init__(self, registry: FieldRegistry) -> None:
        """Create a responder.

        Args:
            registry: The field registry, for labels and the question of each field.
        """
        self._registry = registry

    def render(self, transition: Transition, language: Language | None = None) -> str:
        """The reply for ``transition``; never empty.

        Args:
            transition: The result of :func:`realty.domain.machine.advance`.
            language: Reply in this language instead of the conversation's (a refused
                message that was clearly in another language, before any was settled).

        Returns:
            The reply text in ``language`` or else ``transition.state.language``.
        """
        language = language or transition.state.language
        actions = transition.actions
        summarised = any(isinstance(a, Summary) for a in actions)
        sentences: list[str] = []
        # A budget without its amount ("in pesos per month") is not a value to repeat back:
        # the question for the amount says what is known of it.
        acks = [a for a in actions if isinstance(a, Acknowledge) and not _amountless(a.slot)]
        rest = [a for a in actions if not isinstance(a, Acknowledge)]
        # The opening comes first ("¡Hola! Perfecto: oficina en…"); a greeting followed by
        # details is just "Hi!", the introduction being for a bare greeting.
        for action in [a for a in rest if isinstance(a, Restarted | Greet)]:
            short = isinstance(action, Greet) and bool(acks)
            sentences.append(
                _say("greet_short", language)
                if short
                else self._action(action, transition, language)
            )
            rest.remove(action)
        if acks:
            sentences.extend(self._acknowledge(acks, language, summarised))
        sentences.extend(self._action(action, transition, language) for action in rest)
        return _join([s for s in sentences if s]) or _say("fallback", language)

    # ---- one action ----

    def _action(self, action: Action, transition: Transition, language: Language) -> str:
        simple = _simple(action, transition, language)
        if simple is not None:
            return simple
        return self._detailed(action, transition, language)

    def _detailed(self, action: Action, transition: Transition, language: Language) -> str:
        match action:
            case AskFields():
                # Fields the prospect said they did not know yet are asked for more gently.
                again = bool(action.keys) and set(action.keys) <= transition.state.deferred
                partial = transition.state.brief.get("budget")
                known = partial if partial is not None and _amountless(partial) else None
                return self._ask(action.keys, language, again=again, budget=known)
            case Removed():
                return _say("removed", language, label=self._label(action.key, language))
            case Reject():
                return self._reject(action, language)
            case ClarifyCity():
                return self._clarify_city(action, language)
            case ClarifyCurrency():
                return self._clarify_currency(action, language)
            case NotedUnknown():
                return self._noted(action, transition, language)
            case Summary():
                return self._summary(action, language)
            case Refined():
                items = self._items([(a.key, a.slot) for a in action.acks], language)
                return _say("also_noted", language, items=join(items, language))
            case _:
                return ""

    def _ask(
        self, keys: Sequence[str], language: Language, *, again: bool, budget: Slot | None = None
    ) -> str:
        if not keys:
            return _say("change_what", language)
        questions = [
            _say("ask_amount", language, known=self._value(budget, language))
            if key == "budget" and budget is not None
            else self._question(key, language)
            for key in keys
        ]
        starts = t.CLAUSE_STARTS[language]
        clause = any(q.split(" ", 1)[0].lower() in starts for q in questions)
        frame = "ask_again" if again else ("ask_tell" if clause else "ask_what")
        return _say(frame, language, items=join(questions, language))

    def _noted(self, action: NotedUnknown, transition: Transition, language: Language) -> str:
        subjects = [self._subject(k, language) for k in action.keys]
        text = _say("noted_unknown", language, items=join(subjects, language))
        if not any(
            isinstance(a, AskFields) or (isinstance(a, Answered) and a.topic == "market")
            for a in transition.actions
        ):
            # Nothing else is asked in this reply (a price reference ends with its own
            # invitation): leave the door open instead.
            text = f"{text} {_say('noted_unknown_tail', language)}"
        return text

    def _question(self, key: str, language: Language) -> str:
        spec = self._registry.spec(key)
        if spec is not None and spec.ask is not None:
            return spec.ask(language)
        return self._subject(key, language)

    def _label(self, key: str, language: Language) -> str:
        return self._registry.label(key, language)

    def _subject(self, key: str, language: Language) -> str:
        """The field as the subject of a sentence: "the budget" / "el presupuesto"."""
        label = self._label(key, language)
        if language == "en":
            return f"the {label}"
        article = t.ES_ARTICLES.get(key)
        return f"{article} {label}" if article else f"el dato «{label}»"

    # ---- acknowledgements ----

    def _acknowledge(
        self, acks: Sequence[Acknowledge], language: Language, summarised: bool
    ) -> list[str]:
        groups: dict[str, list[Acknowledge]] = {_NEW: [], _EXTRA: [], _UPDATED: []}
        for ack in acks:
            groups[self._group(ack)].append(ack)
        out = [self._updated(a, language) for a in groups[_UPDATED]]
        if summarised:
            return out  # the summary that follows lists every new value
        if groups[_NEW]:
            items = self._items([(a.key, a.slot) for a in groups[_NEW]], language)
            out.insert(0, _say("got_it", language, items=join(items, language)))
        if groups[_EXTRA]:
            items = self._items([(a.key, a.slot) for a in groups[_EXTRA]], language)
            out.append(_say("noted", language, items=join(items, language)))
        return out

    def _group(self, ack: Acknowledge) -> str:
        previous = ack.previous
        is_bool = isinstance(ack.slot.value, Scalar) and ack.slot.value.kind == "bool"
        if previous is not None and previous.value.is_complete() and not is_bool:
            return _UPDATED
        return _NEW if self._is_core(ack.key) else _EXTRA

    def _is_core(self, key: str) -> bool:
        return key in CORE_FIELDS or key in self._registry.required

    def _updated(self, ack: Acknowledge, language: Language) -> str:
        old = ack.previous.value if ack.previous is not None else None
        return _say(
            "updated",
            language,
            subject=self._subject(ack.key, language),
            new=self._value(ack.slot, language),
            old=self._value(Slot(value=old), language) if old is not None else "",
        )

    def _items(self, pairs: Sequence[tuple[str, Slot]], language: Language) -> list[str]:
        """Labelled values; a property type and a city read together ("office in Mexico City")."""
        slots = dict(pairs)
        kind, place = slots.get("property_type"), slots.get("city")
        out: list[str] = []
        for key, slot in pairs:
            if key == "city" and kind is not None:
                continue
            if key == "property_type" and place is not None:
                out.append(
                    _say(
                        "kind_in_city",
                        language,
                        kind=self._item(key, slot, language),
                        city=self._item("city", place, language),
                    )
                )
                continue
            out.append(self._item(key, slot, language))
        return out

    def _item(self, key: str, slot: Slot, language: Language) -> str:
        """One value as a list item, with its label where the value alone would be unclear."""
        value = slot.value
        text = self._value(slot, language)
        if isinstance(value, Money):
            text = _say("money_item", language, label=self._label(key, language), value=text)
        elif isinstance(value, Scalar):
            text = self._scalar_item(key, value, language)
        elif isinstance(value, Area) and key != "size":
            text = _say("labelled", language, label=self._label(key, language), value=text)
        return f"{text} {self._mark(slot, language)}".rstrip()

    def _scalar_item(self, key: str, value: Scalar, language: Language) -> str:
        label = self._label(key, language)
        if value.kind == "bool":
            return label if value.value else _say("negated", language, label=label)
        return _say("labelled", language, label=label, value=self._scalar(value, language))

    def _mark(self, slot: Slot, language: Language) -> str:
        """Flag values the prospect has not confirmed, so they can correct them."""
        if slot.meta.status != "unconfirmed":
            return ""
        value = slot.value
        if isinstance(value, Money) and value.currency is not None and value.is_complete():
            return _say("assumed", language, currency=value.currency)
        if isinstance(value, PropertyType) and value.value == "other":
            return _say("to_confirm", language)
        if value.is_complete():
            return _say("to_confirm", language)
        return ""

    def _value(self, slot: Slot, language: Language) -> str:
        return self.value_text(slot, language)

    def value_text(self, slot: Slot, language: Language, *, short: bool = False) -> str:
        """One value in words: ``20,000 USD per month``, ``500 m²``, ``office``, ``yes``.

        Args:
            slot: The value.
            language: The language to write it in.
            short: The compact budget form (``20,000 USD / month, rent``).
        """
        value = slot.value
        if isinstance(value, Money):
            return money(value, language, short=short)
        if isinstance(value, Area):
            return area(value)
        if isinstance(value, PropertyType):
            return kind_name(value, language)
        if isinstance(value, City):
            return city_name(value, language)
        if isinstance(value, Scalar):
            return self._scalar(value, language)
        assert_never(value)

    def _scalar(self, value: Scalar, language: Language) -> str:
        raw = value.value
        if isinstance(raw, bool):
            return _say("yes" if raw else "no", language)
        if isinstance(raw, int | float):
            text = number(float(raw))
        elif value.kind == "date":
            text = day(raw, language)
        else:
            text = raw
        return f"{text} {value.unit}" if value.unit else text

    # ---- rejections, clarifications, summary ----

    def _reject(self, action: Reject, language: Language) -> str:
        key = action.rejection.candidate.key
        label = self._label(key, language)
        subject = self._subject(key, language)
        reason = t.REJECTIONS[action.rejection.reason][language].format(
            label=label, subject=subject, Subject=subject[:1].upper() + subject[1:]
        )
        if action.kept is None:
            return f"{reason}."
        return reason + _say("kept", language, kept=self._value(action.kept, language))

    def _clarify_city(self, action: ClarifyCity, language: Language) -> str:
        if not action.options:
            # The follow-up question asks for the city again when it is still missing.
            return _say("unknown_city", language, text=action.text)
        options = join(action.options, language, "or")
        if action.options_from == "named":
            return _say("choose_city", language, options=options)
        if action.options_from == "region":
            region = action.text[:1].upper() + action.text[1:]  # "El Bajío es una región"
            return _say("choose_region_city", language, text=region, options=options)
        return _say("clarify_city", language, text=action.text, options=options)

    def _clarify_currency(self, action: ClarifyCurrency, language: Language) -> str:
        names = t.CURRENCY_NAMES[language]
        options = [f"{names[c]} ({c})" if c in names else c for c in action.options]
        return _say(
            "clarify_currency",
            language,
            amount=number(action.amount),
            options=join(options, language, "or"),
        )

    def _summary(self, action: Summary, language: Language) -> str:
        frame = "summary_changed" if action.changed else "summary"
        return _say(frame, language, items=self.summary_items(action.brief, language))

    def summary_items(self, brief: Brief, language: Language) -> str:
        """Every value of ``brief`` as the summary lists them ("office in Mexico City, …")."""
        core, extras = self._summary_pairs(brief)
        text = ", ".join(self._items(core, language))
        if extras:
            also = ", ".join(self._items(extras, language))
            text = f"{text}; {_say('also', language, items=also)}" if text else also
        return text

    def _summary_pairs(self, brief: Brief) -> tuple[list[tuple[str, Slot]], list[tuple[str, Slot]]]:
        order = [s.key for s in self._registry.specs]
        core_keys = [k for k in order if self._is_core(k) and k in brief.slots]
        core = [(k, brief.slots[k]) for k in core_keys]
        extras = [(k, s) for k, s in brief.slots.items() if k not in core_keys]
        return core, extras


def _join(sentences: list[str]) -> str:
    """Sentences joined by a space; a part of several lines (an answer with its source, a
    list) is set apart by a blank line, so the next sentence does not run into its last line."""
    text, previous = "", ""
    for sentence in sentences:
        if text:
            text += "\n\n" if "\n" in sentence or "\n" in previous else " "
        text += sentence
        previous = sentence
    return text


def _amountless(slot: Slot) -> bool:
    """A budget that says how (currency, period, rent or buy) but not how much."""
    value = slot.value
    return (
        isinstance(value, Money)
        and value.amount is None
        and value.min is None
        and value.max is None
    )


# Actions said with one fixed template each.
_FIXED: dict[type[Action], str] = {
    Greet: "greet",
    Thanks: "thanks",
    Redirect: "redirect",
    Reprompt: "reprompt",
    Restarted: "restarted",
    Confirmed: "confirmed",
    AlreadyConfirmed: "confirmed_again",
}


def _simple(action: Action, transition: Transition, language: Language) -> str | None:
    """Fixed sentences; ``None`` for actions whose text depends on their content."""
    fixed = _FIXED.get(type(action))
    if fixed is not None:
        return _say(fixed, language)
    match action:
        case Help():
            complete = transition.state.phase == "complete"
            extra = f" {_say('help_complete', language)}" if complete else ""
            return _say("help", language) + extra
        case Answered():
            return action.text
        case BriefCompleted():
            return ""
        case Blocked():
            return _blocked(action, language)
        case ConfirmType():
            return _confirm_type(action, language)
        case _:
            return None


def _confirm_type(action: ConfirmType, language: Language) -> str:
    if action.proposal is not None:
        kind = t.KIND_NAMES[language][action.proposal]
        return _say("confirm_type_proposed", language, text=action.text, kind=kind)
    if not action.text:
        return _say("confirm_type_blank", language)
    return _say("confirm_type", language, text=action.text)


def _blocked(action: Blocked, language: Language) -> str:
    match action.reason:
        case "empty":
            return _say("blocked_empty", language)
        case "too_long":
            limit = _say("limit", language, limit=number(action.limit)) if action.limit else ""
            return _say("blocked_too_long", language, limit=limit)
        case "other_users_data" | "harmful":
            refusal = _say(f"blocked_{action.reason}", language)
        case "injection" | "jailbreak" | "prompt_extraction" | "code_execution":
            refusal = _say("blocked_attack", language)
        case _:
            assert_never(action.reason)
    return f"{refusal} {_say('blocked_continue', language)}"
