"""Reading a financing or lease-cost question from a chat message.

:class:`SimulationReader` turns "¿cuánto pagaría al mes si doy 20% de enganche a 10 años?" or
"how much to move in if the rent is 45k and they ask two months of deposit?" into typed
inputs for :mod:`realty.domain.finance`. Numbers are found with the parser's
:func:`~realty.parsing.numbers.find_numbers`; each one gets a role (price, down payment, rate,
rent, deposit…) from the nearest cue word of ``data/finance.yaml`` within a few words.
What the message leaves out is taken from the brief (the budget is the price of a purchase or
the rent of a lease) or reported in :class:`MissingInputs`, with a question per input.
Values out of range come back as :class:`InvalidInputs`: a prospect's typo is data, not a
failure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

import yaml

from realty.domain.brief import Brief, Language, Money, Scalar
from realty.domain.finance import (
    Amount,
    DownPayment,
    Fee,
    InputProblem,
    LeaseInputs,
    Percent,
    PurchaseInputs,
    RentMonths,
    SimulationInputError,
)
from realty.errors import ConfigurationError
from realty.parsing.lexicon import lexicon
from realty.parsing.numbers import find_numbers
from realty.parsing.text import Message, fold

SimulationKind = Literal["purchase", "lease"]
Role = Literal[
    "price",
    "down_payment",
    "rate",
    "rent",
    "deposit_months",
    "advance_months",
    "broker_fee",
    "guarantee",
    "maintenance",
    "vat",
    "annual_increase",
]
QuantityKind = Literal["money", "percent", "years", "months", "bare"]

ROLES: tuple[Role, ...] = get_args(Role)
# Which roles each kind of quantity can take.
_ALLOWED: Mapping[QuantityKind, frozenset[Role]] = {
    "money": frozenset({"price", "down_payment", "rent", "maintenance", "broker_fee", "guarantee"}),
    "percent": frozenset(
        {"down_payment", "rate", "broker_fee", "guarantee", "vat", "annual_increase"}
    ),
    "months": frozenset({"deposit_months", "advance_months", "broker_fee", "guarantee"}),
    "years": frozenset(),
    "bare": frozenset({"rate", "deposit_months", "advance_months"}),
}
_WINDOW = 4  # words between a number and its cue
_BREAK_PENALTY = 3  # a comma or full stop in between makes a cue farther
_BREAK = re.compile(r"[,.;:!?¿¡\n]")
_PERCENT_DIGITS = re.compile(r"(?<![\w.,])([0-9]+(?:[.,][0-9]+)?)\s*%")
_SMALL = 100.0  # a number below this, with no currency or multiplier, is not an amount
_ARTICLES = frozenset({"un", "una", "a", "an"})
MEXICO_VAT = 16.0
DEFAULT_LEASE_MONTHS = 12


@dataclass(frozen=True, slots=True)
class _Quantity:
    kind: QuantityKind
    value: float
    first: int  # word indices, inclusive
    last: int
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class _Cue:
    role: Role
    first: int
    last: int


@dataclass(frozen=True, slots=True)
class FinanceVocabulary:
    """The cue words and units of ``data/finance.yaml``, folded into word tuples."""

    purchase: tuple[tuple[str, ...], ...]
    lease: tuple[tuple[str, ...], ...]
    roles: Mapping[Role, tuple[tuple[str, ...], ...]]
    years: frozenset[str]
    months: frozenset[str]
    percent_words: tuple[tuple[str, ...], ...]
    texts: Mapping[str, Any]

    @classmethod
    def from_mapping(cls, raw: Any) -> FinanceVocabulary:
        """Check and fold a loaded ``finance.yaml``.

        Raises:
            ConfigurationError: A section is missing or malformed.
        """
        try:
            kinds, roles = raw["kind"], raw["roles"]
            words = lexicon()
            return cls(
                purchase=_tuples([*kinds["purchase"], *words.buy]),
                lease=_tuples([*kinds["lease"], *words.rent]),
                roles={role: _tuples(roles[role]) for role in ROLES},
                years=frozenset(fold(w) for w in raw["years"]),
                months=frozenset(fold(w) for w in raw["months"]),
                percent_words=_tuples([w for w in raw["percent"] if w != "%"]),
                texts=raw["texts"],
            )
        except (KeyError, TypeError) as exc:
            raise ConfigurationError(f"finance.yaml is malformed: missing {exc}") from exc


def _tuples(phrases: Sequence[str]) -> tuple[tuple[str, ...], ...]:
    out = {tuple(w.text for w in Message.of(p).words) for p in phrases}
    return tuple(sorted((t for t in out if t), key=lambda t: (-len(t), t)))


@cache
def finance_vocabulary() -> FinanceVocabulary:
    """The packaged ``finance.yaml``, loaded and checked on first use."""
    text = resources.files("realty.data").joinpath("finance.yaml").read_text("utf-8")
    return FinanceVocabulary.from_mapping(yaml.safe_load(text))


# ---- outcomes ----


@dataclass(frozen=True, slots=True)
class PurchaseRequest:
    """A purchase ready to simulate; ``assumed`` names inputs the message did not give."""

    inputs: PurchaseInputs
    assumed: tuple[str, ...] = ()
    kind: Literal["purchase"] = "purchase"


@dataclass(frozen=True, slots=True)
class LeaseRequest:
    """A lease ready to simulate; ``assumed`` names inputs the message did not give."""

    inputs: LeaseInputs
    assumed: tuple[str, ...] = ()
    kind: Literal["lease"] = "lease"


SimulationRequest = PurchaseRequest | LeaseRequest


@dataclass(frozen=True, slots=True)
class MissingInputs:
    """What still has to be asked before simulating.

    Attributes:
        kind: ``purchase``, ``lease`` or ``None`` when even that is unknown.
        missing: Input names (``kind``, ``price``, ``down_payment``, ``term_months``,
            ``annual_rate``, ``monthly_rent``), in the order to ask them.
    """

    kind: SimulationKind | None
    missing: tuple[str, ...]

    def questions(self, language: Language) -> tuple[str, ...]:
        """One question per missing input, in ``language``."""
        table: Mapping[str, str] = finance_vocabulary().texts["questions"][language]
        return tuple(table[name] for name in self.missing)


@dataclass(frozen=True, slots=True)
class InvalidInputs:
    """The message gave values out of range (a 60-year term, a 150 % rate)."""

    kind: SimulationKind
    problems: tuple[InputProblem, ...]

    def messages(self, language: Language) -> tuple[str, ...]:
        """Every problem's message in ``language``."""
        return tuple(p.message(language) for p in self.problems)


SimulationOutcome = PurchaseRequest | LeaseRequest | MissingInputs | InvalidInputs


# ---- the reader ----


@dataclass(frozen=True, slots=True)
class _Reading:
    """Roles found in a message."""

    values: Mapping[Role, _Quantity]
    term_months: int | None
    currency: str | None
    mentions_vat: bool
    kind: SimulationKind | None


class SimulationReader:
    """Reads a simulation request out of a chat message and the brief."""

    def __init__(
        self, vocabulary: FinanceVocabulary | None = None, *, default_rate: float | None = None
    ) -> None:
        """Keep the vocabulary and the configured default rate.

        Args:
            vocabulary: The cue words (default: the packaged ``finance.yaml``).
            default_rate: Annual rate in percent used when a purchase message names none
                (``REALTY_DEFAULT_MORTGAGE_RATE``); it is reported as an assumption.
                ``None``: the rate is asked for.
        """
        self._vocab = vocabulary or finance_vocabulary()
        self._default_rate = default_rate
        # One-word currencies written after an amount ("20k USD a month").
        self._currency_words = frozenset(p for p, _ in lexicon().currency_after if " " not in p)

    def read(self, text: str, brief: Brief) -> SimulationOutcome:
        """The simulation ``text`` asks for, completed from ``brief``.

        Args:
            text: The prospect's message.
            brief: The conversation's brief (its budget and lease term fill gaps).

        Returns:
            A request ready to simulate, the inputs still missing, or the invalid ones.
        """
        msg = Message.of(text)
        reading = self._reading(msg, brief)
        if reading.kind is None:
            return MissingInputs(None, ("kind",))
        if reading.kind == "purchase":
            return self._purchase(reading, brief)
        return self._lease(reading, brief)

    # -- finding roles --

    def _reading(self, msg: Message, brief: Brief) -> _Reading:
        texts = [w.text for w in msg.words]
        quantities = self._quantities(msg, brief.language)
        cues = self._cues(texts)
        values, durations = _assign(msg, quantities, cues)
        kind = self._kind(texts, values, brief)
        _defaults(values, quantities, kind)
        # The longest duration left is the term: "45k a month for 5 years".
        terms = [round(q.value * 12) if q.kind == "years" else round(q.value) for q in durations]
        term = max(terms) if terms else None
        currencies = [q.currency for q in quantities if q.currency]
        vat_words = self._vocab.roles["vat"]
        return _Reading(
            values=values,
            term_months=term,
            currency=currencies[0] if currencies else None,
            mentions_vat=any(_find(texts, p) for p in vat_words),
            kind=kind,
        )

    def _quantities(self, msg: Message, language: Language) -> list[_Quantity]:
        out: list[_Quantity] = []
        texts = [w.text for w in msg.words]
        for match in _PERCENT_DIGITS.finditer(msg.folded):
            indices = msg.within(match.span(1))
            if indices:
                value = float(match.group(1).replace(",", "."))
                out.append(_Quantity("percent", value, indices[0], indices[-1]))
        for number in find_numbers(msg, language):
            indices = msg.within((number.start, number.end))
            if not indices or any(q.first <= indices[0] <= q.last for q in out):
                continue
            first, last = indices[0], indices[-1]
            if texts[first] == "ciento" and first > 0 and texts[first - 1] == "por":
                continue  # the "ciento" of "veinte por ciento"
            after = texts[last + 1 : last + 3]
            percent = next((p for p in self._vocab.percent_words if _starts(after, p)), None)
            if percent is not None:
                out.append(_Quantity("percent", number.value, first, last + len(percent)))
            elif after and after[0] in self._vocab.years:
                out.append(_Quantity("years", number.value, first, last + 1))
            elif after and after[0] in self._vocab.months:
                out.append(_Quantity("months", number.value, first, last + 1))
            else:
                currency = number.currency or _currency_near(msg, number.start, number.end)
                small = number.value < _SMALL and number.scale == 1 and currency is None
                kind: QuantityKind = "bare" if small else "money"
                out.append(_Quantity(kind, number.value, first, last, currency))
        out += self._single_units(texts, out)
        return sorted(out, key=lambda q: q.first)

    def _single_units(self, texts: Sequence[str], found: Sequence[_Quantity]) -> list[_Quantity]:
        """ "un mes", "a year": one unit written with an article, which is not a number.
        Right after an amount it is the amount's rate ("20k a month"), not a duration."""
        out: list[_Quantity] = []
        covered = {i for q in found for i in range(q.first, q.last + 1)}
        currencies = self._currency_words
        rated = set()
        for q in found:
            if q.kind in ("money", "bare"):
                after = q.last + 1  # "20k USD a month": past the currency word
                rated.add(after + 1 if after < len(texts) and texts[after] in currencies else after)
        for i, text in enumerate(texts[1:], 1):
            if texts[i - 1] not in _ARTICLES or {i - 1, i} & covered or i - 1 in rated:
                continue
            if text in self._vocab.years:
                out.append(_Quantity("years", 1.0, i - 1, i))
            elif text in self._vocab.months:
                out.append(_Quantity("months", 1.0, i - 1, i))
        return out

    def _cues(self, texts: Sequence[str]) -> list[_Cue]:
        phrases = sorted(
            ((p, role) for role, group in self._vocab.roles.items() for p in group),
            key=lambda pr: -len(pr[0]),
        )
        cues: list[_Cue] = []
        taken: set[int] = set()
        for phrase, role in phrases:
            for start in _find(texts, phrase):
                span = set(range(start, start + len(phrase)))
                if span & taken:
                    continue
                taken |= span
                cues.append(_Cue(role, start, start + len(phrase) - 1))
        return cues

    def _kind(
        self, texts: Sequence[str], values: Mapping[Role, _Quantity], brief: Brief
    ) -> SimulationKind | None:
        purchase = sum(len(_find(texts, p)) for p in self._vocab.purchase)
        lease = sum(len(_find(texts, p)) for p in self._vocab.lease)
        purchase += 2 * sum(r in values for r in ("down_payment", "rate", "price"))
        lease += 2 * sum(r in values for r in ("rent", "deposit_months", "advance_months"))
        if purchase != lease:
            return "purchase" if purchase > lease else "lease"
        budget = _budget(brief)
        if budget is not None and budget.modality is not None:
            return "purchase" if budget.modality == "buy" else "lease"
        return None

    # -- building inputs --

    def _purchase(self, reading: _Reading, brief: Brief) -> SimulationOutcome:
        values, assumed = reading.values, []
        budget = _budget(brief)
        price = values["price"].value if "price" in values else _brief_price(budget)
        down = _down_payment(values.get("down_payment"))
        rate = values["rate"].value if "rate" in values else self._default_rate
        if "rate" not in values and rate is not None:
            assumed.append("annual_rate")
        missing = [
            name
            for name, value in (
                ("price", price),
                ("down_payment", down),
                ("term_months", reading.term_months),
                ("annual_rate", rate),
            )
            if value is None
        ]
        if missing or price is None or down is None or rate is None:
            return MissingInputs("purchase", tuple(missing))
        currency = _currency(reading, budget, assumed)
        term = reading.term_months or 0
        try:
            inputs = PurchaseInputs(price, down, term, rate, currency)
        except SimulationInputError as exc:
            return InvalidInputs("purchase", exc.problems)
        return PurchaseRequest(inputs, tuple(assumed))

    def _lease(self, reading: _Reading, brief: Brief) -> SimulationOutcome:
        values, assumed = reading.values, []
        budget = _budget(brief)
        rent = values["rent"].value if "rent" in values else _brief_rent(budget)
        if rent is None:
            return MissingInputs("lease", ("monthly_rent",))
        term = reading.term_months or _brief_term(brief)
        if term is None:
            term = DEFAULT_LEASE_MONTHS
            assumed.append("term_months")
        deposit = _months(values, "deposit_months", assumed)
        advance = _months(values, "advance_months", assumed)
        vat = values["vat"].value if "vat" in values else 0.0
        currency = _currency(reading, budget, assumed)
        if "vat" not in values and reading.mentions_vat and currency == "MXN":
            vat = MEXICO_VAT  # "más IVA": the Mexican rate on commercial rent
        maintenance = values.get("maintenance")
        increase = values.get("annual_increase")
        try:
            inputs = LeaseInputs(
                monthly_rent=rent,
                term_months=term,
                deposit_months=deposit,
                advance_months=advance,
                broker_fee=_fee(values.get("broker_fee")),
                guarantee=_fee(values.get("guarantee")),
                monthly_maintenance=maintenance.value if maintenance else 0.0,
                vat_percent=vat,
                annual_increase=increase.value if increase else 0.0,
                currency=currency,
            )
        except SimulationInputError as exc:
            return InvalidInputs("lease", exc.problems)
        return LeaseRequest(inputs, tuple(assumed))


def read_simulation(
    text: str, brief: Brief, *, default_rate: float | None = None
) -> SimulationOutcome:
    """:meth:`SimulationReader.read` with the packaged vocabulary (see there)."""
    return SimulationReader(default_rate=default_rate).read(text, brief)


# ---- helpers ----


def _find(texts: Sequence[str], phrase: tuple[str, ...]) -> list[int]:
    n = len(phrase)
    return [i for i in range(len(texts) - n + 1) if tuple(texts[i : i + n]) == phrase]


def _starts(texts: Sequence[str], phrase: tuple[str, ...]) -> bool:
    return tuple(texts[: len(phrase)]) == phrase


def _currency_near(msg: Message, start: int, end: int) -> str | None:
    words = lexicon()
    after = msg.folded[end:].lstrip()
    for phrase, code in words.currency_after:
        if (
            code != "$"
            and after.startswith(phrase)
            and not after[len(phrase) : len(phrase) + 1].isalpha()
        ):
            return code
    before = msg.folded[:start].rstrip()
    for phrase, code in words.currency_before:
        if code != "$" and before.endswith(phrase):
            return code
    return None


def _distance(msg: Message, q: _Quantity, cue: _Cue) -> int | None:
    if cue.last < q.first:
        gap, left, right = q.first - cue.last - 1, cue.last, q.first
    elif cue.first > q.last:
        gap, left, right = cue.first - q.last - 1, q.last, cue.first
    else:
        return None
    if gap >= _WINDOW:
        return None
    between = msg.folded[msg.words[left].end : msg.words[right].start]
    return gap + (_BREAK_PENALTY if _BREAK.search(between) else 0)


def _assign(
    msg: Message, quantities: Sequence[_Quantity], cues: Sequence[_Cue]
) -> tuple[dict[Role, _Quantity], list[_Quantity]]:
    """Give each quantity the role of its nearest compatible cue, nearest pairs first."""
    pairs: list[tuple[int, int, int, Role]] = []
    for qi, q in enumerate(quantities):
        for cue in cues:
            if cue.role not in _ALLOWED[q.kind]:
                continue
            distance = _distance(msg, q, cue)
            if distance is not None:
                # At equal distance a cue before the number wins ("enganche de 20%").
                pairs.append((distance, 0 if cue.last < q.first else 1, qi, cue.role))
    values: dict[Role, _Quantity] = {}
    used: set[int] = set()
    for _, _, qi, role in sorted(pairs):
        if qi not in used and role not in values:
            values[role] = quantities[qi]
            used.add(qi)
    durations = [
        q for i, q in enumerate(quantities) if q.kind in ("years", "months") and i not in used
    ]
    return values, durations


def _defaults(
    values: dict[Role, _Quantity], quantities: Sequence[_Quantity], kind: SimulationKind | None
) -> None:
    """An amount with no cue is the price of a purchase or the rent of a lease."""
    role: Role = "price" if kind == "purchase" else "rent"
    if kind is None or role in values:
        return
    taken = {id(q) for q in values.values()}
    loose = [q for q in quantities if q.kind == "money" and id(q) not in taken]
    if loose:
        values[role] = max(loose, key=lambda q: q.value)


def _budget(brief: Brief) -> Money | None:
    slot = brief.get("budget")
    if slot is None or slot.meta.status == "invalid" or not isinstance(slot.value, Money):
        return None
    return slot.value


def _brief_price(budget: Money | None) -> float | None:
    if budget is None or budget.amount is None or budget.modality == "rent":
        return None
    if budget.modality == "buy" or budget.period == "total":
        return budget.amount
    return None


def _brief_rent(budget: Money | None) -> float | None:
    if budget is None or budget.amount is None or budget.modality == "buy":
        return None
    return budget.amount if budget.period == "month" else None


def _brief_term(brief: Brief) -> int | None:
    slot = brief.get("lease_term_months")
    if slot is None or not isinstance(slot.value, Scalar):
        return None
    value = slot.value.value
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _currency(reading: _Reading, budget: Money | None, assumed: list[str]) -> str:
    if reading.currency is not None:
        return reading.currency
    if budget is not None and budget.currency is not None:
        return budget.currency
    assumed.append("currency")
    return "MXN"


def _down_payment(q: _Quantity | None) -> DownPayment | None:
    if q is None:
        return None
    return Percent(q.value) if q.kind == "percent" else Amount(q.value)


def _fee(q: _Quantity | None) -> Fee | None:
    if q is None:
        return None
    if q.kind == "percent":
        return Percent(q.value)
    if q.kind == "months":
        return RentMonths(q.value)
    return Amount(q.value)


def _months(values: Mapping[Role, _Quantity], role: Role, assumed: list[str]) -> float:
    if role in values:
        return values[role].value
    assumed.append(role)
    return 1.0
