"""Phone numbers and emails: found, kept out of the budget and the size, read into the brief."""

from __future__ import annotations

import pytest

from realty.domain.turn import ParseContext
from realty.parsing.contact import ContactFinder
from realty.pipeline.parse import Parser


@pytest.mark.parametrize(
    ("text", "country", "found"),
    [
        ("my number is +52 55 1234 5678", "MX", [("phone", "+525512345678")]),
        ("mi cel es 33-1234-5678", "MX", [("phone", "+523312345678")]),
        ("llámame al 5512345678 porfa", "MX", [("phone", "+525512345678")]),
        ("call me at (512) 555-0142", "US", [("phone", "+15125550142")]),
        # The other country the product serves, without its code.
        ("my number is 305 555 0199", "MX", [("phone", "+13055550199")]),
        ("mi cel es 442 123 4567", "US", [("phone", "+524421234567")]),
        ("write to Ana.Lopez@Example.com.mx", "MX", [("email", "ana.lopez@example.com.mx")]),
        (
            "ana@example.com or +1 512 555 0142",
            "MX",
            [("email", "ana@example.com"), ("phone", "+15125550142")],
        ),
    ],
)
def test_phone_numbers_and_emails_are_found(
    text: str, country: str, found: list[tuple[str, str]]
) -> None:
    assert [(c.kind, c.value) for c in ContactFinder(country).find(text)] == found


@pytest.mark.parametrize(
    "text",
    [
        "I can spend 20,000 USD for 500m²",
        "2 000 000 000 pesos",
        "between 15000 and 20000",
        "500 m2 in 2027-03-01",
        "12345",
    ],
)
def test_amounts_sizes_and_dates_are_not_contacts(text: str) -> None:
    assert ContactFinder("MX").find(text) == []


def test_a_phone_number_is_not_read_as_a_budget_or_a_size(parser: Parser) -> None:
    extraction = parser.parse("my number is +52 55 1234 5678", ParseContext())
    assert [(c.key, c.value.value if c.value else None) for c in extraction.candidates] == [
        ("phone", "+525512345678")
    ]


def test_a_contact_next_to_a_brief_keeps_both(parser: Parser) -> None:
    text = "Oficina en Monterrey de 300 m2, mi correo es ana@example.com"
    keys = {c.key for c in parser.parse(text, ParseContext()).candidates}
    assert {"property_type", "city", "size", "email"} <= keys
    assert "budget" not in keys
