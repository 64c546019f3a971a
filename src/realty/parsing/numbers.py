"""Numbers written in a message, in digits or in words (es-MX / en-US).

``find_numbers`` locates every number a prospect wrote and gives its value and its span in the
original text: ``20,000``, ``20.000`` (Spanish thousands), ``1,5`` (decimal comma), ``20k``,
``1.5M``, ``2MM``, ``20 mil``, ``1.5 millones``, ``veinte mil``, ``two and a half million``,
``medio millón``, ``3 mdp`` (millions of pesos) and ``500+``. Ordinals (``3rd``, ``1er``) and
numbers after ``#`` are ranks, not quantities, and are skipped; times, percentages and
fractions such as ``24/7`` are skipped too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from text_to_num import text2num

from realty.domain.brief import Language
from realty.parsing.text import Message, Word

# ---- vocabularies (folded spelling: lower case, no accents) ----

_ES_WORDS: frozenset[str] = frozenset(
    [
        "cero",
        "uno",
        "una",
        "un",
        "dos",
        "tres",
        "cuatro",
        "cinco",
        "seis",
        "siete",
        "ocho",
        "nueve",
        "diez",
        "once",
        "doce",
        "trece",
        "catorce",
        "quince",
        "dieciseis",
        "diecisiete",
        "dieciocho",
        "diecinueve",
        "veinte",
        "veintiuno",
        "veintiuna",
        "veintiun",
        "veintidos",
        "veintitres",
        "veinticuatro",
        "veinticinco",
        "veintiseis",
        "veintisiete",
        "veintiocho",
        "veintinueve",
        "treinta",
        "cuarenta",
        "cincuenta",
        "sesenta",
        "setenta",
        "ochenta",
        "noventa",
        "cien",
        "ciento",
        "doscientos",
        "doscientas",
        "trescientos",
        "trescientas",
        "cuatrocientos",
        "cuatrocientas",
        "quinientos",
        "quinientas",
        "seiscientos",
        "seiscientas",
        "setecientos",
        "setecientas",
        "ochocientos",
        "ochocientas",
        "novecientos",
        "novecientas",
        "mil",
        "millon",
        "millones",
    ]
)
_EN_WORDS: frozenset[str] = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
    ]
)
# Spanish tens that may be joined to a unit by "y" ("treinta y cinco").
_ES_TENS: frozenset[str] = frozenset(
    ["treinta", "cuarenta", "cincuenta", "sesenta", "setenta", "ochenta", "noventa"]
)
_ES_UNITS: frozenset[str] = frozenset(
    ["uno", "una", "un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"]
)
_HALF: frozenset[str] = frozenset({"medio", "media", "half"})
# Words that only count as "one" when a larger number word follows ("un millón", "a hundred").
_ARTICLES: frozenset[str] = frozenset({"un", "una", "a"})
# Folded spellings text2num does not know, mapped to the spelling it expects.
_SPELLING: Mapping[str, str] = MappingProxyType(
    {
        "veintidos": "veintidós",
        "veintitres": "veintitrés",
        "veintiseis": "veintiséis",
        "veintiun": "veintiuno",
    }
)
# Multipliers, as words after a number ("20 mil", "1.5 million", "20 grand").
_SCALE_WORDS: Mapping[str, float] = MappingProxyType(
    {
        "mil": 1e3,
        "millon": 1e6,
        "millones": 1e6,
        "thousand": 1e3,
        "million": 1e6,
        "millions": 1e6,
        "billion": 1e9,
        "grand": 1e3,
    }
)
# Multipliers attached to (or right after) digits; mdp/mdd also name the currency.
_SUFFIXES: Mapping[str, tuple[float, str | None]] = MappingProxyType(
    {
        "k": (1e3, None),
        "mm": (1e6, None),
        "m": (1e6, None),
        "mdp": (1e6, "MXN"),
        "mdd": (1e6, "USD"),
        # Mexican slang: "18 lucas" is eighteen thousand pesos.
        "lucas": (1e3, "MXN"),
        "lukas": (1e3, "MXN"),
    }
)
# A lower-case "m" after digits usually means metres; it is a million only before a currency.
_MILLION_M_BEFORE = ("usd", "us$", "dolares", "dollars", "dls", "dlls", "mxn", "pesos", "eur")
# Tokens that, right before a dash, make it a range dash ("15k - 20k") rather than a minus.
_RANGE_TAILS: frozenset[str] = frozenset(
    [
        "k",
        "m",
        "mm",
        "mil",
        "usd",
        "mxn",
        "eur",
        "pesos",
        "dolares",
        "dollars",
        "euros",
        "m2",
        "mts",
        "mts2",
        "mt2",
        "metros",
        "sqm",
        "sqft",
        "ft2",
        "ha",
    ]
)

# Digits start a number after a non-word character, or glued to a currency ("usd12k").
# Thousands may also be grouped by spaces ("20 000 USD", "1 200 m²", the SI and French way;
# no-break and thin spaces too): then the first group has one to three digits and every
# other exactly three, and a decimal part may follow ("1 200,50").
_GROUP_SPACES = "\u0020\u00a0\u2009\u202f"
_DIGITS = re.compile(
    r"(?:(?<![\w#.,/:])|(?<=usd)|(?<=mxn)|(?<=eur)|(?<=dlls))"
    rf"(?:[0-9]{{1,3}}(?:[{_GROUP_SPACES}][0-9]{{3}})+(?:[.,][0-9]+)?(?![0-9]|[.,][0-9])"
    r"|[0-9]+(?:[.,][0-9]+)*)"
)
_SPACES = str.maketrans("", "", _GROUP_SPACES)
_ORDINAL = re.compile(
    r"(?:st|nd|rd|th|era|ero|er|do|da|ro|ra|to|ta|vo|va|no|na|mo|ma|o|a|º|ª|°)(?![a-z0-9])"
)
_SUFFIX = re.compile(r"(mdp|mdd|mm|k|m)(?![a-z0-9])|\s(mdp|mdd|k|lucas|lukas)(?![a-z0-9])")
# Fractions of a unit or of a scale word: "un cuarto de hectárea", "media hectárea", "half an
# acre", "three quarters of a million". Only read before one of those words, so "un cuarto"
# (a room) and "medio" (middle) stay words.
_FRACTIONS: Mapping[str, float] = MappingProxyType(
    {
        "un cuarto": 0.25,
        "una cuarta parte": 0.25,
        "tres cuartos": 0.75,
        "tres cuartas partes": 0.75,
        "medio": 0.5,
        "media": 0.5,
        "un tercio": 1 / 3,
        "dos tercios": 2 / 3,
        "a quarter": 0.25,
        "one quarter": 0.25,
        "quarter": 0.25,
        "three quarters": 0.75,
        "three-quarters": 0.75,
        "half": 0.5,
        "half a": 0.5,
        "half an": 0.5,
        "one half": 0.5,
        "a third": 1 / 3,
        "one third": 1 / 3,
        "two thirds": 2 / 3,
        # written in digits: "1/2 hectárea", "3/4 de acre"
        "1/2": 0.5,
        "1/4": 0.25,
        "3/4": 0.75,
    }
)
# "4 millones y medio" (a half after a scale word), "2 and a half million" (before it).
_AND_A_HALF = re.compile(r"\s+(?:y\s+medio|y\s+media|and\s+a\s+half)(?![a-z])")
_FRACTION_UNITS = (
    "hectareas",
    "hectarea",
    "hectares",
    "hectare",
    "acres",
    "acre",
    "manzana",
    "manzanas",
)
_FRACTION = re.compile(
    r"(?<![a-z0-9])("
    + "|".join(sorted((re.escape(f) for f in _FRACTIONS), key=len, reverse=True))
    + r")\s+(?:(?:de|of)\s+)?(?:(?:una|un|an|a)\s+)?(?=("
    + "|".join((*_FRACTION_UNITS, "millones", "millon", "million", "mil", "thousand"))
    + r")(?![a-z]))"
)
_SKIP_AFTER = re.compile(r"[:/][0-9]|%|\s?(?:am|pm|hrs?)(?![a-z])")
_SCALE_WORD = re.compile(r"\s*([a-z]+)")  # glued too: "20mil"
_MAX_CHARS = 40  # longer digit strings are not amounts (ids); shorter huge ones are refused later
_MAX_RUN = 12


@dataclass(frozen=True, slots=True)
class Number:
    """A number found in a message.

    Attributes:
        value: The value with any multiplier applied (``20 mil`` → 20000).
        start: Start of the number in the original text.
        end: End of the number (including its multiplier and a trailing ``+``).
        text: The original text of the number.
        scale: The multiplier that was applied (1 when none), so a range such as
            ``15 y 20 mil`` can apply it to its lower end.
        currency: A currency implied by the multiplier (``mdp`` → ``MXN``).
        plus: Written with a trailing ``+`` ("500+"), meaning "at least".
        spelled: Written in words rather than digits.
    """

    value: float
    start: int
    end: int
    text: str
    scale: float = 1.0
    currency: str | None = None
    plus: bool = False
    spelled: bool = False


def number_vocabulary() -> frozenset[str]:
    """Every folded word that can spell part of a number, in Spanish or English."""
    return _ES_WORDS | _EN_WORDS | frozenset(_SCALE_WORDS)


def scale_words() -> frozenset[str]:
    """Words and suffixes that multiply a number ("mil", "million", "k", "mdp").

    The bare "m" and "mm" are left out: after a number they usually mean metres.
    """
    return frozenset(_SCALE_WORDS) | frozenset(s for s in _SUFFIXES if s not in ("m", "mm"))


def find_numbers(msg: Message, lang: Language | None = None) -> list[Number]:
    """All numbers written in ``msg``, in text order.

    Args:
        msg: The message.
        lang: The conversation language, used to read number words that exist in both
            languages; ``None`` lets the words decide.

    Returns:
        The numbers, in text order, none overlapping another.
    """
    fractions = _fraction_numbers(msg)
    digits = [
        n
        for n in _digit_numbers(msg)
        if not any(n.start < f.end and f.start < n.end for f in fractions)
    ]
    taken = sorted([*digits, *fractions], key=lambda n: n.start)
    free = _words_outside(msg.words, taken)
    spelled = _spelled_numbers(msg, free, lang)
    return _join_compounds(msg, sorted([*taken, *spelled], key=lambda n: n.start))


def _fraction_numbers(msg: Message) -> list[Number]:
    """Fractions written before a unit of land or a scale word ("media hectárea")."""
    out: list[Number] = []
    for match in _FRACTION.finditer(msg.folded):
        before = msg.folded[: match.start()].split()
        if before and before[-1] in {"and", "y", "a", "e"}:
            continue  # "two and a half million", "dos y media hectáreas": part of a number
        value = _FRACTIONS[match.group(1)]
        end, scale = len(msg.folded[: match.end()].rstrip()), 1.0
        if match.group(2) not in _FRACTION_UNITS:
            scale, _, end = _scale_words(msg.folded, match.end())
        out.append(
            Number(
                value=value * scale,
                start=match.start(),
                end=end,
                text=msg.text[match.start() : end],
                scale=scale,
                spelled=True,
            )
        )
    return out


def _join_compounds(msg: Message, numbers: list[Number]) -> list[Number]:
    """Join a scaled number to the smaller one written right after it.

    "9 mil quinientos", "2 mil 500" and "19 mil quinientos" are one amount each: the
    thousands and the units that follow them with nothing but a space in between.
    """
    out: list[Number] = []
    for number in numbers:
        prev = out[-1] if out else None
        if prev is not None and _continues(msg, prev, number):
            out[-1] = Number(
                value=prev.value + number.value,
                start=prev.start,
                end=number.end,
                text=msg.text[prev.start : number.end],
                scale=prev.scale,
                currency=prev.currency,
                plus=number.plus,
                spelled=prev.spelled and number.spelled,
            )
            continue
        out.append(number)
    return out


def _continues(msg: Message, prev: Number, number: Number) -> bool:
    if prev.scale < 1e3 or number.scale != 1.0 or prev.plus or number.currency is not None:
        return False
    if not 0 < number.value < prev.scale or number.value != int(number.value):
        return False
    return not msg.text[prev.end : number.start].strip()


def _words_outside(words: Sequence[Word], numbers: list[Number]) -> list[Word]:
    """Words not inside a digit number (both lists are in text order)."""
    out: list[Word] = []
    i = 0
    for word in words:
        while i < len(numbers) and numbers[i].end <= word.start:
            i += 1
        if i == len(numbers) or word.end <= numbers[i].start:
            out.append(word)
    return out


# ---- digits ----


def parse_digits(token: str) -> float | None:
    """Value of a digit token with thousands separators or a decimal comma/point.

    ``20,000`` and ``20.000`` are twenty thousand; ``1,5`` and ``1.5`` are one and a half;
    ``1,500.50`` and ``1.500,50`` are 1500.5. A single separator followed by exactly three
    digits is a thousands separator (Spanish writes ``20.000``).

    >>> parse_digits("1.500,50"), parse_digits("1,5"), parse_digits("20.000")
    (1500.5, 1.5, 20000.0)
    """
    if len(token) > _MAX_CHARS:
        return None
    seps = [ch for ch in token if ch in ".,"]
    if not seps:
        return float(token)
    groups = re.split(r"[.,]", token)
    if len(set(seps)) == 2:
        # Both marks: the last one is the decimal separator.
        return float("".join(groups[:-1]) + "." + groups[-1])
    thousands = all(len(g) == 3 for g in groups[1:]) and 0 < len(groups[0]) <= 3
    if len(seps) > 1 and not thousands:
        return None  # "1.2.3" is a version or a date, not an amount
    if thousands and groups[0] != "0":
        return float("".join(groups))
    return float(groups[0] + "." + groups[1]) if len(groups) == 2 else None


def _digit_numbers(msg: Message) -> list[Number]:
    out: list[Number] = []
    for match in _DIGITS.finditer(msg.folded):
        number = _digit_number(msg, match.start(), match.end(), out[-1] if out else None)
        if number is not None:
            out.append(number)
    return out


def _digit_number(msg: Message, start: int, end: int, previous: Number | None) -> Number | None:
    folded = msg.folded
    if _ORDINAL.match(folded, end) or _is_clock_or_ratio(folded, start, end):
        return None
    token = folded[start:end].translate(_SPACES)
    if not msg.text[start:end].translate(_SPACES).replace(",", "").replace(".", "").isascii():
        return None  # "²" folds to "2" but is an exponent, not a number
    value = parse_digits(token)
    if value is None:
        return None
    scale, currency, end = _suffix(msg, end)
    if (half := _AND_A_HALF.match(folded, end)) is not None:
        if scale > 1:
            value, end = value + 0.5, half.end()  # "4 millones y medio"
        else:  # "2 and a half thousand", "3 y medio millones": the half before the scale
            half_scale, half_currency, half_end = _scale_words(folded, half.end())
            if half_scale > 1:
                value, scale, currency, end = value + 0.5, half_scale, half_currency, half_end
    plus = folded.startswith("+", end)
    if plus:
        end += 1
    if _is_minus(folded, start, previous):
        start -= 1
        value = -value
    return Number(
        value=value * scale,
        start=start,
        end=end,
        text=msg.text[start:end],
        scale=scale,
        currency=currency,
        plus=plus,
    )


def _is_clock_or_ratio(folded: str, start: int, end: int) -> bool:
    """Times ("5:30", "3pm"), percentages and ratios ("24/7") are not quantities."""
    skip = _SKIP_AFTER.match(folded, end)
    if skip is None:
        return False
    if skip.group(0).strip() in {"am", "pm", "hr", "hrs"}:
        # "20000 pm" is a monthly amount; only small numbers are hours.
        return folded[start:end].isdigit() and int(folded[start:end]) <= 24
    return True


def _suffix(msg: Message, end: int) -> tuple[float, str | None, int]:
    """Multiplier written after the digits: attached letters or following scale words."""
    match = _SUFFIX.match(msg.folded, end)
    if match is not None:
        key = match.group(1) or match.group(2)
        if key != "m" or _is_million_m(msg, end):
            scale, currency = _SUFFIXES[key]
            return scale, currency, match.end()
    return _scale_words(msg.folded, end)


def _is_million_m(msg: Message, end: int) -> bool:
    if msg.text[end] == "M":
        return True
    rest = msg.folded[end + 1 : end + 12].lstrip()
    return rest.startswith(_MILLION_M_BEFORE)


def _scale_words(folded: str, end: int) -> tuple[float, str | None, int]:
    """``20 mil``, ``2 millones``, ``2 mil millones``: multiply by the scale words that follow."""
    scale = 1.0
    while (match := _SCALE_WORD.match(folded, end)) is not None and match.group(1) in _SCALE_WORDS:
        scale *= _SCALE_WORDS[match.group(1)]
        end = match.end()
    return scale, None, end


def _is_minus(folded: str, start: int, previous: Number | None) -> bool:
    """A dash right before the digits is a minus sign unless it joins a range."""
    if start == 0 or folded[start - 1] != "-":
        return False
    before = folded[: start - 1].rstrip()
    if not before or before[-1] in ",;:(=":
        return True
    if previous is not None and previous.end >= len(before):
        return False
    last = before.split()[-1]
    return not (any(ch.isdigit() for ch in last) or last in _RANGE_TAILS or last[-1] in "-–")


# ---- words ----


def _spelled_numbers(msg: Message, free: list[Word], lang: Language | None) -> list[Number]:
    out: list[Number] = []
    for run in _runs(msg.folded, free):
        out.extend(_convert_run(msg, run, lang))
    return out


def _is_number_word(text: str) -> bool:
    return text in _ES_WORDS or text in _EN_WORDS or text in _HALF


def _joins(prev: str, word: str, nxt: str | None) -> bool:
    """Whether a connector word belongs inside a number ("treinta y cinco", "and a half")."""
    if word == "y":
        return (prev in _ES_TENS and nxt in _ES_UNITS) or nxt in _HALF
    if word == "and":
        return prev in {"hundred", "thousand", "million"} or nxt in {"a", *_HALF}
    if word == "a":
        return nxt in {"hundred", "thousand", "million", "half"} or prev in _HALF
    return False


def _runs(folded: str, free: list[Word]) -> list[list[Word]]:
    """Maximal runs of adjacent number words (connectors only inside a run)."""
    runs: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(free):
        nxt = free[i + 1].text if i + 1 < len(free) else None
        adjacent = bool(current) and _adjacent(folded, current[-1], word)
        if adjacent and _joins(current[-1].text, word.text, nxt):
            current.append(word)
            continue
        if _is_number_word(word.text) or (word.text == "a" and _joins("", "a", nxt)):
            if adjacent:
                current.append(word)
                continue
            runs.append(current)
            current = [word]
            continue
        if current:
            runs.append(current)
            current = []
    runs.append(current)
    trimmed = (_trim(run) for run in runs if run)
    return [run for run in trimmed if run]


def _adjacent(folded: str, left: Word, right: Word) -> bool:
    gap = folded[left.end : right.start]
    return gap.strip(" -") == "" and len(gap) <= 3


def _trim(run: list[Word]) -> list[Word]:
    """Drop connectors at the ends; a run of only articles or "half" is not a number."""
    words = list(run)
    while words and words[-1].text in {"y", "and", "a"}:
        words.pop()
    while words and words[0].text in {"y", "and"}:
        words.pop(0)
    if all(w.text in _ARTICLES or w.text in _HALF for w in words):
        return []
    return words[:_MAX_RUN]


def _run_language(texts: list[str], lang: Language | None) -> Language:
    es = sum(t in _ES_WORDS for t in texts)
    en = sum(t in _EN_WORDS or t in {"a", "and", "half"} for t in texts)
    if es == en and lang is not None:
        return lang
    return "es" if es > en else "en"


def _convert_run(msg: Message, run: list[Word], lang: Language | None) -> list[Number]:
    """Convert a run; when it does not read as one number, split it into the longest parts."""
    out: list[Number] = []
    i = 0
    while i < len(run):
        for j in range(len(run), i, -1):
            part = _trim(run[i:j])
            if not part or part[0] is not run[i]:
                continue
            value = _spelled_value([w.text for w in part], lang)
            if value is not None:
                start, end = part[0].start, part[-1].end
                # "twenty-two grand": a scale word the run did not take multiplies it.
                extra, _, scaled_end = _scale_words(msg.folded, end)
                out.append(
                    Number(
                        value=value * extra,
                        start=start,
                        end=scaled_end,
                        text=msg.text[start:scaled_end],
                        scale=extra if extra > 1 else _last_scale([w.text for w in part]),
                        spelled=True,
                    )
                )
                i = j
                break
        else:
            i += 1
    return out


def _last_scale(texts: list[str]) -> float:
    scales = [_SCALE_WORDS[t] for t in texts if t in _SCALE_WORDS]
    return scales[-1] if scales else 1.0


def _text2num(texts: list[str], lang: Language) -> float | None:
    if not texts:
        return 0.0
    if lang == "en":
        texts = ["one" if t == "a" else t for t in texts]
    phrase = " ".join(_SPELLING.get(t, t) for t in texts)
    try:
        return float(text2num(phrase, lang))
    except ValueError:
        return None


def _spelled_value(texts: list[str], lang: Language | None) -> float | None:
    """Value of number words, with "half" handled ("two and a half million", "millón y medio")."""
    run_lang = _run_language(texts, lang)
    half = next((i for i, t in enumerate(texts) if t in _HALF), None)
    if half is None:
        return _text2num(texts, run_lang)
    before = texts[:half]
    while before and before[-1] in {"y", "and", "a"}:
        before.pop()
    after = texts[half + 1 :]
    if after and after[0] == "a":
        after = after[1:]
    base = _text2num(before, run_lang)
    if base is None:
        return None
    if not after:
        # "un millón y medio": half of the last scale word ("dos y medio": half a unit).
        return base + 0.5 * _last_scale(before)
    if len(after) == 1 and after[0] in _SCALE_WORDS:
        # "medio millón", "two and a half million".
        return (base + 0.5) * _SCALE_WORDS[after[0]]
    return None
