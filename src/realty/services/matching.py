"""Listings that fit a brief, and what the market says about its budget.

:class:`MatchService` is what the chat, the API and the command line call::

    service = MatchService(catalog, market, registry)
    result = await service.matches(brief, limit=5)        # a Brief or its canonical JSON
    for match in result.listings:
        print(match.summary["es"])                       # "oficina en Polanco, Ciudad de …"
    if result.relaxation_text:                           # nothing fitted exactly
        print(result.relaxation_text["en"])              # "3 offices if you go up to 420 m²"
    if result.market and result.market.text["en"]:
        print(result.market.text["en"])                  # "20,000 USD a month for 500 m² …"

The database narrows the catalog with indexed conditions; the domain
(:mod:`realty.domain.matching`, :mod:`realty.domain.market_check`) checks, ranks and explains.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict

from realty.catalog.seed import CatalogSeeder
from realty.catalog.wording import MatchWords, load_policy
from realty.domain.brief import LANGUAGES, Brief, Language, Modality, PropertyKind
from realty.domain.fields import FieldRegistry
from realty.domain.listing import AMENITY_KEYS, OFFERS, Listing, Offer
from realty.domain.market import HOME_CURRENCIES, Market
from realty.domain.market_check import (
    MarketCheck,
    PriceBenchmark,
    check_market,
    likely_offer,
)
from realty.domain.matching import (
    NORMALISED_CURRENCY,
    Fact,
    Fit,
    PlaceFact,
    Policy,
    Relax,
    Relaxation,
    Search,
    Unmatchable,
    Want,
    best_relaxation,
    bounds,
    rank,
    relaxable,
    relaxation,
    search_of,
    want_of,
)
from realty.errors import RealtyError
from realty.pipeline.describe import Describer
from realty.pipeline.pick import Superlative
from realty.store.listings import Catalog, SqlCatalog

_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")
_FROZEN = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
Words = dict[Language, str]
# The frames of the matches in a chat message.
_CHAT: Mapping[str, Words] = {
    "found": {
        "en": "These {n} listings fit your brief:",
        "es": "Estos {n} inmuebles coinciden con tu búsqueda:",
    },
    "relaxed": {
        "en": "Nothing fits exactly yet; these {n} come close:",
        "es": "Todavía nada coincide exactamente; estos {n} se acercan:",
    },
    "preview": {
        "en": "With what I know so far, these {n} listings fit:",
        "es": "Con lo que sé hasta ahora, estos {n} inmuebles coinciden:",
    },
    "none": {
        "en": "I have no listings that fit this brief yet; a broker will look for more.",
        "es": "Aún no tengo inmuebles para esta búsqueda; un asesor buscará más opciones.",
    },
    # A zone asked for with no listing of it among those shown: instead of "found", or after
    # another lead.
    "found_elsewhere": {
        "en": "None in {zone} for now; these {n} in other parts of the city fit the rest of "
        "your brief:",
        "es": "Por ahora ninguno en {zone}; estos {n} en otras zonas de la ciudad coinciden con "
        "el resto de tu búsqueda:",
    },
    "found_elsewhere_one": {
        "en": "None in {zone} for now; this one in another part of the city fits the rest of "
        "your brief:",
        "es": "Por ahora ninguno en {zone}; este en otra zona de la ciudad coincide con el "
        "resto de tu búsqueda:",
    },
    "elsewhere": {
        "en": "None of them is in {zone}.",
        "es": "Ninguno está en {zone}.",
    },
    "pick": {
        "en": "Reply with a number to see one in detail.",
        "es": "Responde con un número para ver uno a detalle.",
    },
    "more": {
        "en": "Here are {n} more that fit your brief:",
        "es": "Aquí tienes otros {n} que coinciden con tu búsqueda:",
    },
    "more_one": {
        "en": "One more fits your brief:",
        "es": "Uno más coincide con tu búsqueda:",
    },
    "cheapest_first": {
        "en": "The {n} cheapest that fit your brief:",
        "es": "Los {n} más económicos que coinciden con tu búsqueda:",
    },
    "cheapest_first_one": {
        "en": "The only one that fits your brief:",
        "es": "El único que coincide con tu búsqueda:",
    },
    "largest_first": {
        "en": "The {n} largest that fit your brief:",
        "es": "Los {n} más grandes que coinciden con tu búsqueda:",
    },
    "largest_first_one": {
        "en": "The only one that fits your brief:",
        "es": "El único que coincide con tu búsqueda:",
    },
    "no_more": {
        "en": "Those are all the listings that fit this brief; changing a requirement (the "
        "size, the budget or the zone) would show others.",
        "es": "Esos son todos los inmuebles que coinciden con esta búsqueda; cambiar un "
        "requisito (la superficie, el presupuesto o la zona) mostraría otros.",
    },
    # One listing: its own wording, not "these 1 listings".
    "found_one": {
        "en": "This listing fits your brief:",
        "es": "Este inmueble coincide con tu búsqueda:",
    },
    "relaxed_one": {
        "en": "Nothing fits exactly yet; this one comes close:",
        "es": "Todavía nada coincide exactamente; este se acerca:",
    },
    "preview_one": {
        "en": "With what I know so far, this listing fits:",
        "es": "Con lo que sé hasta ahora, este inmueble coincide:",
    },
    "pick_one": {
        "en": "Reply 1 to see it in detail.",
        "es": "Responde 1 para verlo a detalle.",
    },
    # A listing picked by what it is: "the cheapest".
    "cheapest": {
        "en": "The cheapest is number {n}:",
        "es": "La opción más económica es la número {n}:",
    },
    "largest": {"en": "The largest is number {n}:", "es": "La opción más grande es la número {n}:"},
    "smallest": {
        "en": "The smallest is number {n}:",
        "es": "La opción más pequeña es la número {n}:",
    },
}


class _Recent(Generic[_K, _V]):
    """Values read recently, each reused for ``ttl_s`` seconds; past ``size`` entries the
    least recently used is dropped."""

    def __init__(self, ttl_s: float, size: int, clock: Callable[[], float]) -> None:
        self._ttl_s = ttl_s
        self._size = size
        self._clock = clock
        self._items: OrderedDict[_K, tuple[float, _V]] = OrderedDict()

    def get(self, key: _K) -> tuple[bool, _V | None]:
        """Whether ``key`` is held and fresh, and its value."""
        held = self._items.get(key)
        if held is None or self._clock() - held[0] >= self._ttl_s:
            return False, None
        self._items.move_to_end(key)
        return True, held[1]

    def put(self, key: _K, value: _V) -> None:
        """Hold ``value`` for ``key`` from now."""
        self._items[key] = (self._clock(), value)
        self._items.move_to_end(key)
        while len(self._items) > self._size:
            self._items.popitem(last=False)


class BriefNotMatchableError(RealtyError):
    """The brief lacks what matching needs (a property type and a city).

    Attributes:
        missing: The fields still missing.
    """

    def __init__(self, missing: list[str]) -> None:
        super().__init__(f"the brief cannot be matched yet; missing: {', '.join(missing)}")
        self.missing = missing


class MatchedListing(BaseModel):
    """One listing that fits, its score (0–1), the facts behind it and those facts in words
    (``reasons`` one phrase each, ``summary`` on one line), in both languages."""

    model_config = _FROZEN

    listing: Listing
    score: float
    distance_km: float
    facts: tuple[Fact, ...]
    reasons: dict[Language, tuple[str, ...]]
    summary: Words


def _in_zone(match: MatchedListing) -> bool:
    """Whether ``match`` is in the zone the brief asked for."""
    return any(isinstance(f, PlaceFact) and f.zone_matches for f in match.facts)


class MarketCheckResult(BaseModel):
    """The market check and its words (``None`` in a language when there is nothing to say)."""

    model_config = _FROZEN

    check: MarketCheck
    text: dict[Language, str | None]


class MatchResult(BaseModel):
    """What :meth:`MatchService.matches` found.

    Attributes:
        want: What was searched (type, city, offer, size, budget in the home currency…).
        home_currency: The currency of ``want.budget_home`` and of the market check.
        rates_date: When the exchange rates behind every conversion were taken.
        listings: The best listings, best first.
        total: How many listings fit the strict search (``more``: at least that many).
        relaxed: The relaxation ``listings`` come from (``None``: the strict search).
        relaxations: Every relaxation tried (only when the strict search found nothing), and
            ``relaxation_texts`` each in words.
        relaxation_text: The relaxations in words (``None`` when none was tried).
        market: The budget against the market, and any question about rent or purchase.
    """

    model_config = _FROZEN

    want: Want
    home_currency: str
    rates_date: dt.date
    listings: tuple[MatchedListing, ...]
    total: int
    more: bool = False
    relaxed: Relax | None = None
    relaxations: tuple[Relaxation, ...] = ()
    relaxation_texts: tuple[Words, ...] = ()
    relaxation_text: Words | None = None
    market: MarketCheckResult | None = None

    def chat_text(
        self,
        language: Language,
        limit: int = 3,
        *,
        preview: bool = False,
        market: bool = True,
        more: bool = False,
        cheapest: bool = False,
        largest: bool = False,
    ) -> str:
        """The matches as a chat message: a numbered list (a reply of "2" opens the second),
        what was relaxed when nothing fitted exactly, and the market check.

        Args:
            language: The words' language.
            limit: At most this many listings.
            preview: The brief is not complete yet (the list says "so far").
            market: End with the market check.
            more: The listings are a next page (:meth:`after`): "3 more that fit", or that
                there are no more.
            cheapest: The listings are sorted by price (:meth:`MatchService.cheapest_first`).
            largest: The listings are sorted by size (:meth:`MatchService.largest_first`).
        """
        shown = self.listings[:limit]
        lines: list[str] = []
        if not shown and more:
            lines.append(_CHAT["no_more"][language])
        elif not shown:
            lines.append(_CHAT["none"][language])
            if self.relaxation_text:
                lines.append(self.relaxation_text[language])
        else:
            lead = "relaxed" if self.relaxed is not None else "preview" if preview else "found"
            lead = "largest_first" if largest else lead
            lead = "more" if more else "cheapest_first" if cheapest else lead
            one = "_one" if len(shown) == 1 else ""
            zone = self.want.zone
            elsewhere = zone is not None and not any(_in_zone(m) for m in shown)
            if elsewhere and lead == "found":
                lead = "found_elsewhere"
            lines.append(_CHAT[lead + one][language].format(n=len(shown), zone=zone))
            if self.relaxed is not None and self.relaxation_text:
                lines.append(self.relaxation_text[language])
            if elsewhere and lead != "found_elsewhere":
                lines.append(_CHAT["elsewhere"][language].format(zone=zone))
            lines += [f"{i}. {m.summary[language]}" for i, m in enumerate(shown, start=1)]
            lines.append(_CHAT["pick" + one][language])
        if market and self.market is not None and self.market.text.get(language):
            lines.append(str(self.market.text[language]))
        return "\n".join(lines)

    def after(self, shown: Sequence[str]) -> MatchResult:
        """The listings ranked after the last of ``shown`` (the ids of a list shown before):
        the next page of that list, or the whole ranking when none of them is in it."""
        ids = [m.listing.id for m in self.listings]
        last = max((ids.index(i) for i in shown if i in ids), default=-1)
        return self.model_copy(update={"listings": self.listings[last + 1 :]})

    def market_note(self, language: Language) -> str | None:
        """The market check in words when it says something worth hearing before the brief
        is confirmed: a budget well below or above what the size costs, or the question of
        rent or purchase. ``None`` for a budget in line, or no verdict."""
        if self.market is None:
            return None
        check = self.market.check
        if check.note == "no_data":  # too few listings to say anything of the budget
            return None
        notable = check.question is not None or (
            check.budget is not None and check.budget.verdict != "in_line"
        )
        return self.market.text.get(language) if notable else None

    def relaxation_words(self, language: Language) -> list[tuple[Relaxation, str]]:
        """Every relaxation tried with its words in ``language``."""
        return [
            (r, text[language])
            for r, text in zip(self.relaxations, self.relaxation_texts, strict=True)
        ]


class MatchService:
    """Matches briefs against the catalog and checks budgets against it.

    Args:
        catalog: Where listings are (:class:`~realty.store.listings.SqlCatalog` or
            :class:`~realty.store.listings.MemoryCatalog`).
        market: Home currency and exchange rates.
        registry: The field registry (reads canonical brief JSON; amenity labels).
        policy: Tolerances (default: ``realty/data/matching.yaml``).
        median_ttl_s: How long a city's medians are reused before they are read again.
        search_ttl_s: How long the rows of one catalog search are reused (a chat's briefs
            repeat their searches turn after turn, and prospects ask for the same things); a
            listing added or removed meanwhile shows up, or goes, this much later (a listing
            gone when it is picked is said to be gone).
        searches_kept: At most this many searches are held (the least recently used go).
        clock: Monotonic seconds (tests pass their own).
    """

    def __init__(
        self,
        catalog: Catalog,
        market: Market,
        registry: FieldRegistry,
        *,
        policy: Policy | None = None,
        median_ttl_s: float = 300.0,
        search_ttl_s: float = 60.0,
        searches_kept: int = 128,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._catalog = catalog
        self._market = market
        self._policy = policy or load_policy()
        self._words = MatchWords.load(registry)
        self._describer = Describer(registry)
        self._medians: _Recent[tuple[str, ...], PriceBenchmark | None] = _Recent(
            median_ttl_s, 4096, clock
        )
        self._searches: _Recent[Search, tuple[Listing, ...]] = _Recent(
            search_ttl_s, searches_kept, clock
        )
        # A result is a function of what was asked, the medians and the rows: it is reused
        # as long as the rows would be.
        self._results: _Recent[tuple[str, int, bool], MatchResult] = _Recent(
            search_ttl_s, searches_kept, clock
        )

    @property
    def catalog(self) -> Catalog:
        """Where the listings are."""
        return self._catalog

    @property
    def market(self) -> Market:
        """The market prices are compared in."""
        return self._market

    @property
    def policy(self) -> Policy:
        """The tolerances in force."""
        return self._policy

    @property
    def words(self) -> MatchWords:
        """The phrases results are written with."""
        return self._words

    async def listing(self, listing_id: str) -> Listing | None:
        """One listing of the catalog, or ``None``."""
        return await self._catalog.get(listing_id)

    async def detail_text(
        self, listing_id: str, position: int, language: Language, today: dt.date
    ) -> str | None:
        """Listing ``listing_id`` in detail as the ``position``-th of a list the prospect was
        shown, or ``None`` when the catalog no longer has it."""
        listing = await self._catalog.get(listing_id)
        if listing is None:
            return None
        return self._words.listing(listing, position, language, today)

    async def superlative(
        self, listing_ids: Sequence[str], which: Superlative, language: Language
    ) -> tuple[int, str] | None:
        """Which of ``listing_ids`` (a list shown, in order) is the cheapest, the largest or
        the smallest — prices compared in the home currency — as its 1-based position and a
        line saying so; ``None`` when the catalog has none of them any more."""
        present = await self._present(listing_ids)
        if not present:
            return None
        if which == "cheapest":
            market = self._market
            position = min(present, key=lambda p: market.to_home(p[1].price, p[1].currency))[0]
        elif which == "largest":
            position = max(present, key=lambda p: p[1].size_m2)[0]
        else:
            position = min(present, key=lambda p: p[1].size_m2)[0]
        return position, _CHAT[which][language].format(n=position)

    async def features(
        self,
        listing_ids: Sequence[str],
        keys: Sequence[str],
        language: Language,
        position: int | None = None,
        today: dt.date | None = None,
    ) -> str | None:
        """What the listings of a list shown (``listing_ids``, in order) state about the
        amenities ``keys`` (``size`` and ``available_from`` too, the latter against ``today``),
        one line each (only the one at 1-based ``position`` when given); ``None`` when no key
        is one a listing states or the catalog has none of them any more."""
        keys = [k for k in keys if k in AMENITY_KEYS or k in ("size", "available_from")]
        if not keys:
            return None
        present = await self._present(listing_ids, position)
        day = today or dt.date.today()
        lines = [self._words.features(listing, n, keys, language, day) for n, listing in present]
        return "\n".join(lines) or None

    async def _present(
        self, listing_ids: Sequence[str], position: int | None = None
    ) -> list[tuple[int, Listing]]:
        """The listings of a list shown that the catalog still has, with their 1-based
        positions (only the one at ``position`` when given)."""
        numbered = list(enumerate(listing_ids, 1))
        if position is not None:
            numbered = numbered[position - 1 : position]
        found = [(n, await self._catalog.get(lid)) for n, lid in numbered]
        return [(n, listing) for n, listing in found if listing is not None]

    def largest_first(self, found: MatchResult) -> MatchResult:
        """``found`` with its listings largest first (equal sizes keep their rank)."""
        ordered = sorted(found.listings, key=lambda m: -m.listing.size_m2)
        return found.model_copy(update={"listings": tuple(ordered)})

    def cheapest_first(self, found: MatchResult) -> MatchResult:
        """``found`` with its listings cheapest first (prices compared in the home currency;
        equal prices keep their rank)."""
        market = self._market
        ordered = sorted(
            found.listings, key=lambda m: market.to_home(m.listing.price, m.listing.currency)
        )
        return found.model_copy(update={"listings": tuple(ordered)})

    def want(self, brief: Brief | Mapping[str, Any], *, modality: Modality | None = None) -> Want:
        """What ``brief`` (a :class:`Brief` or its canonical JSON) asks, before market data.

        Raises:
            BriefNotMatchableError: no property type or no city yet.
        """
        if not isinstance(brief, Brief):
            brief = self._describer.brief_of(brief)
        found = want_of(brief, self._market, modality=modality)
        if isinstance(found, Unmatchable):
            raise BriefNotMatchableError(list(found.missing))
        return found

    async def matches(
        self,
        brief: Brief | Mapping[str, Any],
        *,
        limit: int = 10,
        relax: bool = True,
        modality: Modality | None = None,
    ) -> MatchResult:
        """The listings that fit ``brief``, best first, with the market check.

        When nothing fits and ``relax`` is true, each constraint (size, budget, place, type)
        is loosened on its own; the listings shown come from the relaxation whose best
        listing fits best, and every relaxation tried is reported with its count.

        Args:
            brief: A :class:`Brief` or its canonical JSON (``Brief.to_json``).
            limit: At most this many listings.
            relax: Try relaxations when nothing fits.
            modality: Rent or buy, when the prospect said so apart from the budget.

        Raises:
            BriefNotMatchableError: no property type or no city yet.
            StorageError: the catalog cannot be read.
        """
        asked = self.want(brief, modality=modality)
        key = (asked.model_dump_json(), limit, relax)
        held, known = self._results.get(key)
        if held and known is not None:
            return known
        found = await self._match(asked, limit, relax)
        self._results.put(key, found)
        return found

    async def _match(self, asked: Want, limit: int, relax: bool) -> MatchResult:
        want, check = await self._decide(asked)
        fits, capped = await self._search(want, None, limit)
        result: dict[str, Any] = {
            "want": want,
            "home_currency": self._market.home_currency,
            "rates_date": self._market.rates_date,
            "total": len(fits),
            "more": capped,
            "market": self._market_words(check, want),
        }
        if fits or not relax:
            return MatchResult(listings=self._explain(fits[:limit]), **result)
        tried = relaxable(want, self._policy)
        found = await asyncio.gather(*(self._search(want, r, limit) for r in tried))
        by_relax: dict[Relax, list[Fit]] = {r: f for r, (f, _) in zip(tried, found, strict=True)}
        summaries = tuple(
            relaxation(r, fits_r, want, self._market, capped=capped_r)
            for r, (fits_r, capped_r) in zip(tried, found, strict=True)
        )
        chosen = best_relaxation(by_relax)
        shown = by_relax[chosen][:limit] if chosen is not None else []
        return MatchResult(
            listings=self._explain(shown),
            relaxed=chosen,
            relaxations=summaries,
            relaxation_texts=tuple(
                {
                    language: self._words.relaxation(r, self._policy, language)
                    for language in LANGUAGES
                }
                for r in summaries
            ),
            relaxation_text={
                language: self._words.relaxations(summaries, self._policy, language)
                for language in LANGUAGES
            },
            **result,
        )

    async def market_check(
        self, brief: Brief | Mapping[str, Any], *, modality: Modality | None = None
    ) -> MarketCheckResult:
        """The budget of ``brief`` against its city's median price per m², and a question
        when the amount reads as the other offer (rent or purchase).

        Raises:
            BriefNotMatchableError: no property type or no city yet.
            StorageError: the catalog cannot be read.
        """
        want, check = await self._decide(self.want(brief, modality=modality))
        return self._market_words(check, want)

    async def prices(
        self, brief: Brief | Mapping[str, Any], *, modality: Modality | None = None
    ) -> Words:
        """What the brief's kind costs in its city, in words: the catalog's median price per
        m² to rent and to buy (only the one the prospect chose, when they did), what the
        brief's size comes to, and its budget against them.

        Raises:
            BriefNotMatchableError: no property type or no city yet.
            StorageError: the catalog cannot be read.
        """
        asked = self.want(brief, modality=modality)
        medians = await self._read_medians(asked)
        want, check = self._decided(asked, *medians)
        shown = tuple(self._quoted(m, want) for m in medians if m is not None)
        return {
            language: self._words.prices(want, shown, check, language) for language in LANGUAGES
        }

    def _quoted(self, median: PriceBenchmark, want: Want) -> PriceBenchmark:
        """``median`` in the prospect's currency: their budget's, else the city's own (offices
        in Austin are quoted in dollars), when the market can convert to it."""
        currency = want.budget_currency or HOME_CURRENCIES.get(want.city.country)
        if currency is None or currency == median.currency or not self._market.knows(currency):
            return median
        amount = self._market.convert(median.median_m2, median.currency, currency)
        return median.model_copy(update={"median_m2": amount, "currency": currency})

    # ---- steps --------------------------------------------------------------------------

    async def _read_medians(
        self, want: Want
    ) -> tuple[PriceBenchmark | None, PriceBenchmark | None]:
        """The rent and the sale median of ``want``'s kind and city."""
        rent, sale = await asyncio.gather(
            *(
                self._benchmark(want.kind, offer, want.city.value, want.city.country)
                for offer in OFFERS
            )
        )
        return rent, sale

    async def _decide(self, want: Want) -> tuple[Want, MarketCheck]:
        """Read both medians, settle an unsaid offer by the amount, check the budget."""
        return self._decided(want, *await self._read_medians(want))

    def _decided(
        self, want: Want, rent: PriceBenchmark | None, sale: PriceBenchmark | None
    ) -> tuple[Want, MarketCheck]:
        if want.offer_source == "assumed":
            likely = likely_offer(want, rent, sale)
            if likely is not None:
                want = want.with_offer(likely, "assumed")
        return want, check_market(want, rent, sale, self._policy, self._market.home_currency)

    async def _benchmark(
        self, kind: PropertyKind, offer: Offer, city: str, country: str
    ) -> PriceBenchmark | None:
        key = (kind, offer, city, country)
        held, cached = self._medians.get(key)
        if held:
            return cached
        found = await self._catalog.median_m2(kind, offer, city, country)
        benchmark = None
        if found is not None:
            median_norm, count = found
            benchmark = PriceBenchmark(
                city=city,
                country=country,
                kind=kind,
                offer=offer,
                median_m2=self._market.convert(
                    median_norm, NORMALISED_CURRENCY, self._market.home_currency
                ),
                count=count,
                currency=self._market.home_currency,
            )
        self._medians.put(key, benchmark)
        return benchmark

    async def _search(
        self, want: Want, relax: Relax | None, explained: int
    ) -> tuple[list[Fit], bool]:
        limits = bounds(want, self._policy, relax)
        if not limits.kinds:
            return [], False
        search = search_of(want, limits, self._market, self._policy)
        rows = await self._rows(search)
        capped = len(rows) >= search.limit
        return rank(rows, want, limits, self._market, explained=explained), capped

    async def _rows(self, search: Search) -> tuple[Listing, ...]:
        held, rows = self._searches.get(search)
        if held and rows is not None:
            return rows
        rows = tuple(await self._catalog.search(search))
        self._searches.put(search, rows)
        return rows

    def _explain(self, fits: list[Fit]) -> tuple[MatchedListing, ...]:
        return tuple(
            MatchedListing(
                listing=fit.listing,
                score=fit.score,
                distance_km=round(fit.distance_km, 1),
                facts=fit.facts,
                reasons={
                    language: tuple(self._words.reasons(fit, language)) for language in LANGUAGES
                },
                summary={language: self._words.summary(fit, language) for language in LANGUAGES},
            )
            for fit in fits
        )

    def _market_words(self, check: MarketCheck, want: Want) -> MarketCheckResult:
        return MarketCheckResult(
            check=check,
            text={language: self._words.market(check, want, language) for language in LANGUAGES},
        )


def seed_if_empty(
    catalog: SqlCatalog,
    seeder: CatalogSeeder,
    count: int,
    *,
    seed: int = 0,
    today: dt.date | None = None,
) -> int:
    """Fill an empty catalog with ``count`` synthetic listings (blocking; the start-up and
    the command line run it in a thread). Returns how many were added (0: not empty).

    Processes starting together may both find it empty: they write the same ids (the same
    seed gives the same listings) and the second write replaces the first.
    """
    if count <= 0 or catalog.count_now() > 0:
        return 0
    return catalog.add_now(list(seeder.listings(count, seed=seed, today=today)))
