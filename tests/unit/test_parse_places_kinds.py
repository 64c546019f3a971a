"""Cities, zones and property types found in messages, in Spanish and English."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realty.domain.brief import City, PropertyType, Scalar
from realty.domain.turn import ParseContext
from realty.parsing.kinds import TypeFinder
from realty.parsing.places import CityFinder, CityRecord, Gazetteer
from realty.parsing.text import Message

CTX = ParseContext()
ASKED_CITY = ParseContext(asked=("city",))


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer.load()


@pytest.fixture(scope="module")
def cities(gazetteer: Gazetteer) -> CityFinder:
    return CityFinder(gazetteer)


@pytest.fixture(scope="module")
def types() -> TypeFinder:
    return TypeFinder()


def _cities(finder: CityFinder, text: str, ctx: ParseContext = CTX) -> list[tuple[str, str]]:
    found, _ = finder.find(Message.of(text), ctx)
    out = []
    for cand in found:
        if cand.key == "city":
            assert isinstance(cand.value, City)
            out.append((cand.value.value, cand.value.country))
    return out


# ---- cities ------------------------------------------------------------------------------

CITY_CASES = [
    ("I need an office in Mexico City.", [("Mexico City", "MX")]),
    ("Busco oficina en CDMX", [("Mexico City", "MX")]),
    ("en el DF", [("Mexico City", "MX")]),
    ("una bodega en el D.F.", [("Mexico City", "MX")]),
    ("Ciudad de México", [("Mexico City", "MX")]),
    ("necesito un local en la capital", [("Mexico City", "MX")]),
    ("oficina en GDL", [("Guadalajara", "MX")]),
    ("MTY", [("Monterrey", "MX")]),
    ("una nave en Monterey", [("Monterrey", "MX")]),
    ("in Guadalajra please", [("Guadalajara", "MX")]),
    ("en Qeretaro", [("Santiago de Querétaro", "MX")]),
    ("Ciudad de Mexco", [("Mexico City", "MX")]),
    ("Busco local en renta en Querétaro", [("Santiago de Querétaro", "MX")]),
    ("QRO", [("Santiago de Querétaro", "MX")]),
    ("Necesito una oficina de 200 m2 en Tijuana", [("Tijuana", "MX")]),
    ("office in New York", [("New York City", "US")]),
    ("a warehouse in NYC", [("New York City", "US")]),
    ("busco depa en Nueva York", [("New York City", "US")]),
    ("an office in LA", [("Los Angeles", "US")]),
    ("I live in Austin, TX", [("Austin", "US")]),
    ("en puebla", [("Puebla", "MX")]),
    ("Zapopan", [("Guadalajara", "MX")]),  # a metro municipality: its metro city
    ("en Naucalpan", [("Mexico City", "MX")]),
    ("en San Pedro Garza García", [("Monterrey", "MX")]),
    ("una bodega en Apodaca", [("Monterrey", "MX")]),
    ("en Juárez", [("Ciudad Juárez", "MX")]),
    ("in York", [("York", "US")]),
    ("in Mesa", [("Mesa", "US")]),
]


@pytest.mark.parametrize(("text", "expected"), CITY_CASES)
def test_finds_city(cities: CityFinder, text: str, expected: list[tuple[str, str]]) -> None:
    assert _cities(cities, text) == expected


NO_CITY_CASES = [
    "como",
    "para",
    "I want a nice office",
    "bodega",
    "Mesa",
    "mobile office",
    "Mobile office for rent",
    "York",
    "la oficina",
    "I love LA",
    "for sale",
    "move in March 2027",
    "Edomex",
    "en Edomex",
    "Qeretaro está bien",
    "I can spend 20,000 USD for 500m².",
    "la reforma fiscal",
    "reading the listing",
    "mi tienda en línea",
    "we sell online",
    "",
]


@pytest.mark.parametrize("text", NO_CITY_CASES)
def test_common_words_are_not_cities(cities: CityFinder, text: str) -> None:
    found, unknown = cities.find(Message.of(text), CTX)
    assert found == []
    assert unknown == []


def test_city_carries_coordinates_and_state(cities: CityFinder) -> None:
    found, _ = cities.find(Message.of("oficina en Monterrey"), CTX)
    city = found[0].value
    assert isinstance(city, City)
    assert city.admin1 == "Nuevo León"
    assert city.lat == pytest.approx(25.68, abs=0.01)
    assert found[0].span == (11, 20)


def test_unknown_place_after_preposition_has_suggestions(cities: CityFinder) -> None:
    found, unknown = cities.find(Message.of("I need an office in Springfieldia"), CTX)
    assert found == []
    assert len(unknown) == 1
    assert unknown[0].text == "Springfieldia"
    assert unknown[0].span == (20, 33)
    # Only names that look like it (at most 3), of the countries served.
    assert unknown[0].suggestions == ("Springfield",)


def test_a_name_like_no_city_gets_no_suggestions(cities: CityFinder) -> None:
    _, unknown = cities.find(Message.of("I need an office in Qwxzt"), CTX)
    assert [u.suggestions for u in unknown] == [()]


def test_country_name_is_unknown_not_a_city(cities: CityFinder) -> None:
    found, unknown = cities.find(Message.of("I need an office in Mexico"), CTX)
    assert found == []
    assert [u.text for u in unknown] == ["Mexico"]


ASKED_CASES = [
    ("Querétaro", [("Santiago de Querétaro", "MX")]),
    ("Qeretaro", [("Santiago de Querétaro", "MX")]),
    ("puebla", [("Puebla", "MX")]),
    ("en tijuana creo", [("Tijuana", "MX")]),
    ("Mesa", [("Mesa", "US")]),
    ("no sé", []),
    ("I don't know yet", []),
]


@pytest.mark.parametrize(("text", "expected"), ASKED_CASES)
def test_bare_answer_when_city_was_asked(
    cities: CityFinder, text: str, expected: list[tuple[str, str]]
) -> None:
    assert _cities(cities, text, ASKED_CITY) == expected


def test_bare_unknown_answer_when_city_was_asked(cities: CityFinder) -> None:
    found, unknown = cities.find(Message.of("Springfieldia"), ASKED_CITY)
    assert found == []
    assert unknown[0].text == "Springfieldia"


OPTIONS = ParseContext(options=("Springfield", "Monterrey", "Guadalajara"))
CHOICE_CASES = [
    ("the second one", "Monterrey"),
    ("la segunda", "Monterrey"),
    ("2", "Monterrey"),
    ("the first", "Springfield"),
    ("el primero", "Springfield"),
    ("el último", "Guadalajara"),
    ("option 3", "Guadalajara"),
    ("guadalajara", "Guadalajara"),
]


@pytest.mark.parametrize(("text", "expected"), CHOICE_CASES)
def test_choice_among_offered_cities(cities: CityFinder, text: str, expected: str) -> None:
    assert [name for name, _ in _cities(cities, text, OPTIONS)] == [expected]


def test_choice_out_of_range_is_ignored(cities: CityFinder) -> None:
    assert _cities(cities, "the fifth one", OPTIONS) == []


ZONE_CASES = [
    ("oficina en Polanco", "Polanco", "Mexico City"),
    ("en Santa Fe", "Santa Fe", "Mexico City"),
    ("algo sobre Reforma", "Reforma", "Mexico City"),
    ("Roma Norte", "Roma Norte", "Mexico City"),
    ("office in Valle Oriente", "Valle Oriente", "Monterrey"),
    ("en Providencia", "Providencia", "Guadalajara"),
    ("en Coyoacán", "Coyoacán", "Mexico City"),
]


@pytest.mark.parametrize(("text", "zone", "city"), ZONE_CASES)
def test_zone_implies_its_city(cities: CityFinder, text: str, zone: str, city: str) -> None:
    found, _ = cities.find(Message.of(text), CTX)
    zones = [c.value for c in found if c.key == "zone"]
    assert zones == [Scalar(kind="text", value=zone)]
    implied = [c for c in found if c.key == "city"]
    assert [c.value.value for c in implied if isinstance(c.value, City)] == [city]
    assert implied[0].confidence == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("text", "zone"),
    [
        ("a restaurant in cdmx colonia del valle around 100 m2", "Del Valle"),
        ("local en cdmx colonia roma", "Roma Norte"),
    ],
)
def test_a_lower_case_zone_after_its_city_or_with_its_place_word(
    cities: CityFinder, text: str, zone: str
) -> None:
    """Not "Colonia del Valle" the town: the zone of the city just named."""
    found, unknown = cities.find(Message.of(text), CTX)
    assert [(c.key, getattr(c.value, "value", None)) for c in found] == [
        ("city", "Mexico City"),
        ("zone", zone),
    ]
    assert unknown == []


def test_zone_with_named_city_keeps_the_named_city(cities: CityFinder) -> None:
    found, _ = cities.find(Message.of("oficina en Polanco, CDMX"), CTX)
    assert [(c.key, c.confidence) for c in found] == [("zone", 0.9), ("city", 0.95)]


def test_gazetteer_resolve_and_suggest(gazetteer: Gazetteer) -> None:
    resolved = gazetteer.resolve("Guadalajra")
    assert resolved is not None
    assert resolved.value == "Guadalajara"
    assert gazetteer.resolve("Springfieldia") is None
    assert gazetteer.resolve("Edomex") is None
    assert "Springfield" in gazetteer.suggest("Springfeld", limit=3)


def test_small_gazetteer_prefers_large_home_city() -> None:
    records = [
        CityRecord("Monterey", "US", 36.6, -121.9, 28_000),
        CityRecord("Monterrey", "MX", 25.7, -100.3, 1_100_000, alternates=("Monterey",)),
    ]
    gaz = Gazetteer(records)
    resolved = gaz.resolve("Monterey")
    assert resolved is not None
    assert (resolved.value, resolved.country) == ("Monterrey", "MX")


# ---- property types ----------------------------------------------------------------------

TYPE_CASES = [
    ("I need a 5,000 m2 lot in Querétaro for an industrial park", [("land", "lot")]),
    ("Buscamos un terreno para construir una nave", [("land", "terreno")]),
    ("land to build a warehouse", [("land", "land")]),
    ("I want to buy an office building in Monterrey", [("office", "office building")]),
    ("necesitamos un edificio corporativo", [("office", "edificio corporativo")]),
    ("I need an office in Mexico City.", [("office", "office")]),
    ("Busco oficinas en renta", [("office", "oficinas")]),
    ("office space downtown", [("office", "office space")]),
    ("un despacho pequeño", [("office", "despacho")]),
    ("una bodega de 500 m2", [("warehouse", "bodega")]),
    ("un almacén", [("warehouse", "almacén")]),
    ("a distribution center", [("warehouse", "distribution center")]),
    ("centro de distribución", [("warehouse", "centro de distribución")]),
    ("nave industrial", [("industrial", "nave industrial")]),
    ("a factory", [("industrial", "factory")]),
    ("fábrica", [("industrial", "fábrica")]),
    ("un local comercial", [("retail", "local comercial")]),
    ("un local en Polanco", [("retail", "local")]),
    ("a storefront", [("retail", "storefront")]),
    ("a coffee shop", [("retail", "coffee shop")]),  # a business: proposed, not named
    ("un terreno", [("land", "terreno")]),
    ("a lot in Austin", [("land", "lot")]),
    ("coworking", [("coworking", "coworking")]),
    ("a shared office", [("coworking", "shared office")]),
    ("a hot desk", [("coworking", "hot desk")]),
    ("un consultorio", [("medical", "consultorio")]),
    ("a medical office", [("medical", "medical office")]),
    ("un hotel", [("hotel", "hotel")]),
    ("mixed-use building", [("mixed_use", "mixed-use building")]),
    ("de uso mixto", [("mixed_use", "uso mixto")]),
    ("un depa", [("apartment", "depa")]),
    ("a condo", [("apartment", "condo")]),
    ("busco una casa", [("house", "casa")]),
    ("a house", [("house", "house")]),
    ("ofcina en polanco", [("office", "ofcina")]),
    ("oficna", [("office", "oficna")]),
    ("warehose", [("warehouse", "warehose")]),
    ("bodga", [("warehouse", "bodga")]),
    ("I need a data center in Monterrey", [("other", "data center")]),
    ("busco un salón de eventos", [("other", "salón de eventos")]),
    ("una oficina, mejor una bodega", [("office", "oficina"), ("warehouse", "bodega")]),
]


@pytest.mark.parametrize(("text", "expected"), TYPE_CASES)
def test_finds_property_type(types: TypeFinder, text: str, expected: list[tuple[str, str]]) -> None:
    found = types.find(Message.of(text), CTX)
    values = [c.value for c in found]
    assert all(isinstance(v, PropertyType) for v in values)
    assert [(v.value, v.text) for v in values if isinstance(v, PropertyType)] == expected


NO_TYPE_CASES = [
    "a lot of parking",
    "thanks a lot",
    "I want to store goods",
    "trabajo desde casa",
    "post office",
    "a local business",
    "I need a place to park",
    "I need a budget",
    "I need a garage",
    "¿cuál es el precio?",
    "Tienen algo?",
    "quiero una cita",
]


@pytest.mark.parametrize("text", NO_TYPE_CASES)
def test_no_property_type(types: TypeFinder, text: str) -> None:
    assert types.find(Message.of(text), CTX) == []


def test_unknown_type_has_low_confidence(types: TypeFinder) -> None:
    (found,) = types.find(Message.of("I need a data center"), CTX)
    assert found.confidence == pytest.approx(0.6)
    assert found.span == (9, 20)


# ---- robustness --------------------------------------------------------------------------

ODD_TEXTS = [
    "",
    " ",
    "🙂🙂🙂",
    "\x00\x01\x02",
    "a" * 10_000,
    "en " * 3_000,
    "in " + "Springfieldia " * 500,
    "¿¡!?",
    "ñññ ÑÑÑ",
    "m² ²²²",
    "\u202e\u200b",
]


@pytest.mark.parametrize("text", ODD_TEXTS)
def test_never_raises_on_odd_text(cities: CityFinder, types: TypeFinder, text: str) -> None:
    msg = Message.of(text)
    for ctx in (CTX, ASKED_CITY, OPTIONS):
        cities.find(msg, ctx)
        types.find(msg, ctx)


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=200))
def test_never_raises_on_random_text(cities: CityFinder, types: TypeFinder, text: str) -> None:
    msg = Message.of(text)
    cities.find(msg, ASKED_CITY)
    types.find(msg, CTX)


@pytest.mark.parametrize(
    ("text", "options"),
    [
        ("oficina en Guadalajara o Monterrey", ("Guadalajara", "Monterrey")),
        ("Necesito oficinas en Guadalajara y en Monterrey", ("Guadalajara", "Monterrey")),
        ("office in Austin, Dallas or Houston", ("Austin", "Dallas", "Houston")),
        ("a warehouse in Tijuana or maybe in Mexicali", ("Tijuana", "Mexicali")),
    ],
)
def test_cities_named_as_a_choice_are_asked_about(
    cities: CityFinder, text: str, options: tuple[str, ...]
) -> None:
    found, unknown = cities.find(Message.of(text), CTX)
    assert [c for c in found if c.key == "city"] == []
    (choice,) = unknown
    assert choice.options_from == "named"
    assert choice.suggestions == options


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("busco oficina en Guadalajara, no, mejor en Monterrey", "Monterrey"),
        ("bodega en Córdoba, Veracruz", "Córdoba"),
        ("office in Monterrey or in Monterrey", "Monterrey"),
    ],
)
def test_a_correction_or_one_city_is_no_choice(cities: CityFinder, text: str, city: str) -> None:
    assert _cities(cities, text)[-1][0] == city
    _, unknown = cities.find(Message.of(text), CTX)
    assert not any(u.options_from == "named" for u in unknown)


def test_indifference_is_not_an_unknown_city(cities: CityFinder) -> None:
    ctx = CTX.model_copy(update={"asked": ("city",)})
    for text in ("whichever is cheaper", "cualquiera", "me da igual"):
        found, unknown = cities.find(Message.of(text), ctx)
        assert (found, unknown) == ([], []), text


@pytest.mark.parametrize(
    ("text", "region", "first"),
    [
        ("busco una nave en el Bajío", "el Bajío", "Querétaro"),
        ("I need office space in Texas", "Texas", "Houston"),
        ("warehouse near the border, 5000 m2", "the border", "Tijuana"),  # not Boulder
        ("un local en la Riviera Maya", "la Riviera Maya", "Cancún"),
    ],
)
def test_a_region_named_instead_of_a_city_offers_its_cities(
    cities: CityFinder, text: str, region: str, first: str
) -> None:
    found, unknown = cities.find(Message.of(text), CTX)
    assert [c for c in found if c.key == "city"] == []
    (place,) = unknown
    assert (place.text, place.options_from, place.suggestions[0]) == (region, "region", first)


def test_a_city_named_with_its_region_is_the_city(cities: CityFinder) -> None:
    assert _cities(cities, "una bodega en Querétaro, en el Bajío")[0][0] == "Santiago de Querétaro"
    assert _cities(cities, "office in Houston, Texas") == [("Houston", "US")]


@pytest.mark.parametrize(
    ("text", "city"),
    [
        ("terreno en las afueras de Mérida", "Mérida"),
        ("una bodega en la periferia de Puebla", "Puebla"),
        ("en las orillas de Monterrey", "Monterrey"),
        ("land on the outskirts of Merida", "Mérida"),
    ],
)
@pytest.mark.parametrize("ctx", [CTX, ASKED_CITY], ids=["unasked", "asked"])
def test_the_outskirts_of_a_city_are_that_city(
    cities: CityFinder, text: str, city: str, ctx: ParseContext
) -> None:
    assert _cities(cities, text, ctx) == [(city, "MX")]
    assert cities.find(Message.of(text), ctx)[1] == []  # no unknown place


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("forget Monterrey, budget 20k USD", [("remove", "Monterrey")]),
        ("olvídate de Monterrey", [("remove", "Monterrey")]),
        # Withdrawn and replaced in one breath: the new city, and no choice to ask about.
        (
            "forget Monterrey, Guadalajara instead",
            [("remove", "Monterrey"), ("set", "Guadalajara")],
        ),
    ],
)
def test_a_city_withdrawn_by_name(
    cities: CityFinder, text: str, found: list[tuple[str, str]]
) -> None:
    candidates, unknown = cities.find(Message.of(text), CTX)
    assert [(c.op, getattr(c.value, "value", None)) for c in candidates] == found
    assert unknown == []
