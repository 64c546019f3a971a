"""Tokens for retrieval: folded words, stop words removed, Snowball stems (PyStemmer).

The same :class:`Tokenizer` reads the guides and the questions, so "depósitos" in a question
meets "depósito" in a guide: both fold to ``deposit``.
"""

from __future__ import annotations

from collections.abc import Mapping

import Stemmer
from bm25s.stopwords import STOPWORDS_EN_PLUS, STOPWORDS_SPANISH

from realty.domain.brief import Language
from realty.parsing.text import fold, words

_SNOWBALL: Mapping[Language, str] = {"es": "spanish", "en": "english"}
# Chat words that carry no topic ("hola, ¿me puedes decir…?", "can you tell me…").
_CHAT_WORDS = frozenset(
    {"hola", "oye", "puedes", "puedo", "podrias", "decir", "dime", "saber", "quiero", "quisiera"}
    | {"favor", "gracias", "pregunta", "duda", "hi", "hello", "please", "thanks", "tell", "know"}
    | {"want", "like", "question", "could", "would", "need", "usually", "suele", "normalmente"}
    | {"typically", "typical", "tipico", "tipica", "much", "many", "cuanto", "cuanta", "cuantos"}
    | {"cuantas", "como", "cual", "cuales", "necesito", "necesitamos", "piden", "ask", "asks"}
)


class Tokenizer:
    """Folds, splits, drops stop words and stems, per language."""

    def __init__(self) -> None:
        """Build one Snowball stemmer per language and the folded stop-word lists."""
        self._stemmers = {lang: Stemmer.Stemmer(name) for lang, name in _SNOWBALL.items()}
        self._stop: dict[Language, frozenset[str]] = {
            "es": frozenset(fold(w) for w in STOPWORDS_SPANISH) | _CHAT_WORDS,
            "en": frozenset(fold(w) for w in STOPWORDS_EN_PLUS) | _CHAT_WORDS,
        }

    def tokens(self, text: str, language: Language) -> list[str]:
        """The stems of the content words of ``text`` (digits kept: "16", "inpc")."""
        stop = self._stop[language]
        kept = [w.text for w in words(fold(text)) if w.text not in stop and len(w.text) > 1]
        return list(self._stemmers[language].stemWords(kept))

    def votes(self, text: str) -> Mapping[Language, int]:
        """How many words of ``text`` are stop words of each language (a language hint)."""
        folded = [w.text for w in words(fold(text))]
        return {lang: sum(w in self._stop[lang] for w in folded) for lang in self._stop}
