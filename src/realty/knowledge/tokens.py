"""Tokens for retrieval: folded words, stop words removed, Snowball stems (PyStemmer),
synonyms read as one.

The same :class:`Tokenizer` reads the guides and the questions, so "depósitos" in a question
meets "depósito" in a guide (both fold to ``deposit``) and "papeles" meets "documentos" (a
synonym group of ``data/knowledge.yaml``). Property kinds (the parser's shared vocabulary)
are dropped: the guides hold for every kind, so "¿qué papeles piden para rentar una bodega?"
asks what "¿qué papeles piden para rentar?" asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import Stemmer
import yaml
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_SPANISH

from realty.domain.brief import LANGUAGES, Language
from realty.errors import ConfigurationError
from realty.parsing.lexicon import lexicon
from realty.parsing.text import fold, words

_SNOWBALL: Mapping[Language, str] = {"es": "spanish", "en": "english"}


@dataclass(frozen=True, slots=True)
class TokenTables:
    """The packaged chat words and synonym groups (``data/knowledge.yaml``), folded."""

    chat_words: frozenset[str]
    synonyms: Mapping[Language, tuple[tuple[str, ...], ...]]
    markets: Mapping[str, str]  # guide -> the country of the market it is about
    market_words: Mapping[str, frozenset[tuple[str, ...]]]  # country -> words that name it
    market_factor: float

    @classmethod
    @cache
    def packaged(cls) -> TokenTables:
        """Load and check the packaged tables once.

        Raises:
            ConfigurationError: A section is missing or malformed.
        """
        text = resources.files("realty.data").joinpath("knowledge.yaml").read_text("utf-8")
        raw: Any = yaml.safe_load(text)
        try:
            return cls(
                chat_words=frozenset(fold(w) for w in raw["chat_words"]),
                synonyms={
                    lang: tuple(tuple(fold(w) for w in group) for group in raw["synonyms"][lang])
                    for lang in LANGUAGES
                },
                markets={doc: str(c) for doc, c in raw["markets"]["guides"].items()},
                market_words={
                    country: frozenset(tuple(w.text for w in words(fold(p))) for p in phrases)
                    for country, phrases in raw["markets"]["words"].items()
                },
                market_factor=float(raw["markets"]["factor"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigurationError(f"knowledge.yaml malformed: {exc}") from exc


def _kind_words() -> frozenset[str]:
    """The parser's one-word property kinds ("bodega", "locales", "warehouse")."""
    phrases = (fold(p) for group in lexicon().kinds.values() for p in group)
    return frozenset(p for p in phrases if " " not in p)


class Tokenizer:
    """Folds, splits, drops stop words and property kinds, stems and reads synonyms as one,
    per language."""

    def __init__(self) -> None:
        """Build one Snowball stemmer per language, the folded stop-word lists and the
        synonym table (each stem to its group's first stem)."""
        self._stemmers = {lang: Stemmer.Stemmer(name) for lang, name in _SNOWBALL.items()}
        tables = TokenTables.packaged()
        common = tables.chat_words | _kind_words()
        self._stop: dict[Language, frozenset[str]] = {
            "es": frozenset(fold(w) for w in STOPWORDS_SPANISH) | common,
            "en": frozenset(fold(w) for w in STOPWORDS_EN_PLUS) | common,
        }
        self._same: dict[Language, dict[str, str]] = {}
        for lang, groups in tables.synonyms.items():
            stem = self._stemmers[lang].stemWord
            self._same[lang] = {stem(w): stem(group[0]) for group in groups for w in group}

    def tokens(self, text: str, language: Language) -> list[str]:
        """The stems of the content words of ``text`` (digits kept: "16", "inpc")."""
        stop = self._stop[language]
        same = self._same[language]
        kept = [w.text for w in words(fold(text)) if w.text not in stop and len(w.text) > 1]
        return [same.get(s, s) for s in self._stemmers[language].stemWords(kept)]

    def names(self, text: str, phrases: frozenset[tuple[str, ...]]) -> bool:
        """Whether ``text`` contains one of ``phrases`` (folded word tuples)."""
        folded = [w.text for w in words(fold(text))]
        return any(tuple(folded[i : i + len(p)]) == p for p in phrases for i in range(len(folded)))

    def votes(self, text: str) -> Mapping[Language, int]:
        """How many words of ``text`` are stop words of each language (a language hint)."""
        folded = [w.text for w in words(fold(text))]
        return {lang: sum(w in self._stop[lang] for w in folded) for lang in self._stop}
