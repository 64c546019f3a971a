"""The LLM stage: asks a model about what the parser could not explain, then grounds its answer.

The deterministic parser handles almost every message. The model is consulted only when a
message has unexplained content (hybrid mode) or on every message (``every_turn``). Its answer
is parsed against a schema (one re-ask on a malformed answer), grounded in the user's text
(:mod:`realty.pipeline.ground`) and merged under the parser's readings: the parser wins for
numbers and units, and the model never removes anything the parser found.

Failures never reach the conversation: a timeout, a provider error or a twice-malformed answer
yields the parser's extraction unchanged, with the error recorded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import ValidationError

from realty.domain.brief import CORE_FIELDS, PropertyType
from realty.domain.state import ConversationState
from realty.domain.turn import Candidate, Extraction
from realty.errors import ProviderError
from realty.llm.base import LLM, LLMRequest
from realty.parsing.facts import fact_vocabulary
from realty.parsing.kinds import type_vocabulary
from realty.parsing.signals import is_filler, vocabulary
from realty.parsing.text import Message, Word
from realty.pipeline.ground import DroppedValue, Grounder
from realty.pipeline.prompt import LLMAnswer, PromptBuilder, Style

__all__ = ["DroppedValue", "LLMExtractor", "LLMOutcome"]

logger = logging.getLogger("realty.llm")

Mode = Literal["hybrid", "every_turn"]

# Below this share of explained text a message may hold facts the parser missed.
COVERAGE_THRESHOLD = 0.75
MIN_UNEXPLAINED_WORDS = 2
_MAX_ATTEMPTS = 2  # the first call and one re-ask
_CUE_REACH = 4  # words after a cue that may hold the volunteered fact
_MIN_CONTENT_CHARS = 3
# The narrow prompt's question: unexplained words joined across gaps of up to two words, a
# few phrases at most.
_UNREAD_GAP = 3
_MAX_UNREAD_PHRASES = 6
_MAX_UNREAD_CHARS = 300

# Words that introduce a volunteered requirement ("with a terrace", "cerca del metro"); when
# the words after one are unexplained the parser did not map the fact.
_FACT_CUES: frozenset[str] = frozenset(
    {
        "with",
        "con",
        "near",
        "close",
        "cerca",
        "junto",
        "also",
        "tambien",
        "ademas",
        "plus",
        "including",
        "incluya",
        "incluye",
        "tenga",
        "cuente",
        "without",
        "sin",
        "must",
        "should",
        "debe",
        "requires",
        "requiere",
    }
)
# Signals that, on their own, leave nothing to extract.
_NOTHING_TO_EXTRACT = frozenset({"gibberish"})


@dataclass(frozen=True)
class LLMOutcome:
    """What the LLM stage produced for one message.

    Attributes:
        extraction: The parser's extraction merged with the grounded model candidates.
        calls: Model calls made this turn (0, 1, or 2 with the re-ask).
        latency_ms: Time spent in the stage.
        dropped: Model values the message did not support.
        error: Why the model's answer could not be used (the extraction is then the parser's).
    """

    extraction: Extraction
    calls: int
    latency_ms: float
    dropped: tuple[DroppedValue, ...]
    error: str | None


@dataclass(frozen=True, slots=True)
class _Answer:
    answer: LLMAnswer | None
    calls: int
    error: str | None


class LLMExtractor:
    """Consults a model about messages the parser could not fully explain."""

    def __init__(
        self,
        llm: LLM,
        grounder: Grounder,
        *,
        timeout_s: float,
        mode: Mode = "hybrid",
        coverage_threshold: float = COVERAGE_THRESHOLD,
        prompt: Style = "full",
        extra_keys: Sequence[str] = (),
    ) -> None:
        """Prepare the prompt and the parser's vocabulary.

        Args:
            llm: The model provider.
            grounder: Checks the model's values against the message.
            timeout_s: Upper bound for the whole stage, re-ask included.
            mode: ``hybrid`` asks only when needed; ``every_turn`` asks for every message.
            coverage_threshold: Messages explained at least this much are not sent (hybrid).
            prompt: ``narrow`` (only the words the parser could not explain) or ``full``.
            extra_keys: The registry's extras, the narrow prompt's closed choices.
        """
        self._llm = llm
        self._grounder = grounder
        self._timeout_s = timeout_s
        self._mode = mode
        self._threshold = coverage_threshold
        self._prompt = PromptBuilder(style=prompt, extra_keys=extra_keys)
        # Words the parser reads on purpose (signals, kinds, facts) are explained even when
        # they are outside every candidate span.
        self._known = vocabulary() | type_vocabulary() | fact_vocabulary()

    def needs_llm(self, text: str, extraction: Extraction) -> bool:
        """Whether ``text`` should be sent to the model.

        Args:
            text: The user's message.
            extraction: The parser's extraction of it.

        Returns:
            ``every_turn``: True for any message with words. ``hybrid``: True when the parser
            left at least two content words unexplained in a poorly covered message, could
            only guess the property type, or missed a fact introduced by a cue ("with a
            terrace"); never for gibberish, greetings, yes/no or fully explained messages.
        """
        msg = Message.of(text)
        if not msg.words:
            return False
        if self._mode == "every_turn":
            return True
        if extraction.signals & _NOTHING_TO_EXTRACT:
            return False
        if any(_is_other_type(c) for c in extraction.candidates):
            return True
        unexplained = self._unexplained(msg, extraction)
        if not unexplained:
            return False
        if _after_cue(msg, unexplained):
            return True
        # Chit-chat ("what's the weather like?") is poorly covered too but holds no facts.
        if "off_topic" in extraction.signals:
            return False
        return extraction.coverage < self._threshold and len(unexplained) >= MIN_UNEXPLAINED_WORDS

    async def extract(
        self, text: str, extraction: Extraction, state: ConversationState
    ) -> LLMOutcome:
        """Ask the model about ``text`` and merge its grounded answer into ``extraction``.

        Never raises and never takes (much) longer than ``timeout_s``.

        Args:
            text: The user's message.
            extraction: The parser's extraction of it.
            state: The conversation so far (what was asked, what is known).

        Returns:
            The merged extraction, the number of calls, the dropped values and any error.
        """
        started = time.perf_counter()
        try:
            unread = self.unread(text, extraction)
            result = await self._ask(self._prompt.request(text, state, unread))
        except Exception as exc:  # the stage must never break the conversation
            logger.exception("llm extraction failed")
            return _outcome(extraction, 0, started, (), f"llm stage failed: {exc}")
        if result.answer is None:
            logger.warning(
                "llm extraction failed (%s, %d calls, message of %d characters): %s",
                self._llm.name,
                result.calls,
                len(text),
                result.error,
            )
            return _outcome(extraction, result.calls, started, (), result.error)
        try:
            grounded, dropped = self._grounder.ground_answer(text, result.answer)
        except Exception as exc:  # a grounding bug must not break the conversation
            logger.exception("grounding failed")
            return _outcome(extraction, result.calls, started, (), f"grounding failed: {exc}")
        merged = merge(extraction, grounded)
        return _outcome(merged, result.calls, started, tuple(dropped), None)

    async def _ask(self, request: LLMRequest) -> _Answer:
        """Call the model, re-asking once on a malformed answer, within the time budget."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        calls = 0
        error = "no answer"
        for _ in range(_MAX_ATTEMPTS):
            remaining = deadline - loop.time()
            if remaining <= 0:
                return _Answer(None, calls, f"timeout after {self._timeout_s:g}s")
            calls += 1
            try:
                response = await asyncio.wait_for(self._llm.complete(request), remaining)
            except TimeoutError:
                return _Answer(None, calls, f"timeout after {self._timeout_s:g}s")
            except ProviderError as exc:
                return _Answer(None, calls, f"provider error: {type(exc).__name__}: {exc}")
            except Exception as exc:  # a provider bug must not break the conversation
                logger.exception("unexpected provider failure")
                return _Answer(None, calls, f"provider failure: {type(exc).__name__}: {exc}")
            try:
                return _Answer(self._prompt.parse(response.text), calls, None)
            except ValidationError as exc:
                error = f"invalid answer: {exc.error_count()} error(s)"
                logger.info("invalid llm answer (attempt %d): %s", calls, exc.errors()[:3])
                request = self._prompt.reask(request, response.text, exc)
        return _Answer(None, calls, f"{error} twice")

    def unread(self, text: str, extraction: Extraction) -> list[str]:
        """The phrases of ``text`` the parser could not explain, each with the word before it
        (what the narrow prompt asks about; the whole message when every word was read)."""
        msg = Message.of(text)
        words = self._unexplained(msg, extraction)
        if not words:
            return [text[:_MAX_UNREAD_CHARS]]
        index = {w.start: i for i, w in enumerate(msg.words)}
        groups: list[list[int]] = []
        for word in words:
            i = index[word.start]
            if groups and i - groups[-1][-1] <= _UNREAD_GAP:
                groups[-1].append(i)
            else:
                groups.append([i])
        phrases = []
        for group in groups:
            first, last = max(0, group[0] - 1), group[-1]
            phrases.append(text[msg.words[first].start : msg.words[last].end])
        return phrases[:_MAX_UNREAD_PHRASES]

    def _unexplained(self, msg: Message, extraction: Extraction) -> list[Word]:
        """Content words outside every candidate that the parser has no reading for."""
        spans = [c.span for c in extraction.candidates]
        spans += [u.span for u in extraction.unknown_cities]
        return [
            w
            for w in msg.words
            if len(w.text) >= _MIN_CONTENT_CHARS
            and not w.text.isdigit()
            and not is_filler(w.text)
            and w.text not in self._known
            and not any(s[0] <= w.start and w.end <= s[1] for s in spans)
        ]


def _is_other_type(cand: Candidate) -> bool:
    """A property type the parser could only guess (kept as ``other`` with its words)."""
    return isinstance(cand.value, PropertyType) and cand.value.value == "other"


def _after_cue(msg: Message, unexplained: Sequence[Word]) -> bool:
    """True when an unexplained word closely follows a volunteered-fact cue."""
    starts = {w.start for w in unexplained}
    for index, word in enumerate(msg.words):
        if word.text not in _FACT_CUES:
            continue
        following = msg.words[index + 1 : index + 1 + _CUE_REACH]
        if any(w.start in starts for w in following):
            return True
    return False


def merge(extraction: Extraction, grounded: Sequence[Candidate]) -> Extraction:
    """Add grounded model candidates to the parser's extraction; the parser wins.

    A model candidate is added only for keys the parser did not produce, except that a known
    property kind replaces the parser's ``other`` guess; an extra resting on words the parser
    already read is left out. Parser candidates are never removed otherwise, and signals stay
    the parser's (except that a message with new facts is no longer off-topic, as the parser
    itself rules).

    Args:
        extraction: The parser's extraction.
        grounded: Grounded model candidates.

    Returns:
        The merged extraction (``extraction`` itself when nothing was added).
    """
    parser_keys = {c.key for c in extraction.candidates}
    kept = list(extraction.candidates)
    added: list[Candidate] = []
    for cand in grounded:
        if cand.key == "property_type" and _replaces_guess(cand, kept):
            kept = [c for c in kept if not _is_other_type(c)]
            added.append(cand)
        elif cand.key in parser_keys or any(a.key == cand.key for a in added):
            continue
        elif cand.key in CORE_FIELDS and _overlaps_any(cand, extraction.candidates):
            # The parser read these words as something else ("8 m clear height" is a
            # ceiling, not a size): its reading of numbers and units stands.
            logger.info("llm %s on words the parser read: dropped", cand.key)
        elif cand.key in CORE_FIELDS or not _already_read(cand, extraction.candidates):
            added.append(cand)
    if not added:
        return extraction
    candidates = sorted([*kept, *added], key=lambda c: (c.span[0], c.span[1]))
    return extraction.model_copy(
        update={
            "candidates": tuple(candidates),
            "signals": extraction.signals - {"off_topic", "gibberish"},
        }
    )


def _overlaps_any(cand: Candidate, parser: Sequence[Candidate]) -> bool:
    """True when ``cand`` rests on words any parser candidate rests on."""
    start, end = cand.span
    return end > start and any(c.span[0] < end and start < c.span[1] for c in parser)


def _already_read(cand: Candidate, parser: Sequence[Candidate]) -> bool:
    """True when the parser already read most of the words an extra rests on.

    The model may name a fact the parser found under another key ("parking_spots" for the
    parser's ``parking_spaces``); the parser's reading of the same words stands.
    """
    start, end = cand.span
    size = end - start
    covered = sum(max(0, min(end, c.span[1]) - max(start, c.span[0])) for c in parser)
    return size > 0 and covered * 2 >= size


def _replaces_guess(cand: Candidate, parser: Sequence[Candidate]) -> bool:
    """A known kind from the model replaces a parser ``other`` guess (and only that)."""
    types = [c for c in parser if c.key == "property_type"]
    return bool(types) and not _is_other_type(cand) and all(_is_other_type(c) for c in types)


def _outcome(
    extraction: Extraction,
    calls: int,
    started: float,
    dropped: tuple[DroppedValue, ...],
    error: str | None,
) -> LLMOutcome:
    latency = (time.perf_counter() - started) * 1000
    return LLMOutcome(extraction, calls, round(latency, 3), dropped, error)
