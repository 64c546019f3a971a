"""What the tracing tests share (tests/unit/test_tracing.py, tests/service/test_api_tracing.py):
the stages of a message turn, a message none of whose values may reach a span, and readers
of recorded spans. The fixtures ``span_exporter`` and ``recording_provider`` are in
tests/conftest.py."""

from __future__ import annotations

from collections.abc import Iterable

from opentelemetry.sdk.trace import ReadableSpan

# A brief's values and both kinds of contact detail: none may reach a span.
MESSAGE = "I need an office in Mexico City, call me on +52 55 1234 5678 or jane.doe@example.com"
PRIVATE = ("office", "Mexico", "1234 5678", "jane", "example.com")
# A message turn's spans, children of the request's span, in the order they start.
STAGES = [
    "realty.load",
    "realty.guard",
    "realty.parse",
    "realty.advance",
    "realty.matches",
    "realty.respond",
    "realty.commit",
]


def children(spans: Iterable[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    """The spans whose parent is ``parent``, in the order they started."""
    assert parent.context is not None
    return sorted(
        (s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id),
        key=lambda s: s.start_time or 0,
    )


def leaked(spans: Iterable[ReadableSpan], *secrets: str) -> list[tuple[str, object]]:
    """Every attribute of ``spans`` holding one of ``secrets`` or :data:`PRIVATE`'s fragments,
    as ``(span name, value)``."""
    fragments = (*PRIVATE, *secrets)
    return [
        (span.name, value)
        for span in spans
        for value in (span.attributes or {}).values()
        if any(fragment in str(value) for fragment in fragments)
    ]
