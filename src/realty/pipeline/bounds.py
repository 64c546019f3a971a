"""The bounds stage: a brief holds at most so many extras and so many bytes.

Prospects (or scripts) may keep adding wishes, by message or by form, and the brief is stored
and sent with every turn; past the limits a new value is refused as data (``brief_full``), so
a message is answered politely and a form edit gets a 422, and what is already in the brief
stays. Changing or removing a value the brief already holds is always allowed.
"""

from __future__ import annotations

import orjson

from realty.domain.brief import CORE_FIELDS, Brief, Slot
from realty.domain.fields import FieldRegistry
from realty.domain.turn import Candidate, Rejection, TurnUpdate


class BriefBounds:
    """Refuses candidates that would take a brief past ``max_extras`` or ``max_bytes``.

    Args:
        registry: Which keys are fields of the brief (the rest are extras).
        max_extras: Most extras a brief holds (``REALTY_MAX_EXTRAS``).
        max_bytes: Largest canonical JSON of a brief, in bytes (``REALTY_MAX_BRIEF_BYTES``).
    """

    def __init__(self, registry: FieldRegistry, max_extras: int, max_bytes: int) -> None:
        self._fields = frozenset(CORE_FIELDS) | frozenset(registry.required)
        self._required = registry.required
        self.max_extras = max_extras
        self.max_bytes = max_bytes

    def check(self, brief: Brief, update: TurnUpdate) -> TurnUpdate:
        """``update`` with every candidate that would overfill ``brief`` moved to rejected."""
        accepted: list[Candidate] = []
        rejected: list[Rejection] = []
        for cand in update.accepted:
            problem = self._problem(brief, cand)
            if problem is None:
                accepted.append(cand)
                if cand.op != "remove" and cand.value is not None:
                    brief = brief.with_slot(cand.key, Slot(value=cand.value))
                continue
            rejected.append(Rejection(candidate=cand, reason="brief_full", detail=problem))
        if not rejected:
            return update
        return update.model_copy(
            update={"accepted": tuple(accepted), "rejected": (*update.rejected, *rejected)}
        )

    def _problem(self, brief: Brief, cand: Candidate) -> str | None:
        if cand.op == "remove" or cand.value is None:
            return None
        new = cand.key not in brief.slots
        extras = sum(1 for key in brief.slots if key not in self._fields)
        if new and cand.key not in self._fields and extras >= self.max_extras:
            return f"the brief already holds {self.max_extras} extras (REALTY_MAX_EXTRAS)"
        grown = self.size(brief.with_slot(cand.key, Slot(value=cand.value)))
        if grown > self.max_bytes and grown > self.size(brief):
            return f"the brief would exceed {self.max_bytes:,} bytes (REALTY_MAX_BRIEF_BYTES)"
        return None

    def size(self, brief: Brief) -> int:
        """The length of ``brief``'s canonical JSON, in bytes."""
        return len(orjson.dumps(brief.to_json(self._required)))
