"""The synthetic catalog (deterministic, calibrated) and the CSV reader (every row checked)."""

from __future__ import annotations

import datetime as dt
import statistics
from pathlib import Path

import pytest

from realty.catalog.calibration import load_calibration
from realty.catalog.importer import ListingReader, Rejection
from realty.catalog.seed import CatalogSeeder
from realty.catalog.wording import MatchWords
from realty.domain.brief import PROPERTY_KINDS, City
from realty.domain.listing import Amenities, Listing
from realty.domain.market import Market
from realty.errors import ConfigurationError
from realty.parsing.places import load_zones
from realty.pipeline.parse import Parser
from realty.settings import Settings

MARKET = Market("MX", {"USD": 18.0, "EUR": 19.5}, dt.date(2026, 11, 30))
DAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def seeder(parser: Parser) -> CatalogSeeder:
    return CatalogSeeder(load_calibration(), MARKET, parser.cities.gazetteer.resolve, load_zones())


def test_the_same_seed_gives_the_same_catalog(seeder: CatalogSeeder) -> None:
    first = list(seeder.listings(300, seed=7, today=DAY))
    again = list(seeder.listings(300, seed=7, today=DAY))
    other = list(seeder.listings(300, seed=8, today=DAY))
    assert first == again
    assert [x.id for x in first] == [f"syn-7-{n:06d}" for n in range(300)]
    assert [x.price for x in first] != [x.price for x in other]


def test_the_catalog_covers_every_type_both_countries_and_known_zones(
    seeder: CatalogSeeder,
) -> None:
    items = list(seeder.listings(5000, seed=1, today=DAY))
    assert {x.property_type for x in items} == set(PROPERTY_KINDS)
    countries = [x.city.country for x in items]
    assert 0.7 < countries.count("MX") / len(items) < 0.8  # home_share 0.75
    assert {x.offer for x in items} == {"rent", "sale"}
    assert all(x.source == "synthetic" for x in items)
    polanco = [x for x in items if x.zone == "Polanco"]
    assert polanco
    assert all(x.city.value == "Mexico City" for x in polanco)
    industrial = [x for x in items if x.property_type == "industrial" and x.city.country == "MX"]
    assert sum(x.currency == "USD" for x in industrial) / len(industrial) > 0.7


def test_prices_follow_the_calibration(seeder: CatalogSeeder) -> None:
    """The median rent of Mexico City offices sits at the calibrated 400 MXN/m²/month and the
    State of Mexico's (Toluca) at about half of it."""
    items = list(seeder.listings(20_000, seed=2, today=DAY))

    def median_rent(city: str) -> float:
        return statistics.median(
            MARKET.to_home(x.price, x.currency) / x.size_m2
            for x in items
            if x.city.value == city and x.property_type == "office" and x.offer == "rent"
        )

    assert median_rent("Mexico City") == pytest.approx(400, rel=0.12)
    assert median_rent("Toluca") == pytest.approx(200, rel=0.2)


def test_a_calibrated_city_missing_from_the_gazetteer_fails_at_start(parser: Parser) -> None:
    def nowhere(name: str) -> None:
        return None

    with pytest.raises(ConfigurationError, match="not in the gazetteer"):
        CatalogSeeder(load_calibration(), MARKET, nowhere)


def test_the_calibration_names_its_sources() -> None:
    from importlib import resources

    text = resources.files("realty.data").joinpath("market_calibration.yaml").read_text("utf-8")
    assert "SYNTHETIC" in text
    for source in ("CBRE", "Solili", "CommercialEdge", "Spot2", "Mercado Libre"):
        assert source in text


# ---- CSV import ---------------------------------------------------------------------------

HEADER = (
    "id,property_type,offer,city,country,zone,lat,lon,size_m2,price,currency,title,"
    "available_from,parking_spaces,loading_docks,furnished\n"
)


def write(tmp_path: Path, rows: str, header: str = HEADER) -> Path:
    path = tmp_path / "listings.csv"
    path.write_text(header + rows, encoding="utf-8")
    return path


@pytest.fixture
def reader(parser: Parser) -> ListingReader:
    return ListingReader(parser.cities.gazetteer.resolve, MARKET)


def test_valid_rows_become_listings(reader: ListingReader, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "A-1,office,rent,CDMX,MX,Polanco,19.433,-99.19,480,18500,usd,Piso 12,2027-02-01,6,,yes\n"
        'A-2,warehouse,sale,Monterrey,MX,,,,"2,000",24000000,MXN,,,,4,no\n',
    )
    report = reader.read(path)
    assert report.rejections == []
    first, second = report.listings
    assert (first.city.value, first.zone, first.currency) == ("Mexico City", "Polanco", "USD")
    assert first.amenities.parking_spaces == 6
    assert first.amenities.furnished is True
    assert first.available_from == dt.date(2027, 2, 1)
    assert first.source == "listings.csv"
    assert (second.size_m2, second.lat) == (2000, second.city.lat)
    assert second.amenities.loading_docks == 4


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        ("B-1,castle,rent,CDMX,MX,,,,100,1000,MXN,,,,,\n", "property_type", "not one of"),
        ("B-1,office,lease,CDMX,MX,,,,100,1000,MXN,,,,,\n", "offer", "not one of"),
        ("B-1,office,rent,Atlantis,MX,,,,100,1000,MXN,,,,,\n", "city", "not a city"),
        ("B-1,office,rent,Monterrey,US,,,,100,1000,MXN,,,,,\n", "country", "is in MX, not US"),
        ("B-1,office,rent,CDMX,MX,,,,-5,1000,MXN,,,,,\n", "size_m2", "positive number"),
        ("B-1,office,rent,CDMX,MX,,,,100,abc,MXN,,,,,\n", "price", "not a number"),
        ("B-1,office,rent,CDMX,MX,,,,100,0,MXN,,,,,\n", "price", "positive number"),
        ("B-1,office,rent,CDMX,MX,,,,100,1000,GBP,,,,,\n", "currency", "unknown currency"),
        ("B-1,office,rent,CDMX,MX,,95,-99,100,1000,MXN,,,,,\n", "lat", "within -90…90"),
        ("B-1,office,rent,CDMX,MX,,25.6,-100.3,100,1000,MXN,,,,,\n", "lat", "more than 100 km"),
        ("B-1,office,rent,CDMX,MX,,19.4,,100,1000,MXN,,,,,\n", "lon", "both lat and lon"),
        ("B-1,office,rent,CDMX,MX,,,,100,1000,MXN,,2027-13-01,,,\n", "available_from", "date"),
        ("B-1,office,rent,CDMX,MX,,,,100,1000,MXN,,,2.5,,\n", "parking_spaces", "whole number"),
        ("B-1,office,rent,CDMX,MX,,,,100,1000,MXN,,,,,maybe\n", "furnished", "yes or no"),
        (",office,rent,CDMX,MX,,,,100,1000,MXN,,,,,\n", "id", "missing"),
        ("B-1,office,rent,CDMX,MX,,,,100,1000,MXN,,,,,,extra\n", "row", "more values"),
    ],
)
def test_each_invalid_row_is_reported_with_line_and_column(
    reader: ListingReader, tmp_path: Path, row: str, column: str, message: str
) -> None:
    good = "A-1,office,rent,CDMX,MX,,,,100,1000,MXN,,,,,\n"
    report = reader.read(write(tmp_path, good + row))
    assert [x.id for x in report.listings] == ["A-1"]
    assert report.rows == 2
    [rejection] = report.rejections
    assert (rejection.line, rejection.column) == (3, column)
    assert message in rejection.message


def test_a_row_with_several_problems_reports_them_all(
    reader: ListingReader, tmp_path: Path
) -> None:
    report = reader.read(write(tmp_path, "B-1,castle,lease,CDMX,MX,,,,-1,0,XXX,,,,,\n"))
    assert {r.column for r in report.rejections} == {
        "property_type",
        "offer",
        "size_m2",
        "price",
        "currency",
    }
    assert report.rejected_lines == [2]


def test_a_repeated_id_is_rejected(reader: ListingReader, tmp_path: Path) -> None:
    row = "A-1,office,rent,CDMX,MX,,,,100,1000,MXN,,,,,\n"
    report = reader.read(write(tmp_path, row + row))
    assert len(report.listings) == 1
    assert report.rejections == [Rejection(3, "id", "'A-1' appears earlier in the file")]


def test_a_bad_header_rejects_the_whole_file(reader: ListingReader, tmp_path: Path) -> None:
    path = write(tmp_path, "A-1,office,MX\n", header="id,property_type,country,colour\n")
    report = reader.read(path)
    assert report.listings == []
    assert report.rows == 0
    assert Rejection(1, "colour", "unknown column") in report.rejections
    assert Rejection(1, "price", "required column missing") in report.rejections


@pytest.mark.parametrize(
    ("available", "said"),
    [
        (None, "availability not stated"),
        (dt.date(2026, 11, 1), "available now"),
        (dt.date(2027, 2, 15), "available from 2027-02-15"),
    ],
)
def test_a_listing_in_detail_says_when_it_is_available(
    available: dt.date | None, said: str
) -> None:
    listing = Listing(
        id="x-1",
        property_type="office",
        city=City(value="Mexico City", country="MX", lat=19.43, lon=-99.13),
        zone="Roma Norte",
        lat=19.42,
        lon=-99.16,
        size_m2=200,
        price=5000,
        currency="USD",
        offer="rent",
        amenities=Amenities(parking_spaces=4, elevator=True, furnished=False),
        available_from=available,
    )
    words = MatchWords.load(Settings().field_registry())
    text = words.listing(listing, 2, "en", dt.date(2026, 12, 1))
    lines = text.splitlines()
    assert lines[0] == "2. office in Roma Norte, Mexico City"
    assert lines[1] == f"5,000 USD/month · 200 m², 25 USD/m² · {said}"
    assert lines[2] == "Has: 4 parking spaces, elevator"  # nothing it lacks
    assert lines[3].startswith("Map: https://www.openstreetmap.org/?mlat=19.42000&mlon=-99.16000")
