"""Text helpers shared by the parser's finders.

Every finder works on a *folded* copy of the message that has exactly the same length as the
original (lower case, accents removed character by character), so a match in the folded text
is a span in the original text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch.isascii():
        return ch.lower()
    if ch in "²³":
        return "2" if ch == "²" else "3"
    base = unicodedata.normalize("NFD", ch)[0].lower()
    return base if len(base) == 1 else ch.lower()[:1] or " "


def fold(text: str) -> str:
    """Lower-case, accent-free copy of ``text`` with the same length (ñ becomes n, ² becomes 2).

    >>> fold("Ciudad de México, 500 m²")
    'ciudad de mexico, 500 m2'
    """
    out = "".join(_fold_char(ch) for ch in text)
    if len(out) != len(text):  # pragma: no cover - defensive: _fold_char is 1:1
        raise AssertionError("fold must preserve length")
    return out


@dataclass(frozen=True, slots=True)
class Word:
    """A word of the folded text with its span in the original."""

    text: str
    start: int
    end: int


def words(folded: str) -> list[Word]:
    """Words (letters/digits runs, apostrophes inside) of an already folded text."""
    return [Word(m.group(0), m.start(), m.end()) for m in _WORD.finditer(folded)]


@dataclass(frozen=True, slots=True)
class Message:
    """A message ready for the finders: the original text, its fold and its words."""

    text: str
    folded: str
    words: tuple[Word, ...]

    @classmethod
    def of(cls, text: str) -> Message:
        folded = fold(text)
        return cls(text=text, folded=folded, words=tuple(words(folded)))

    def snippet(self, span: tuple[int, int]) -> str:
        """The original text under ``span``."""
        return self.text[span[0] : span[1]]

    def within(self, span: tuple[int, int]) -> list[int]:
        """Indices of the words that lie wholly inside ``span``."""
        return [i for i, w in enumerate(self.words) if span[0] <= w.start and w.end <= span[1]]


def contains_phrase(
    words: Sequence[str],
    phrases: Collection[tuple[str, ...]],
    starts: Iterable[int] | None = None,
) -> bool:
    """Whether any of ``phrases`` (word tuples, folded like ``words``) starts at one of
    ``starts`` (default: anywhere) in ``words``."""
    longest = max((len(p) for p in phrases), default=0)
    positions = range(len(words)) if starts is None else starts
    return any(tuple(words[i : i + n]) in phrases for i in positions for n in range(1, longest + 1))
