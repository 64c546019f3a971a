"""The text the guard's detectors read: one canonical spelling of every disguise.

Attacks hide their words from pattern matching with look-alike letters (Cyrillic ``о`` for
Latin ``o``), invisible characters, leetspeak (``1gn0r3``) and letters spaced or dotted out
(``i-g-n-o-r-e``). :class:`Normaliser` undoes each of these, in this order:

1. NFKC (full-width and mathematical letters become plain ones);
2. zero-width, control and other format characters are dropped (kept as spaces when they are
   line or tab breaks);
3. confusables: every non-ASCII character that Unicode's confusables table (through the
   ``confusable-homoglyphs`` package's data) lists as looking like an ASCII letter or digit
   becomes that letter;
4. ``cased`` view: the above, case kept (for markers such as ``SYSTEM:``);
5. ``folded`` view: lower case, accents removed, leetspeak undone inside words that have at
   least two letters (so ``500m2`` and ``$20,000`` stay as they are), runs of four or more
   single letters joined by one repeated separator (``i g n o r e``, ``I.G.N.O.R.E``) joined
   into a word, and whitespace collapsed.

A run of base64 that decodes to readable text (``aWdub3JlIHByZXZpb3Vz…``) is decoded, and
the decoded words are added to both views, so an instruction smuggled that way is read too.

The views are only read by the detectors; the pipeline still receives the cleaned original.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

# Leetspeak substitutions, applied only inside words with at least two ASCII letters.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
                       "@": "a", "$": "s", "!": "i", "|": "l"})  # fmt: skip
# A word: letters and digits, with symbols only between them or leading ("!gnore", "h@ck"),
# so that the exclamation mark of "thanks!" stays punctuation.
_LEET_WORD = re.compile(r"[@$!|]?[a-z0-9]+(?:[@$!|]+[a-z0-9]+)*")
_LETTERS = re.compile(r"[a-z]")
_LEET_CHARS = re.compile(r"[0134578@$!|]")
# Four or more single letters (or digits) separated by one repeated separator character.
_SPACED = re.compile(r"(?<![^\W_])([a-z0-9])([ .\-_*·•/\\|+~])(?:[a-z0-9]\2){2,}[a-z0-9](?![^\W_])")
_SPACES = re.compile(r"\s+")
# A run that may be base64: 16 or more characters of its alphabet, padding at most at the end.
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_READABLE = 0.9  # share of printable characters for decoded bytes to count as text
_BREAKS = frozenset("\n\r\t\v\f\u2028\u2029\x85")


@lru_cache(maxsize=1)
def confusables_table() -> dict[int, str]:
    """Non-ASCII look-alikes of ASCII letters and digits, as a ``str.translate`` table.

    Read once per process from the ``confusable-homoglyphs`` package's data (Unicode's
    confusables.txt); a letter of the same case is preferred, then any letter, then a digit.
    """
    text = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    data: dict[str, list[dict[str, Any]]] = json.loads(text)
    table: dict[int, str] = {}
    for char, glyphs in data.items():
        if len(char) != 1 or char.isascii():
            continue
        targets = [g["c"] for g in glyphs if len(g["c"]) == 1 and g["c"].isascii()]
        # A letter of the same case first (Greek capital iota is "I", not "l"), then any
        # letter, then a digit.
        ranked = sorted(
            (c for c in targets if c.isalnum()),
            key=lambda c: (not c.isalpha(), c.isupper() != char.isupper()),
        )
        if ranked:
            # Unicode's skeletons spell every I-shaped capital as "l"; a capital reads as "I".
            table[ord(char)] = "I" if ranked[0] == "l" and char.isupper() else ranked[0]
    return table


def strip_invisible(text: str) -> str:
    """Drop control and format characters (zero-width spaces, joiners, bidi marks, soft
    hyphens); line and tab breaks become spaces."""
    kept = []
    for ch in text:
        if ch in _BREAKS:
            kept.append(" ")
        elif unicodedata.category(ch)[0] != "C":
            kept.append(ch)
    return "".join(kept)


def _decoded(text: str) -> list[str]:
    """The readable texts that base64 runs of ``text`` decode to (standard or URL-safe)."""
    out: list[str] = []
    for match in _BASE64.finditer(text):
        run = match.group(0)
        if run.isalpha() or run.isdigit():
            continue  # one long word or number, not an encoding
        padded = run + "=" * (-len(run) % 4)
        try:
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
            decoded = raw.decode("utf-8")
        except (binascii.Error, ValueError):
            continue
        printable = sum(ch.isprintable() or ch.isspace() for ch in decoded)
        if decoded and printable >= _READABLE * len(decoded) and any(c.isalpha() for c in decoded):
            out.append(decoded)
    return out


def _deleet(match: re.Match[str]) -> str:
    word = match.group(0)
    if len(_LETTERS.findall(word)) < 2 or not _LEET_CHARS.search(word):
        return word
    return word.translate(_LEET)


def _join_spaced(match: re.Match[str]) -> str:
    return match.group(0).replace(match.group(2), "")


def _fold_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


@dataclass(frozen=True, slots=True)
class Views:
    """The two spellings of one message the detectors read."""

    cased: str  # NFKC, invisible characters dropped, look-alikes mapped; case kept
    folded: str  # ``cased`` in lower case, without accents, leetspeak and spacing undone


class Normaliser:
    """Builds the detectors' views of a message (see the module docstring)."""

    def __init__(self, table: dict[int, str] | None = None) -> None:
        """Create a normaliser.

        Args:
            table: A ``str.translate`` table of look-alikes; default: Unicode's confusables.
        """
        self._table = confusables_table() if table is None else table

    def views(self, text: str) -> Views:
        """Both views of ``text``."""
        decoded = " ".join(_decoded(text))
        if decoded:
            text = f"{text} {decoded}"
        raw = strip_invisible(unicodedata.normalize("NFKC", text)).translate(self._table)
        # Folded from the uncollapsed text: two spaces between spaced-out words mark a word.
        return Views(cased=_SPACES.sub(" ", raw).strip(), folded=self.fold(raw))

    def fold(self, text: str) -> str:
        """Lower case, no accents, leetspeak and spaced-out letters undone."""
        folded = _fold_accents(text.casefold())
        # Joined first, so that "1 g n 0 r 3" is one word when its leetspeak is undone.
        folded = _SPACED.sub(_join_spaced, folded)
        folded = _LEET_WORD.sub(_deleet, folded)
        return _SPACES.sub(" ", folded).strip()

    def folded(self, text: str) -> str:
        """The ``folded`` view alone (what the classifier reads)."""
        return self.views(text).folded
