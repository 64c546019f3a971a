"""Match results, relaxations and market checks in words, in Spanish and English.

The phrases live in ``realty/data/matching.yaml``; kind names and Spanish city names are the
reply templates' and amenity labels the field registry's, so each word is written once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from realty.catalog.seed import SOURCE
from realty.domain.brief import LANGUAGES, PROPERTY_KINDS, Language, PropertyKind
from realty.domain.fields import FieldRegistry
from realty.domain.listing import Listing, Offer
from realty.domain.market_check import (
    MIN_SAMPLE,
    BudgetCheck,
    MarketCheck,
    OfferQuestion,
    PriceBenchmark,
)
from realty.domain.matching import (
    ExtraFact,
    Fact,
    Fit,
    KindFact,
    PlaceFact,
    Policy,
    PriceFact,
    Relaxation,
    SizeFact,
    Want,
)
from realty.errors import ConfigurationError
from realty.pipeline.templates import CITY_NAMES_ES, KIND_NAMES

MINUS = "−"  # U+2212, as in "480 m² (−4%)"
SEPARATOR = " · "


def _data() -> dict[str, Any]:
    text = resources.files("realty.data").joinpath("matching.yaml").read_text("utf-8")
    data: Any = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ConfigurationError("realty/data/matching.yaml is not a mapping")
    return data


def load_policy(**overrides: Any) -> Policy:
    """The matching policy of ``realty/data/matching.yaml`` (``overrides`` replace members).

    Raises:
        ConfigurationError: the file does not describe a valid policy.
    """
    raw = dict(_data().get("policy") or {})
    raw.update(overrides)
    try:
        return Policy.model_validate(raw)
    except ValueError as exc:
        raise ConfigurationError(f"realty/data/matching.yaml: invalid policy: {exc}") from exc


def number(value: float) -> str:
    """A whole number with thousands commas (as written in Mexico and the US)."""
    return f"{round(value):,}"


def figure(value: float) -> str:
    """An approximate amount: three significant digits over 1,000, tens over 100, units over
    10, one decimal below (``720``, ``18,500``, ``4.5``)."""
    size = abs(value)
    if size >= 1000:
        digits = len(str(int(size))) - 3
        return number(round(value, -digits))
    if size >= 100:
        return number(round(value, -1))
    if size >= 10:
        return number(value)
    return f"{value:.1f}".rstrip("0").rstrip(".")


def percent(delta: float) -> str:
    """``−4%`` or ``+4%`` (a unicode minus)."""
    pct = round(abs(delta) * 100)
    sign = MINUS if delta < 0 else "+"
    return f"{sign}{pct}%" if pct else "0%"


@dataclass(frozen=True, slots=True)
class MatchWords:
    """Writes match results in words.

    Args:
        phrases: ``{name: {language: template}}`` from ``matching.yaml``.
        plurals: ``{language: {kind: plural}}``.
        counts: ``{language: {amenity: template}}`` for amenities needing a unit.
        labels: ``{language: {amenity: label}}`` from the field registry.
    """

    phrases: Mapping[str, Mapping[str, str]]
    plurals: Mapping[str, Mapping[str, str]]
    counts: Mapping[str, Mapping[str, str]]
    labels: Mapping[str, Mapping[str, str]]

    @classmethod
    def load(cls, registry: FieldRegistry) -> MatchWords:
        """The packaged phrases with ``registry``'s labels.

        Raises:
            ConfigurationError: a phrase or plural is missing for a language.
        """
        data = _data()
        phrases = data.get("phrases") or {}
        plurals = data.get("kinds_plural") or {}
        for language in LANGUAGES:
            missing = [k for k, v in phrases.items() if language not in v]
            missing += [k for k in PROPERTY_KINDS if k not in plurals.get(language, {})]
            if missing:
                raise ConfigurationError(
                    f"realty/data/matching.yaml lacks {language} words for {', '.join(missing)}"
                )
        labels: dict[str, dict[str, str]] = {
            language: {spec.key: registry.label(spec.key, language) for spec in registry.specs}
            for language in LANGUAGES
        }
        return cls(phrases, plurals, data.get("amenity_counts") or {}, labels)

    def say(self, key: str, language: Language, **values: Any) -> str:
        """Phrase ``key`` filled in."""
        return self.phrases[key][language].format(**values)

    def kind(self, kind: PropertyKind, language: Language, count: int = 1) -> str:
        """A kind's name, plural unless ``count`` is 1."""
        if count == 1:
            return KIND_NAMES[language][kind]
        return self.plurals[language][kind]

    @staticmethod
    def city(name: str, language: Language) -> str:
        """A gazetteer city name as the language writes it."""
        return CITY_NAMES_ES.get(name, name) if language == "es" else name

    # ---- one listing ------------------------------------------------------------------

    def reasons(self, fit: Fit, language: Language) -> list[str]:
        """Why ``fit`` fits, one phrase per fact: place and type, size, price, extras."""
        facts = {type(f): f for f in fit.facts}
        kind_fact = facts.get(KindFact)
        out: list[str] = []
        place = facts.get(PlaceFact)
        if isinstance(kind_fact, KindFact) and isinstance(place, PlaceFact):
            out.append(self._place(kind_fact, place, language))
        out.extend(
            self._fact(f, language) for f in fit.facts if isinstance(f, SizeFact | PriceFact)
        )
        out.extend(self._extra(f, language) for f in fit.facts if isinstance(f, ExtraFact))
        return out

    def summary(self, fit: Fit, language: Language) -> str:
        """The reasons on one line (``office in Polanco, Mexico City · 480 m² (−4%) · …``)."""
        return SEPARATOR.join(self.reasons(fit, language))

    def _place(self, kind: KindFact, place: PlaceFact, language: Language) -> str:
        name = self.kind(kind.kind, language)
        if kind.instead_of is not None:
            name = self.say(
                "instead_of", language, kind=name, wanted=self.kind(kind.instead_of, language)
            )
        city = self.city(place.city, language)
        if place.distance_km is not None:
            return self.say(
                "place_other_city",
                language,
                kind=name,
                city=city,
                km=number(place.distance_km),
                wanted=self.city(place.wanted_city, language),
            )
        if place.zone:
            return self.say("place_zone", language, kind=name, zone=place.zone, city=city)
        return self.say("place_city", language, kind=name, city=city)

    def _fact(self, fact: Fact, language: Language) -> str:
        if isinstance(fact, SizeFact):
            if fact.delta is None or round(abs(fact.delta) * 100) == 0:
                return self.say("size", language, m2=number(fact.m2))
            return self.say("size_delta", language, m2=number(fact.m2), delta=percent(fact.delta))
        assert isinstance(fact, PriceFact)
        text = self.price(fact.price, fact.currency, fact.offer, language)
        if fact.in_budget_currency is not None and fact.budget_currency is not None:
            converted = self.say(
                "converted",
                language,
                price=figure(fact.in_budget_currency),
                currency=fact.budget_currency,
            )
            text = f"{text} ({converted})"
        if fact.delta is not None:
            text = f"{text}, {self._budget_delta(fact.delta, language)}"
        return text

    def price(self, price: float, currency: str, offer: Offer, language: Language) -> str:
        """A listing's price: ``18,500 USD/month`` or ``2,400,000 USD to buy``."""
        key = "rent_price" if offer == "rent" else "sale_price"
        return self.say(key, language, price=number(price), currency=currency)

    def _budget_delta(self, delta: float, language: Language) -> str:
        if abs(delta) < 0.005:
            return self.say("on_budget", language)
        pct = f"{round(abs(delta) * 100)}%"
        return self.say("under_budget" if delta < 0 else "over_budget", language, pct=pct)

    def _label(self, key: str, language: Language) -> str:
        return self.labels.get(language, {}).get(key, key.replace("_", " "))

    def _amount(self, key: str, value: float | int, language: Language) -> str:
        n = number(value) if float(value).is_integer() else f"{value:g}"
        custom = self.counts.get(language, {}).get(key)
        if custom is not None:
            return custom.format(n=n)
        return self.say("extra_count", language, n=n, label=self._label(key, language))

    def _extra(self, fact: ExtraFact, language: Language) -> str:
        label = self._label(fact.key, language)
        if fact.have is None:
            return self.say("extra_unknown", language, label=label)
        if isinstance(fact.have, bool) or isinstance(fact.want, bool):
            return self.say("extra_yes" if fact.have else "extra_no", language, label=label)
        have = self._amount(fact.key, fact.have, language)
        if fact.met:
            return have
        want = number(fact.want) if float(fact.want).is_integer() else f"{fact.want:g}"
        return self.say("extra_short", language, have=have, want=want)

    def place(self, listing: Listing, language: Language) -> str:
        """``office in Polanco, Mexico City`` (the zone when the listing states one)."""
        where = {
            "kind": self.kind(listing.property_type, language),
            "city": self.city(listing.city.value, language),
        }
        if listing.zone:
            return self.say("place_zone", language, zone=listing.zone, **where)
        return self.say("place_city", language, **where)

    def features(
        self,
        listing: Listing,
        position: int,
        keys: Sequence[str],
        language: Language,
        today: dt.date,
    ) -> str:
        """What one listing of a list states about ``keys`` (amenity keys, ``size``,
        ``available_from``), on one line: ``1. warehouse in Arcos Vallarta, Guadalajara: 3
        parking spaces, not furnished``."""
        stated = listing.amenities.stated()
        items = []
        for key in keys:
            if key == "size":
                items.append(f"{number(listing.size_m2)} m²")
                continue
            if key == "available_from":
                items.append(self._availability(listing, language, today))
                continue
            value = stated.get(key)
            if value is None:
                items.append(self.say("extra_unknown", language, label=self._label(key, language)))
            else:
                items.append(self._amenity(key, value, language))
        place = self.place(listing, language)
        return self.say("features_line", language, n=position, place=place, items=", ".join(items))

    def _availability(self, listing: Listing, language: Language, today: dt.date) -> str:
        """``available now``, ``available from 2027-02-15`` or ``availability not stated``."""
        if listing.available_from is None:
            return self.say("detail_available_unknown", language)
        if listing.available_from <= today:
            return self.say("detail_available_now", language)
        return self.say("detail_available_from", language, date=listing.available_from.isoformat())

    def listing(self, listing: Listing, position: int, language: Language, today: dt.date) -> str:
        """One listing in detail, for a chat: where, price, size and price per m², when it is
        available, what it has, and a link to a map at its coordinates."""
        place = self.place(listing, language)
        unit = listing.price / listing.size_m2
        facts = [
            self.price(listing.price, listing.currency, listing.offer, language),
            self.say(
                "detail_size",
                language,
                m2=number(listing.size_m2),
                unit=figure(unit),
                currency=listing.currency,
            ),
        ]
        facts.append(self._availability(listing, language, today))
        lines = [self.say("detail_head", language, n=position, place=place)]
        if listing.title and listing.source != SOURCE:  # a synthetic title restates the head
            lines.append(f"“{listing.title}”")
        lines.append(SEPARATOR.join(facts))
        have = [
            self._amenity(key, value, language)
            for key, value in listing.amenities.stated().items()
            if value is not False
        ]
        if have:
            lines.append(self.say("detail_has", language, items=", ".join(have)))
        url = (
            f"https://www.openstreetmap.org/?mlat={listing.lat:.5f}&mlon={listing.lon:.5f}"
            f"#map=16/{listing.lat:.5f}/{listing.lon:.5f}"
        )
        lines.append(self.say("detail_map", language, url=url))
        return "\n".join(lines)

    def _amenity(self, key: str, value: int | float | bool, language: Language) -> str:
        if isinstance(value, bool):
            said = "extra_yes" if value else "extra_no"
            return self.say(said, language, label=self._label(key, language))
        return self._amount(key, value, language)

    # ---- relaxations --------------------------------------------------------------------

    def relaxation(self, relax: Relaxation, policy: Policy, language: Language) -> str:
        """What loosening one constraint found (``3 offices if you go up to 420 m²``)."""
        count = f"{relax.count}+" if relax.more else str(relax.count)
        kinds = self.kind(relax.wanted_kind, language, relax.count)
        if relax.count == 0:
            return self.say(
                "relax_none",
                language,
                kinds=self.kind(relax.wanted_kind, language, 2),
                how=self._how(relax, policy, language),
            )
        if relax.relax == "size":
            return self._relaxed_size(relax, count, kinds, language)
        if relax.relax == "budget" and relax.max_price is not None:
            price = self._money(relax.max_price, relax.budget_currency or "", relax.offer, language)
            return self.say("relax_budget", language, count=count, kinds=kinds, price=price)
        if relax.relax == "nearby":
            return "; ".join(
                self.say(
                    "relax_city",
                    language,
                    count=c.count,
                    city=self.city(c.city, language),
                    km=number(c.distance_km),
                    wanted=self.city(relax.wanted_city, language),
                )
                for c in relax.cities[:3]
            )
        wanted = self.kind(relax.wanted_kind, language, 2)
        return "; ".join(
            self.say(
                "relax_type",
                language,
                count=k.count,
                kinds=self.kind(k.kind, language, k.count),
                wanted=wanted,
            )
            for k in relax.kinds
        )

    def _relaxed_size(self, relax: Relaxation, count: str, kinds: str, language: Language) -> str:
        assert relax.min_m2 is not None
        assert relax.max_m2 is not None
        wanted = relax.size_m2 or relax.min_m2
        if relax.max_m2 <= wanted:
            return self.say(
                "relax_size_down", language, count=count, kinds=kinds, m2=number(relax.min_m2)
            )
        if relax.min_m2 >= wanted:
            return self.say(
                "relax_size_up", language, count=count, kinds=kinds, m2=number(relax.max_m2)
            )
        return self.say(
            "relax_size_both",
            language,
            count=count,
            kinds=kinds,
            low=number(relax.min_m2),
            high=number(relax.max_m2),
        )

    def _how(self, relax: Relaxation, policy: Policy, language: Language) -> str:
        if relax.relax == "size" and relax.size_m2:
            tolerance = policy.relaxed_size_tolerance
            return self.say(
                "relax_how_size",
                language,
                low=number(relax.size_m2 * (1 - tolerance)),
                high=number(relax.size_m2 * (1 + tolerance)),
            )
        if relax.relax == "budget":
            return self.say(
                "relax_how_budget", language, pct=f"{round(policy.relaxed_budget * 100)}%"
            )
        if relax.relax == "nearby":
            return self.say("relax_how_nearby", language, km=number(policy.relaxed_near_km))
        return self.say("relax_how_type", language)

    def _money(self, amount: float, currency: str, offer: Offer, language: Language) -> str:
        key = "amount_rent" if offer == "rent" else "amount_sale"
        return self.say(key, language, amount=figure(amount), currency=currency)

    def relaxations(self, found: Sequence[Relaxation], policy: Policy, language: Language) -> str:
        """Every relaxation tried, on one line (``nothing`` when none found anything)."""
        useful = [r for r in found if r.count]
        if not useful:
            return self.say("nothing", language)
        return "; ".join(self.relaxation(r, policy, language) for r in useful)

    # ---- market check -------------------------------------------------------------------

    def market(self, check: MarketCheck, want: Want, language: Language) -> str | None:
        """The budget against the market and, if any, the question about rent or purchase."""
        parts: list[str] = []
        if check.budget is not None:
            parts.append(self.budget(check.budget, language))
        elif check.note == "no_data":
            parts.append(
                self.say(
                    "note_no_data",
                    language,
                    kinds=self.kind(want.kind, language, 2),
                    city=self.city(want.city.value, language),
                )
            )
        if check.question is not None:
            parts.append(self.question(check.question, language))
        return "\n".join(parts) or None

    def prices(
        self,
        want: Want,
        medians: Sequence[PriceBenchmark],
        check: MarketCheck,
        language: Language,
    ) -> str:
        """What ``want``'s kind costs in its city: the medians per m² (only the offer the
        prospect chose, when they did) and what its size comes to, or the budget against the
        median of its offer."""
        chosen = want.offer_source != "assumed"
        shown = [
            b for b in medians if b.count >= MIN_SAMPLE and (not chosen or b.offer == want.offer)
        ]
        if not shown:
            return self.say(
                "note_no_data",
                language,
                kinds=self.kind(want.kind, language, 2),
                city=self.city(want.city.value, language),
            )
        parts: list[str] = []
        budget = check.budget
        for median in shown:
            if budget is not None and budget.offer == median.offer:
                continue  # the budget's check below quotes this median
            per_m2 = "per_m2_rent" if median.offer == "rent" else "per_m2_sale"
            parts.append(
                self.say(
                    f"prices_{median.offer}",
                    language,
                    kinds=self.kind(want.kind, language, 2),
                    city=self.city(want.city.value, language),
                    median=self.say(
                        per_m2, language, amount=figure(median.median_m2), currency=median.currency
                    ),
                    count=median.count,
                )
            )
            if want.size_m2:
                total = self._money(
                    median.median_m2 * want.size_m2, median.currency, median.offer, language
                )
                parts.append(
                    self.say("prices_size", language, size=number(want.size_m2), total=total)
                )
        if budget is not None:
            parts.append(self.budget(budget, language))
        return " ".join(parts)

    def budget(self, check: BudgetCheck, language: Language) -> str:
        """``20,000 USD a month for 500 m² of office in Mexico City is about 40 USD/m²…``.

        The figures are in the budget's currency (a budget in dollars is compared in
        dollars), converted at the rate the check itself used.
        """
        per_m2 = "per_m2_rent" if check.offer == "rent" else "per_m2_sale"
        rate, currency = check.rate, check.budget_currency
        text = self.say(
            "check",
            language,
            budget=self._money(check.budget, check.budget_currency, check.offer, language),
            size=number(check.size_m2),
            kind=self.kind(check.kind, language),
            city=self.city(check.city, language),
            implied=self.say(
                per_m2, language, amount=figure(check.implied_m2 / rate), currency=currency
            ),
            median=figure(check.median_m2 / rate),
        )
        expected = self._money(check.expected / rate, currency, check.offer, language)
        return text + self.say(f"check_{check.verdict}", language, expected=expected)

    def question(self, question: OfferQuestion, language: Language) -> str:
        """Ask whether the amount is a monthly rent or a purchase price."""
        amount = figure(question.amount)
        known = (
            question.likely is not None
            and question.size_m2
            and question.rent_expected is not None
            and question.sale_expected is not None
        )
        if not known:
            return self.say("ask_offer", language, amount=amount, currency=question.currency)
        assert question.likely is not None
        assert question.size_m2 is not None
        assert question.rent_expected is not None
        assert question.sale_expected is not None
        values = {
            "size": number(question.size_m2),
            "kind": self.kind(question.kind, language),
            "city": self.city(question.city, language),
            "amount": amount,
            "currency": question.currency,
            "likely": self.say(f"offer_{question.likely}", language),
            # In the prospect's currency: a budget in dollars is answered in dollars.
            "rent": f"{figure(question.rent_expected / question.rate)} {question.currency}",
            "sale": f"{figure(question.sale_expected / question.rate)} {question.currency}",
        }
        if question.reason == "implausible" and question.said is not None:
            said = self.say(f"offer_{question.said}", language)
            return self.say("ask_offer_implausible", language, said=said, **values)
        return self.say("ask_offer_likely", language, **values)
