"""Spans for the stages of a turn, children of the span current when the turn runs (the HTTP
request's); without a tracer, nothing at all.

A stage's span carries what the turn did (counts, categories, ids), never what the prospect
wrote: no message text, no brief value, no contact detail, no exception message (one may
quote a value); a failed stage records only the exception's type.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Protocol

from opentelemetry.trace import StatusCode, Tracer
from opentelemetry.util.types import AttributeValue


class Stage(Protocol):
    """What a stage may note on its span."""

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Record ``key`` on the stage's span."""


class _Untraced:
    __slots__ = ()

    def set_attribute(self, key: str, value: AttributeValue) -> None:
        """Nothing: tracing is off."""


# Shared by every stage of every turn when tracing is off: entering it calls nothing.
_UNTRACED: AbstractContextManager[Stage] = nullcontext(_Untraced())


class Stages:
    """Opens one span per stage, named ``realty.<stage>``, when given a tracer."""

    def __init__(self, tracer: Tracer | None = None) -> None:
        self._tracer = tracer

    def __call__(self, name: str) -> AbstractContextManager[Stage]:
        """The span of stage ``name`` (``with stages("guard") as span: …``)."""
        if self._tracer is None:
            return _UNTRACED
        return _span(self._tracer, f"realty.{name}")


@contextmanager
def _span(tracer: Tracer, name: str) -> Iterator[Stage]:
    with tracer.start_as_current_span(
        name, record_exception=False, set_status_on_exception=False
    ) as span:
        try:
            yield span
        except Exception as exc:
            span.set_attribute("error.type", type(exc).__qualname__)
            span.set_status(StatusCode.ERROR)
            raise
