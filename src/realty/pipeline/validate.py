"""The validation stage: splits a turn's candidates into accepted values and rejections."""

from __future__ import annotations

from realty.domain.fields import FieldRegistry
from realty.domain.turn import Extraction, TurnUpdate
from realty.domain.validate import validate


class Validator:
    """Validates extractions against the deployment's field registry."""

    def __init__(self, registry: FieldRegistry) -> None:
        self._registry = registry

    def validate(self, extraction: Extraction, text: str, today: str) -> TurnUpdate:
        """Rejected values become data the conversation explains; nothing raises."""
        return validate(extraction, text, self._registry, today)
