"""Questions answered from the packaged guides, extractively, or honestly not at all.

:class:`KnowledgeBase` indexes every section of the guides with BM25 (the ``bm25s`` library,
one index per language, built once per process). A question is tokenised the same way; the
best section answers it with its own sentences — the ones that share the most words with the
question, at most :data:`MAX_SENTENCES`, in their original order — and names its source
(guide title and section). Nothing is written that the guide does not say. When the best
section scores too low or covers too little of the question (thresholds chosen on a
labelled set of in- and out-of-scope questions, docs/knowledge.md) the answer says so and
offers a broker instead.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import bm25s
import numpy as np

from realty.domain.brief import LANGUAGES, Language
from realty.errors import ConfigurationError
from realty.knowledge.documents import Passage, packaged_passages
from realty.knowledge.tokens import Tokenizer, TokenTables

# Chosen on the dev half of tests/data/kb_questions.yaml, both sets (docs/knowledge.md,
# "Evaluation"): a question is in scope when its best passage has both. On that half the
# coverage alone separates the classes best, so the score threshold is 0.
DEFAULT_MIN_SCORE = 0.0
DEFAULT_MIN_COVERAGE = 0.48
MAX_SENTENCES = 3
# A second section is cited when it scores at least this share of the best one.
_SECOND_SOURCE = 0.8
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-ZÁÉÍÓÚÑ¿¡(])")

_DONT_KNOW: Mapping[Language, str] = {
    "es": "No tengo información sobre eso en mis guías. Si quieres, te conecto con un asesor "
    "que pueda ayudarte.",
    "en": "I don't know that one: it is not in my guides. If you like, I can connect you with "
    "a broker who can help.",
}
_SOURCE_INTRO: Mapping[Language, str] = {"es": "Fuente", "en": "Source"}


@dataclass(frozen=True, slots=True)
class Source:
    """Where an answer comes from."""

    doc: str
    title: str
    section: str
    score: float


@dataclass(frozen=True, slots=True)
class KnowledgeAnswer:
    """An answer from the guides.

    Attributes:
        answer: Sentences of the best section, or the "I don't know" reply.
        sources: The sections used (best first); empty when not confident.
        confident: Whether the best score reached the threshold.
        language: The language of the guides searched and of the answer.
        score: The best BM25 score (for logs and evaluation).
        coverage: The share of the question the best section covers (0–1).
    """

    answer: str
    sources: tuple[Source, ...]
    confident: bool
    language: Language
    score: float
    coverage: float

    def with_sources(self) -> str:
        """The answer followed by its source line ("Source: Title — Section")."""
        if not self.sources:
            return self.answer
        best = self.sources[0]
        return f"{self.answer}\n{_SOURCE_INTRO[self.language]}: {best.title} — {best.section}"


@dataclass(frozen=True, slots=True)
class Hit:
    """A passage, its BM25 score and the share of the question it covers (0–1)."""

    passage: Passage
    score: float
    coverage: float


class _Index:
    """The BM25 index of one language's passages, and their stems for coverage."""

    def __init__(self, passages: Sequence[Passage], tokenizer: Tokenizer, language: Language):
        self.passages = tuple(passages)
        self._tokenizer = tokenizer
        self._language = language
        # The heading says what the section is about: it counts twice, the guide's title once.
        corpus = [
            tokenizer.tokens(f"{p.title}. {p.section}. {p.section}. {p.text}", language)
            for p in passages
        ]
        self._stems = [frozenset(tokens) for tokens in corpus]
        frequency: dict[str, int] = {}
        for stems in self._stems:
            for stem in stems:
                frequency[stem] = frequency.get(stem, 0) + 1
        self._frequency = frequency
        self._bm25 = bm25s.BM25()
        self._bm25.index(corpus, show_progress=False)

    def tokens(self, question: str) -> list[str]:
        return self._tokenizer.tokens(question, self._language)

    def scores(self, tokens: Sequence[str]) -> np.ndarray:
        ids = self._bm25.get_tokens_ids(list(tokens))
        if not ids:
            return np.zeros(len(self.passages))
        return np.asarray(self._bm25.get_scores(ids), dtype=float)

    def _idf(self, stem: str) -> float:
        n, df = len(self.passages), self._frequency.get(stem, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def coverage(self, tokens: Sequence[str], position: int) -> float:
        """The idf-weighted share of the question's stems found in passage ``position``.

        A stem no guide contains ("bitcoin", "sushi") weighs the most, so a question about
        something else scores low even when its common words match.
        """
        wanted = set(tokens)
        total = sum(self._idf(t) for t in wanted)
        if total == 0:
            return 0.0
        found = sum(self._idf(t) for t in wanted if t in self._stems[position])
        return found / total


class KnowledgeBase:
    """BM25 retrieval over the guides and extractive answers with their sources."""

    def __init__(
        self,
        passages: Sequence[Passage] | None = None,
        *,
        min_score: float = DEFAULT_MIN_SCORE,
        min_coverage: float = DEFAULT_MIN_COVERAGE,
        country: str = "MX",
    ) -> None:
        """Index the passages (default: the packaged guides) once.

        Args:
            passages: The passages to index.
            min_score: Best BM25 score below which a question is out of scope.
            min_coverage: Share of the question the best passage must cover (0–1).
            country: The deployment's market (``REALTY_HOME_COUNTRY``): guides about
                another market count less unless a question names it.

        Raises:
            ConfigurationError: A language has no passages.
        """
        passages = packaged_passages() if passages is None else passages
        self._tokenizer = Tokenizer()
        self._tables = TokenTables.packaged()
        self._min_score = min_score
        self._min_coverage = min_coverage
        self._country = country.upper()
        self._indexes: dict[Language, _Index] = {}
        for language in LANGUAGES:
            mine = [p for p in passages if p.language == language]
            if not mine:
                raise ConfigurationError(f"the knowledge base has no guide in {language!r}")
            self._indexes[language] = _Index(mine, self._tokenizer, language)

    def in_scope(self, hit: Hit) -> bool:
        """Whether ``hit`` is good enough to answer from (both thresholds reached)."""
        return hit.score >= self._min_score and hit.coverage >= self._min_coverage

    def language_of(self, question: str) -> Language:
        """The question's language by stop-word votes (Spanish on a tie with any Spanish
        accent or ¿/¡, else English)."""
        votes = self._tokenizer.votes(question)
        if votes["es"] != votes["en"]:
            return "es" if votes["es"] > votes["en"] else "en"
        return "es" if re.search(r"[¿¡ñáéíóú]", question.lower()) else "en"

    def search(self, question: str, language: Language, k: int = 3) -> list[Hit]:
        """The ``k`` best passages in ``language`` for ``question``, best first."""
        index = self._indexes[language]
        tokens = index.tokens(question)
        scores = index.scores(tokens) * self._market_weights(question, index.passages)
        order = np.argsort(-scores, kind="stable")[:k]
        return [
            Hit(index.passages[i], float(scores[i]), index.coverage(tokens, int(i))) for i in order
        ]

    def _market_weights(self, question: str, passages: Sequence[Passage]) -> np.ndarray:
        """1 for each passage, or the market factor for a guide about a market other than
        the deployment's that the question does not name."""
        tables = self._tables
        unnamed = {
            doc
            for doc, country in tables.markets.items()
            if country != self._country
            and not self._tokenizer.names(question, tables.market_words[country])
        }
        return np.array([tables.market_factor if p.doc in unnamed else 1.0 for p in passages])

    def ask(self, question: str, language: Language | None = None) -> KnowledgeAnswer:
        """Answer ``question`` from the guides in ``language`` (detected when ``None``).

        Returns:
            The best section's most relevant sentences with its source, or, when the best
            score is under the threshold, an honest "I don't know" offering a broker.
        """
        language = language or self.language_of(question)
        hits = self.search(question, language)
        best = hits[0]
        if not self.in_scope(best):
            return KnowledgeAnswer(
                _DONT_KNOW[language], (), False, language, best.score, best.coverage
            )
        seconds = [
            h
            for h in hits[1:]
            if h.score >= _SECOND_SOURCE * best.score and h.passage.doc != best.passage.doc
        ]
        sources = [best, *seconds[:1]]
        text = self._extract(best.passage, question, language)
        return KnowledgeAnswer(
            answer=text,
            sources=tuple(
                Source(h.passage.doc, h.passage.title, h.passage.section, round(h.score, 3))
                for h in sources
            ),
            confident=True,
            language=language,
            score=best.score,
            coverage=best.coverage,
        )

    def _extract(self, passage: Passage, question: str, language: Language) -> str:
        """The passage's sentences that share most stems with the question, in order."""
        sentences = [s.strip() for s in _SENTENCE.split(" ".join(passage.text.split()))]
        if len(sentences) <= MAX_SENTENCES:
            return " ".join(sentences)
        wanted = set(self._tokenizer.tokens(question, language))
        overlap = [len(wanted & set(self._tokenizer.tokens(s, language))) for s in sentences]
        # The first sentence defines the topic; the others are ranked by shared stems.
        ranked = sorted(range(1, len(sentences)), key=lambda i: (-overlap[i], i))
        chosen = sorted([0, *ranked[: MAX_SENTENCES - 1]])
        return " ".join(sentences[i] for i in chosen)
