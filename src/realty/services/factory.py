"""Builds the conversation service from settings (the CLI, evaluations and the API lifespan)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from datetime import date
from functools import lru_cache
from pathlib import Path

from opentelemetry.trace import Tracer

from realty.domain.fields import FieldRegistry
from realty.errors import ConfigurationError
from realty.knowledge.base import KnowledgeBase
from realty.llm.base import LLM
from realty.llm.registry import build_llm
from realty.parsing.facts import fact_phrases
from realty.pipeline.assist import Assistant
from realty.pipeline.bounds import BriefBounds
from realty.pipeline.ground import Grounder
from realty.pipeline.guard import CharNgramClassifier, Guard, RuleSet
from realty.pipeline.intent import IntentClassifier
from realty.pipeline.llm_extract import LLMExtractor
from realty.pipeline.parse import Parser
from realty.pipeline.respond import Responder
from realty.pipeline.simulation import SimulationReader
from realty.pipeline.simulation_reply import SimulationReplier
from realty.services.conversation import ConversationService
from realty.services.events import EventBus
from realty.services.matching import MatchService
from realty.services.toolkit import Toolkit
from realty.settings import Settings
from realty.store.base import ConversationStore, utcnow
from realty.store.memory import InMemoryStore

_UNSET = object()


def extra_words(registry: FieldRegistry) -> dict[str, list[str]]:
    """The words that name each known extra: its labels, its data ``words`` and the parser's
    phrases for it (one vocabulary for reading a message and for checking a model's claim)."""
    phrases = fact_phrases()
    words: dict[str, list[str]] = {}
    for spec in registry.specs:
        if spec.required:
            continue
        words[spec.key] = [spec.label.en, spec.label.es, *spec.words, *phrases.get(spec.key, ())]
    return words


@lru_cache(maxsize=4)
def _guard_layers(model_path: Path | None) -> tuple[RuleSet, CharNgramClassifier]:
    """The rules and the classifier, read once per process (and model file): both are
    immutable, so every service of the process shares them."""
    return RuleSet.load(), CharNgramClassifier.load(model_path)


def build_guard(settings: Settings) -> Guard:
    """The guard the settings ask for: the limits alone (``REALTY_GUARD_MODE=off``) or the
    limits, the rules and the classifier.

    Raises:
        ConfigurationError: The guard model or rules cannot be read.
    """
    if settings.guard_mode == "off":
        return Guard(settings.max_message_chars)
    rules, classifier = _guard_layers(settings.guard_model_path)
    return Guard(
        settings.max_message_chars,
        rules=rules,
        classifier=classifier,
        threshold=settings.guard_threshold,
    )


def build_service(
    settings: Settings,
    *,
    store: ConversationStore | None = None,
    parser: Parser | None = None,
    today: Callable[[], date] = date.today,
    now: Callable[[], dt.datetime] = utcnow,
    llm: LLM | object | None = _UNSET,
    events: EventBus | None = None,
    toolkit: Toolkit | None = None,
    matcher: MatchService | None = None,
    tracer: Tracer | None = None,
) -> ConversationService:
    """Assemble every stage once.

    Pass ``toolkit`` to share the guides' index and the classifiers (the API builds one per
    process), ``parser`` to share one across services (tests), ``llm`` to use a given provider (or
    ``None`` for the parser alone) instead of the one the settings select (tests, evaluations
    and the API, which load a model once), ``store``/``events`` for the service's
    persistence and event fan-out (default: in memory, no events), and ``tracer`` for a span
    per stage of a turn (default: none, at no cost).

    Raises:
        ConfigurationError: ``parser`` was built for another market's country than
            REALTY_HOME_COUNTRY.
    """
    registry = settings.field_registry()
    lex = settings.lexicon()
    market = settings.market()
    parser = parser or Parser.build(registry, lex, country=market.country)
    if parser.country != market.country:
        raise ConfigurationError(
            f"the parser favours {parser.country} places but REALTY_HOME_COUNTRY is "
            f"{market.country}: build it with Parser.build(country={market.country!r})"
        )
    if llm is _UNSET:
        llm, warning = build_llm(settings)
        if warning:
            logging.getLogger("realty").warning(warning)
    extractor = None
    if isinstance(llm, LLM):
        extractor = LLMExtractor(
            llm,
            Grounder(parser.cities.gazetteer.resolve, key_words=extra_words(registry), lex=lex),
            timeout_s=settings.llm_timeout_s,
            mode=settings.llm_mode,
            prompt=settings.llm_prompt,
            extra_keys=[s.key for s in registry.specs if not s.required],
        )
    return ConversationService(
        registry=registry,
        guard=build_guard(settings),
        parser=parser,
        extractor=extractor,
        responder=Responder(registry),
        store=store or InMemoryStore(),
        events=events,
        market=market,
        default_language=settings.default_language,
        ttl=dt.timedelta(seconds=settings.conversation_ttl_s),
        today=today,
        now=now,
        reply_deadline_s=settings.llm_reply_deadline_ms / 1000,
        llm_max_concurrency=settings.llm_max_concurrency,
        bounds=BriefBounds(registry, settings.max_extras, settings.max_brief_bytes),
        assistant=_assistant(toolkit or build_toolkit(settings)),
        matcher=matcher,
        tracer=tracer,
    )


def _assistant(toolkit: Toolkit) -> Assistant:
    return Assistant(
        toolkit.intents, toolkit.knowledge, toolkit.simulation_reader, toolkit.simulation_replier
    )


def build_toolkit(settings: Settings) -> Toolkit:
    """The simulation reader and replier, the knowledge base's index and the intent
    classifier, built once per process.

    Raises:
        ConfigurationError: A packaged data file or guide cannot be read.
    """
    return Toolkit(
        simulation_reader=SimulationReader(default_rate=settings.default_mortgage_rate),
        simulation_replier=SimulationReplier(),
        knowledge=KnowledgeBase(country=settings.market().country),
        intents=IntentClassifier(),
    )
