"""What the simulation, knowledge and intent features need, built once per process.

:func:`realty.services.factory.build_toolkit` assembles it from the settings; the API's
lifespan keeps it in :class:`~realty.services.runtime.Resources`.
"""

from __future__ import annotations

from dataclasses import dataclass

from realty.knowledge.base import KnowledgeBase
from realty.pipeline.intent import IntentClassifier
from realty.pipeline.simulation import SimulationReader
from realty.pipeline.simulation_reply import SimulationReplier


@dataclass(frozen=True, slots=True)
class Toolkit:
    """The simulation reader and replier, the knowledge base and the intent classifier."""

    simulation_reader: SimulationReader
    simulation_replier: SimulationReplier
    knowledge: KnowledgeBase
    intents: IntentClassifier
