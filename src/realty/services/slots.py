"""A bound on model calls running at once, which never makes a turn wait.

The model is the slowest and most expensive stage; a flood of messages that all need it would
queue behind it and every reply would be late. With no free slot a turn does without the
model: the parser's reading answers it at once (and the turn is counted as skipped).
"""

from __future__ import annotations


class CallSlots:
    """At most ``limit`` holders at once; :meth:`take` answers at once, never waits.

    Args:
        limit: How many calls may run at once (``REALTY_LLM_MAX_CONCURRENCY``).
    """

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("at least one model call must be allowed")
        self.limit = limit
        self.in_use = 0
        self.skipped = 0  # turns that found every slot taken

    def take(self) -> bool:
        """Take a slot if one is free; count the turn as skipped otherwise."""
        if self.in_use >= self.limit:
            self.skipped += 1
            return False
        self.in_use += 1
        return True

    def give_back(self) -> None:
        """Free a slot taken with :meth:`take`."""
        self.in_use -= 1
