"""Date phrases to dates: one reader for the parser and the evaluations.

``read_date("el 15 de enero", today)`` → 2027-01-15. Mexican and US phrasings are rewritten
into forms dateparser reads ("el mes que viene" → "el próximo mes", "finales de marzo" →
"marzo"); a bare day ("the 6th") is this month's, or next month's once it has passed; "Wednesday
next week" is the Wednesday of the calendar week after today's. Dates resolve into the future.
The phrase is folded text (lower case, no accents), as the parser's words are.
"""

from __future__ import annotations

import datetime as dt
import re

import dateparser

# Rewrites that make Mexican and US phrasings readable to dateparser.
_DATE_REWRITES: tuple[tuple[str, str], ...] = (
    ("el mes que viene", "el proximo mes"),
    ("la semana que viene", "la proxima semana"),
    ("el ano que viene", "el proximo ano"),
    ("principios de ", ""),
    ("inicios de ", ""),
    ("comienzos de ", ""),
    ("mediados de ", ""),
    ("finales de ", ""),
    ("fin de ", ""),
    ("early ", ""),
    ("beginning of ", ""),
    ("mid ", ""),
    ("end of ", ""),
)
_LEADING_ARTICLE = re.compile(r"^(?:el|la|the|on|on the|in|en)\s+(?=\d)")
_LEADING_WORD = re.compile(r"^(?:on|for|the|el|la)\s+")
_LEADING_THE = re.compile(r"^(?:the|el)\s+")
_SETTINGS = {"PREFER_DATES_FROM": "future", "PREFER_DAY_OF_MONTH": "first"}
_LANGUAGES = ["es", "en"]
WEEKDAY_INDEX = (
    {name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday"))}
    | {"saturday": 5, "sunday": 6, "lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3}
    | {"viernes": 4, "sabado": 5, "domingo": 6}
)
# "Wednesday next week" / "el miércoles de la próxima semana": that weekday of next week.
_NEXT_WEEK = re.compile(
    r"^(\w+) (?:of )?next week$|^(?:el )?(\w+) de la (?:proxima|siguiente) semana$"
)
ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th|ro|o)?$")
_DAY_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?:later|earlier|sometime)\s+"), ""),
    (re.compile(r"^(\w+day) this week$"), r"this \1"),
    (re.compile(r"\s+of (?:this|the) month$"), ""),
)


# "next March", "el próximo marzo", "this coming June": the month itself (dates resolve into
# the future), which the date library does not read with those words before it.
_NEXT_MONTH_NAME = re.compile(
    r"^(?:(?:in|en|on|for|para|by)\s+)?(?:(?:el|la|the)\s+)?"
    r"(?:next|this coming|coming|this|proximo|proxima|siguiente|este)\s+"
    r"(january|february|march|april|may|june|july|august|september|october|november|december|"
    r"enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre|octubre|noviembre|"
    r"diciembre)\b"
)


def read_date(phrase: str, today: dt.date, *, days: bool = True) -> dt.date | None:
    """The date ``phrase`` names, relative to ``today``; ``None`` when it names none.

    Args:
        phrase: Folded words ("el 15 de enero", "next friday", "the 6th").
        today: What relative phrases are read against.
        days: Also read day phrases ("the 6th", "Wednesday next week", "later this week"),
            as a visit is arranged; a move-in date is read as a calendar phrase only.
    """
    if days:
        phrase = _LEADING_ARTICLE.sub("", phrase.strip())
        phrase = _LEADING_THE.sub("", _LEADING_WORD.sub("", phrase))
        for pattern, replacement in _DAY_REWRITES:
            phrase = pattern.sub(replacement, phrase)
        day = ORDINAL.match(phrase)
        if day:
            return day_of_month(int(day.group(1)), today)
        weekday = _NEXT_WEEK.match(phrase)
        name = (weekday.group(1) or weekday.group(2)) if weekday else None
        if name in WEEKDAY_INDEX:
            return in_next_week(WEEKDAY_INDEX[name], today)
    return _calendar(phrase, today)


def _calendar(phrase: str, today: dt.date) -> dt.date | None:
    for old, new in _DATE_REWRITES:
        phrase = phrase.replace(old, new)
    phrase = _LEADING_ARTICLE.sub("", phrase.strip())
    phrase = _NEXT_MONTH_NAME.sub(r"\1", phrase)
    settings = {**_SETTINGS, "RELATIVE_BASE": dt.datetime.combine(today, dt.time())}
    try:
        parsed = dateparser.parse(phrase, languages=_LANGUAGES, settings=settings)
    except (ValueError, OverflowError, TypeError):
        return None
    return parsed.date() if parsed is not None else None


def day_of_month(day: int, today: dt.date) -> dt.date | None:
    """A bare day ("the 6th") is this month's, or next month's when it has passed."""
    year, month = today.year, today.month
    if day < today.day:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def in_next_week(weekday: int, today: dt.date) -> dt.date:
    """That weekday in the calendar week (Monday to Sunday) after today's."""
    monday = today + dt.timedelta(days=7 - today.weekday())
    return monday + dt.timedelta(days=weekday)
