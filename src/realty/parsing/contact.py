"""Phone numbers and email addresses a prospect leaves so a broker can reach them.

Phone numbers are found by ``phonenumbers`` (libphonenumber's rules: a number valid for the
market's country, then for the other country the product serves — a Mexican deployment also
reads "305 867 5309" as a US number —, or any country when written with ``+``); an amount
written with spaces as thousands separators ("2 000 000 000") is not a phone number. Emails
by a plain pattern.
What is found is taken out of the text before the other finders read it, so the digits of a
phone number never become a budget or a size. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

import phonenumbers

ContactKind = Literal["phone", "email"]

_EMAIL: Final = re.compile(
    r"(?<![\w.%+-])[\w%+-][\w.%+-]*@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])"
)
_GROUPS: Final = re.compile(r"[\s().-]+")
# The fewest digits a phone number valid anywhere has (a country code and a short number).
MIN_PHONE_DIGITS: Final = 7
# The other country the product serves: its numbers are read too, after the market's own.
_NEIGHBOUR: Final = {"MX": "US", "US": "MX"}


@dataclass(frozen=True, slots=True)
class Contact:
    """A phone number (E.164, ``+525512345678``) or an email (lower-cased) and where it was."""

    kind: ContactKind
    value: str
    span: tuple[int, int]


class ContactFinder:
    """Finds the phone numbers and emails in a message.

    Args:
        country: The market's country (ISO code): how a number without ``+`` is read.
    """

    def __init__(self, country: str = "MX") -> None:
        self._region = country.upper()
        neighbour = _NEIGHBOUR.get(self._region)
        self._regions = (self._region, neighbour) if neighbour else (self._region,)

    def find(self, text: str) -> list[Contact]:
        """Every phone number and email in ``text``, in text order."""
        found = [
            Contact("email", m.group(0).lower(), (m.start(), m.end()))
            for m in _EMAIL.finditer(text)
        ]
        if sum(ch.isdigit() for ch in text) < MIN_PHONE_DIGITS:
            return found  # too few digits for any phone number: skip the costly matcher
        for region in self._regions:
            taken = [c.span for c in found]
            matcher = phonenumbers.PhoneNumberMatcher(
                text, region, leniency=phonenumbers.Leniency.VALID
            )
            for match in matcher:
                span = (match.start, match.end)
                if _thousands(match.raw_string) or any(_overlap(span, t) for t in taken):
                    continue
                number = phonenumbers.format_number(
                    match.number, phonenumbers.PhoneNumberFormat.E164
                )
                found.append(Contact("phone", number, span))
        return sorted(found, key=lambda c: c.span)

    @staticmethod
    def blank(text: str, contacts: list[Contact]) -> str:
        """``text`` with every contact replaced by spaces (spans keep their offsets)."""
        for contact in contacts:
            start, end = contact.span
            text = text[:start] + " " * (end - start) + text[end:]
        return text


def digit_groups(written: str) -> list[str]:
    """The runs of a number as written, between its separators (spaces, dots, dashes,
    parentheses): ``"55 1234-5678"`` → ``["55", "1234", "5678"]``."""
    return [g for g in _GROUPS.split(written.strip()) if g]


def grouped_as_thousands(groups: Sequence[str]) -> bool:
    """Groups of an amount, not of a phone number: three or more, the first of up to three
    digits and every other of exactly three ("2 000 000 000", "2.000.000.000")."""
    return len(groups) > 2 and len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])


def _thousands(written: str) -> bool:
    """Digits grouped as an amount, not as a phone number (which ``+`` always starts)."""
    return not written.lstrip().startswith("+") and grouped_as_thousands(digit_groups(written))


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]
