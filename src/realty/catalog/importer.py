"""Reading listings from a CSV file, every row validated (``realty catalog import``).

Columns (the header names them; order is free; docs/matching.md has the reference):

=================  ========  ==========================================================
column             required  values
=================  ========  ==========================================================
id                 yes       1–64 characters, unique in the file (an id already in the
                             catalog is replaced)
property_type      yes       office, warehouse, industrial, retail, land, coworking,
                             medical, hotel, mixed_use, apartment, house, other
offer              yes       rent (``price`` per month) or sale (``price`` in total)
city               yes       a city the gazetteer knows (``Mexico City``, ``CDMX``…)
country            yes       ISO code of the city's country (MX, US)
size_m2            yes       a positive number of square metres
price              yes       a positive number
currency           yes       a currency the market has a rate for (MXN, USD, EUR…)
zone               no        neighbourhood or submarket, as text
lat, lon           no        −90…90 and −180…180, within 100 km of the city (default:
                             the city's coordinates)
title              no        up to 200 characters
available_from     no        an ISO date (YYYY-MM-DD)
parking_spaces…    no        the amenities, under the field registry's keys: whole
                             numbers (parking_spaces, loading_docks, bedrooms,
                             bathrooms), numbers (ceiling_height in m, power_kva) or
                             yes/no (furnished, security_24h, elevator,
                             air_conditioning, three_phase_power, pets_allowed)
=================  ========  ==========================================================

A header with an unknown or missing required column rejects the whole file; each row is
checked on its own and every problem is reported with its line and column.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from pydantic import ValidationError

from realty.domain.brief import PROPERTY_KINDS, City
from realty.domain.geo import haversine_km
from realty.domain.listing import AMENITY_KEYS, OFFERS, Amenities, Listing
from realty.domain.market import Market

REQUIRED = ("id", "property_type", "offer", "city", "country", "size_m2", "price", "currency")
OPTIONAL = ("zone", "lat", "lon", "title", "available_from", *AMENITY_KEYS)
MAX_DISTANCE_KM = 100.0
_TRUE = frozenset({"true", "yes", "y", "1", "si", "sí", "x"})
_FALSE = frozenset({"false", "no", "n", "0", ""})

Resolve = Callable[[str], City | None]


@dataclass(frozen=True, slots=True)
class Rejection:
    """One problem: the file line (1 is the header), the column and why."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.column}: {self.message}"


@dataclass(slots=True)
class ImportReport:
    """The rows of a file that are valid listings, and every problem found."""

    rows: int = 0
    listings: list[Listing] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def rejected_lines(self) -> list[int]:
        """The lines with at least one problem."""
        return sorted({r.line for r in self.rejections})


class _RowError(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


class ListingReader:
    """Validates the rows of a listings CSV.

    Args:
        resolve: The gazetteer's lookup of a city name.
        market: Decides which currencies are known.
    """

    def __init__(self, resolve: Resolve, market: Market) -> None:
        self._resolve = resolve
        self._market = market

    def read(self, path: Path) -> ImportReport:
        """Every row of ``path`` checked; ``source`` of the listings is the file's name.

        Raises:
            OSError: the file cannot be read.
        """
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return self.read_rows(handle, source=path.name[:128])

    def read_rows(self, lines: Iterable[str], *, source: str) -> ImportReport:
        """Every row of CSV ``lines`` checked."""
        report = ImportReport()
        reader = csv.DictReader(lines)
        header = [name.strip() for name in reader.fieldnames or []]
        problems = _header_problems(header)
        if problems:
            report.rejections.extend(problems)
            return report
        reader.fieldnames = header
        seen: set[str] = set()
        for row in reader:
            report.rows += 1
            line = reader.line_num
            errors = self._row(row, line, source, seen, report)
            report.rejections.extend(errors)
        return report

    def _row(
        self,
        row: Mapping[str, Any],
        line: int,
        source: str,
        seen: set[str],
        report: ImportReport,
    ) -> list[Rejection]:
        if None in row:
            return [Rejection(line, "row", "more values than columns")]
        values = {k: (v or "").strip() for k, v in row.items()}
        errors: list[Rejection] = []
        parsed: dict[str, Any] = {}
        for column, check in self._checks().items():
            try:
                parsed[column] = check(values.get(column, ""))
            except _RowError as exc:
                errors.append(Rejection(line, exc.column or column, exc.message))
        listing_id = parsed.get("id")
        if isinstance(listing_id, str) and listing_id in seen:
            errors.append(Rejection(line, "id", f"{listing_id!r} appears earlier in the file"))
        if errors:
            return errors
        try:
            listing = self._listing(parsed, values, source)
        except _RowError as exc:
            return [Rejection(line, exc.column, exc.message)]
        seen.add(listing.id)
        report.listings.append(listing)
        return []

    def _checks(self) -> dict[str, Callable[[str], Any]]:
        checks: dict[str, Callable[[str], Any]] = {
            "id": _text(1, 64),
            "property_type": _choice(PROPERTY_KINDS),
            "offer": _choice(OFFERS),
            "size_m2": _positive,
            "price": _positive,
            "currency": self._currency,
            "zone": _optional(_text(1, 128)),
            "lat": _optional(_within(-90, 90)),
            "lon": _optional(_within(-180, 180)),
            "title": _optional(_text(1, 200)),
            "available_from": _optional(_date),
        }
        for key, info in Amenities.model_fields.items():
            kinds = get_args(info.annotation)
            if bool in kinds:
                checks[key] = _optional(_yes_no)
            elif int in kinds:
                checks[key] = _optional(_count)
            else:
                checks[key] = _optional(_positive)
        return checks

    def _currency(self, text: str) -> str:
        code = text.upper()
        if not self._market.knows(code):
            known = ", ".join(sorted(self._market.rates))
            raise _RowError("", f"unknown currency {text!r} (known: {known})")
        return code

    def _listing(self, parsed: dict[str, Any], values: Mapping[str, str], source: str) -> Listing:
        city = self._city(values.get("city", ""), values.get("country", ""))
        lat, lon = parsed.get("lat"), parsed.get("lon")
        if (lat is None) != (lon is None):
            raise _RowError("lat" if lat is None else "lon", "give both lat and lon, or neither")
        if lat is None or lon is None:
            lat, lon = city.lat, city.lon
        elif haversine_km(city.lat, city.lon, lat, lon) > MAX_DISTANCE_KM:
            raise _RowError(
                "lat", f"({lat}, {lon}) is more than {MAX_DISTANCE_KM:.0f} km from {city.value}"
            )
        amenities = {k: parsed[k] for k in AMENITY_KEYS if parsed.get(k) is not None}
        try:
            return Listing(
                id=parsed["id"],
                property_type=parsed["property_type"],
                city=city,
                zone=parsed.get("zone"),
                lat=lat,
                lon=lon,
                size_m2=parsed["size_m2"],
                price=parsed["price"],
                currency=parsed["currency"],
                offer=parsed["offer"],
                amenities=Amenities.model_validate(amenities),
                available_from=parsed.get("available_from"),
                source=source,
                title=parsed.get("title") or "",
            )
        except ValidationError as exc:
            first = exc.errors()[0]
            column = str(first["loc"][-1]) if first["loc"] else "row"
            raise _RowError(column, str(first["msg"])) from exc

    def _city(self, name: str, country: str) -> City:
        if not name:
            raise _RowError("city", "missing")
        code = country.upper()
        if len(code) != 2 or not code.isalpha():
            raise _RowError("country", f"{country!r} is not an ISO country code")
        city = self._resolve(name)
        if city is None:
            raise _RowError("city", f"{name!r} is not a city the gazetteer knows")
        if city.country != code:
            raise _RowError("country", f"{city.value} is in {city.country}, not {code}")
        return city


def _header_problems(header: list[str]) -> list[Rejection]:
    known = set(REQUIRED) | set(OPTIONAL)
    problems = [
        Rejection(1, name or "(empty)", "unknown column") for name in header if name not in known
    ]
    problems += [
        Rejection(1, name, "required column missing") for name in REQUIRED if name not in header
    ]
    duplicated = {name for name in header if header.count(name) > 1}
    problems += [Rejection(1, name, "column given twice") for name in sorted(duplicated)]
    return problems


def _optional(check: Callable[[str], Any]) -> Callable[[str], Any]:
    def run(text: str) -> Any:
        return None if text == "" else check(text)

    return run


def _text(low: int, high: int) -> Callable[[str], str]:
    def run(text: str) -> str:
        if not low <= len(text) <= high:
            raise _RowError("", f"must be {low}–{high} characters" if text else "missing")
        return text

    return run


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def run(text: str) -> str:
        value = text.lower()
        if value not in options:
            raise _RowError("", f"{text!r} is not one of {', '.join(options)}")
        return value

    return run


def _number(text: str) -> float:
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        raise _RowError("", f"{text!r} is not a number" if text else "missing") from None
    if not math.isfinite(value):
        raise _RowError("", f"{text!r} is not a number")
    return value


def _positive(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise _RowError("", f"must be a positive number, not {text}")
    return value


def _count(text: str) -> int:
    value = _number(text)
    if value < 0 or not value.is_integer():
        raise _RowError("", f"must be a whole number ≥ 0, not {text}")
    return int(value)


def _within(low: float, high: float) -> Callable[[str], float]:
    def run(text: str) -> float:
        value = _number(text)
        if not low <= value <= high:
            raise _RowError("", f"must be within {low:g}…{high:g}, not {text}")
        return value

    return run


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise _RowError("", f"{text!r} is not a date (YYYY-MM-DD)") from None


def _yes_no(text: str) -> bool:
    value = text.casefold()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _RowError("", f"{text!r} is not yes or no")
