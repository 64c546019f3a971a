"""The pick stage: a choice from the numbered list of listings the prospect was just shown.

After a list ("1. Office in Polanco…  2. …"), a reply such as "2", "#2", "ver el 2",
"show me number 3", "la segunda" or "the second one" asks to see that listing, and "the
cheapest", "¿cuál es la más grande?" the listing that is so (the service compares them). Only short
messages made of one number (or ordinal) and words of pointing are a pick: "2 parking
spaces" or "the second floor, 300 m²" say something else and go to the parser. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from realty.parsing.numbers import find_numbers
from realty.parsing.text import Message, contains_phrase

# Longer than this, a message says more than a choice.
MAX_PICK_CHARS: Final = 60

# Ordinals, folded (accents dropped, lower case), both genders in Spanish.
_ORDINALS: Final[dict[str, int]] = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "primero": 1,
    "primera": 1,
    "primer": 1,
    "segundo": 2,
    "segunda": 2,
    "tercero": 3,
    "tercera": 3,
    "tercer": 3,
    "cuarto": 4,
    "cuarta": 4,
    "quinto": 5,
    "quinta": 5,
    "last": -1,
    "ultimo": -1,
    "ultima": -1,
}

Superlative = Literal["cheapest", "largest", "smallest"]
# "the cheapest", "la más barata": the listing of the list that is so (folded words).
_SUPERLATIVES: Final[dict[tuple[str, ...], Superlative]] = {
    ("cheapest",): "cheapest",
    ("least", "expensive"): "cheapest",
    ("most", "affordable"): "cheapest",
    ("lowest", "price"): "cheapest",
    ("mas", "barata"): "cheapest",
    ("mas", "barato"): "cheapest",
    ("mas", "economica"): "cheapest",
    ("mas", "economico"): "cheapest",
    ("biggest",): "largest",
    ("largest",): "largest",
    ("mas", "grande"): "largest",
    ("mas", "amplia"): "largest",
    ("mas", "amplio"): "largest",
    ("smallest",): "smallest",
    ("mas", "pequena"): "smallest",
    ("mas", "pequeno"): "smallest",
    ("mas", "chica"): "smallest",
    ("mas", "chico"): "smallest",
}
# Question words a superlative choice may come with ("which one is the cheapest?").
_ASKING: Final = frozenset(
    {"which", "what", "whats", "what's", "which's", "is", "cual", "es", "de", "todas", "of"}
    | {"them", "these", "those", "all", "out", "cuales", "estas", "estos", "ellas", "ellos"}
)

# Words that point at an item of the list without saying anything about the brief.
_POINTING: Final = frozenset(
    {
        # English
        "show",
        "me",
        "see",
        "view",
        "open",
        "tell",
        "more",
        "about",
        "details",
        "detail",
        "info",
        "information",
        "on",
        "the",
        "a",
        "one",
        "please",
        "interested",
        "in",
        "like",
        "pls",
        "number",
        "no",
        "num",
        "option",
        "listing",
        "property",
        "i",
        "want",
        "would",
        "to",
        "d",
        "id",
        "lets",
        "let",
        "s",
        "it",
        "that",
        "ok",
        "okay",
        "yes",
        # asked as a question ("can I see the first one?", "could you show me number 2?")
        "can",
        "could",
        "may",
        "you",
        "we",
        # Spanish
        "ver",
        "veo",
        "muestrame",
        "muestra",
        "mostrar",
        "ensename",
        "ensenar",
        "quiero",
        "quisiera",
        "la",
        "el",
        "lo",
        "los",
        "las",
        "de",
        "del",
        "sobre",
        "mas",
        "informacion",
        "detalles",
        "numero",
        "opcion",
        "inmueble",
        "propiedad",
        "por",
        "favor",
        "porfa",
        "interesa",
        "interesan",
        "gusta",
        "gusto",
        "dame",
        "esa",
        "ese",
        "este",
        "esta",
        "si",
        "va",
        "y",
        # asked as a question ("¿puedo ver la primera?", "¿me puedes mostrar la 2?")
        "puedo",
        "podemos",
        "puedes",
        "podrias",
        "pueden",
        "mostrarme",
        "ensenarme",
    }
)


# "show me more", "otras opciones", "what else?", "siguientes": the next listings of the list
# shown ("more space", "más barato" and "other city" ask something else).
_MORE: Final = frozenset(
    {"more", "mas", "otras", "otros", "others", "other", "else", "next", "siguientes", "anymore"}
)
_NOT_MORE_AFTER: Final = frozenset(
    {"barato", "barata", "baratos", "baratas", "economico", "economica", "grande", "grandes"}
    | {"chico", "chica", "pequeno", "pequena", "amplio", "amplia", "caro", "cara", "cerca"}
    | {"cheap", "cheaper", "affordable", "big", "bigger", "large", "larger", "small", "smaller"}
    | {"expensive", "space", "room", "espacio", "metros", "m2", "sqft", "parking", "city"}
    | {"ciudad", "zona", "zone", "area", "than", "que", "de", "of", "budget", "presupuesto"}
)


def wants_more(text: str) -> bool:
    """Whether ``text`` asks for more listings of the same search ("show me more", "¿tienes
    otras?", "what else?"), not for different ones ("something cheaper", "more space")."""
    words = [w.text for w in Message.of(text).words]
    for i, word in enumerate(words):
        following = words[i + 1] if i + 1 < len(words) else ""
        if word in _MORE and following not in _NOT_MORE_AFTER and not following.isdigit():
            return True
    return False


# Words before a number that make it a position in the list ("number 2", "la 3", "#1").
_POSITION_LEADS: Final = frozenset(
    {"number", "num", "no", "numero", "option", "opcion", "listing", "inmueble", "el", "la"}
)


def named_position(text: str, count: int) -> int | None:
    """The position in a list of ``count`` that ``text`` points at inside a longer message
    ("does the first one have parking?", "¿la 2 tiene andenes?"), or ``None``."""
    words = [w.text for w in Message.of(text.replace("#", " number ")).words]
    for i, word in enumerate(words):
        if word in _ORDINALS:
            position = _ORDINALS[word]
            return count if position == -1 else position if position <= count else None
        if word.isdigit() and i and words[i - 1] in _POSITION_LEADS and 1 <= int(word) <= count:
            return int(word)
    return None


# "any cheaper?", "¿hay algo más barato?", "something more affordable": the listings that
# fit, cheapest first (folded words, each phrase in a row).
_CHEAPER: Final = frozenset(
    {
        ("cheaper",),
        ("less", "expensive"),
        ("more", "affordable"),
        ("lower", "price"),
        ("lower", "prices"),
        ("lower", "rent"),
        ("mas", "barato"),
        ("mas", "barata"),
        ("mas", "baratos"),
        ("mas", "baratas"),
        ("mas", "economico"),
        ("mas", "economica"),
        ("mas", "economicos"),
        ("mas", "economicas"),
        ("menos", "caro"),
        ("menos", "cara"),
        ("menos", "caros"),
        ("menos", "caras"),
        ("menor", "precio"),
        ("menor", "renta"),
    }
)


# "anything bigger?", "¿y más grande?", "something with more space": the listings that fit,
# largest first.
_LARGER: Final = frozenset(
    {
        ("bigger",),
        ("larger",),
        ("more", "space"),
        ("more", "room"),
        ("mas", "grande"),
        ("mas", "grandes"),
        ("mas", "amplio"),
        ("mas", "amplia"),
        ("mas", "amplios"),
        ("mas", "amplias"),
        ("mas", "espacio"),
        ("mas", "metros"),
    }
)


def wants_larger(text: str) -> bool:
    """Whether ``text`` asks for larger listings than those shown ("anything bigger?", "¿y
    más grande?")."""
    return contains_phrase([w.text for w in Message.of(text).words], _LARGER)


def wants_cheaper(text: str) -> bool:
    """Whether ``text`` asks for cheaper listings than those shown ("any cheaper?", "¿algo
    más barato?")."""
    return contains_phrase([w.text for w in Message.of(text).words], _CHEAPER)


@dataclass(frozen=True, slots=True)
class Pick:
    """A choice read from a message.

    Attributes:
        position: 1-based position in the list (an ordinal "last" is resolved to the count);
            0 for a ``superlative``, which the caller resolves.
        valid: Whether the list has that position.
        superlative: The listing asked for by what it is ("the cheapest"), if so.
    """

    position: int
    valid: bool
    superlative: Superlative | None = None


class ListingPicker:
    """Reads "2", "ver el 2", "the second one" as a choice from a list of ``count`` items."""

    def pick(self, text: str, count: int) -> Pick | None:
        """The choice ``text`` makes, or ``None`` when it is not (only) a choice.

        Args:
            text: The message.
            count: How many listings the list showed (nothing is a pick from an empty list).
        """
        if count < 1 or len(text) > MAX_PICK_CHARS:
            return None
        msg = Message.of(text.replace("#", " ").replace("nº", " ").replace("n°", " "))
        superlative = _superlative(msg)
        if superlative is not None:
            return superlative
        ordinals = [w for w in msg.words if w.text in _ORDINALS]
        positions: list[int] = [
            count if _ORDINALS[w.text] == -1 else _ORDINALS[w.text] for w in ordinals
        ]
        consumed = {i for i, w in enumerate(msg.words) if w.text in _ORDINALS}
        for number in find_numbers(msg):
            consumed.update(msg.within((number.start, number.end)))
            if ordinals and number.spelled and number.value == 1:
                continue  # "the second one", "la segunda (una)": a pronoun, not a position
            if number.value != int(number.value) or number.scale != 1 or number.currency:
                return None
            positions.append(int(number.value))
        if any(w.text not in _POINTING for i, w in enumerate(msg.words) if i not in consumed):
            return None
        if len(positions) != 1:
            return None
        position = positions[0]
        return Pick(position=position, valid=1 <= position <= count)


def _superlative(msg: Message) -> Pick | None:
    """ "the cheapest", "¿cuál es la más grande?": one superlative and pointing words only."""
    words = [w.text for w in msg.words]
    found: list[Superlative] = []
    consumed: set[int] = set()
    for at in range(len(words)):
        for phrase, which in _SUPERLATIVES.items():
            if tuple(words[at : at + len(phrase)]) == phrase:
                found.append(which)
                consumed.update(range(at, at + len(phrase)))
    if len(set(found)) != 1:
        return None
    rest = [w for i, w in enumerate(words) if i not in consumed]
    if any(w not in _POINTING and w not in _ASKING for w in rest):
        return None
    return Pick(position=0, valid=True, superlative=found[0])
