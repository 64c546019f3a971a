"""What log lines may not carry: conversation tokens and prospects' contact details.

Two filters, applied to every record as it is created (so every handler gets the cleaned
text: the console, a log shipper, pytest's capture), once :func:`install` has run — the API's
``create_app`` and the command line call it; importing this module changes nothing:

* :class:`TokenRedactor`, on uvicorn's records (its access log and its ``WebSocket …``
  lines) and the project's: a ``token=<value>`` query parameter becomes ``token=***``. Old
  WebSocket clients still put the conversation token in the URL (docs/api.md).
* :class:`PersonalDataMasker`, on the project's own records (loggers under ``realty``):
  e-mail addresses become ``j***@example.com`` and phone numbers ``+52 *** *** 1234``, in
  the message, its arguments and any traceback. Amounts (``20,000``, ``2.000.000``), dates
  and times are left alone.

:func:`configure` then sends every record — the project's, uvicorn's, any library's — through
one structlog pipeline to stderr: readable lines (``console``, the default) or one JSON object
per line (``json``), with the ``request_id`` and ``conversation_id`` bound to the request or
turn that logged it, and every field of the event cleaned like the message
(docs/observability.md).
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from realty.parsing.contact import digit_groups, grouped_as_thousands

_PROJECT = "realty"
_SERVER = "uvicorn"

_TOKEN = re.compile(r"(?i)(?<=[?&;])((?:access_)?token=)[^&;\s\"'#]+")
# A credential is long; "the bearer of the lease" is left alone.
_BEARER = re.compile(r"(?i)\b(bearer\s+)[\w.~+/=-]{16,}")

_EMAIL = re.compile(r"(?<![\w.%+-])([\w%+-])[\w.%+-]*@([\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})(?![\w-])")
# A run of digits with the separators phone numbers are written with (never a comma: that is
# an amount). Which runs really are phone numbers is decided by :func:`_phone`.
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+@/:])(?<!\d[.,-])(?:\+\s?)?\(?\d[\d ().-]{6,24}\d(?![\w/:@-]|[.,-]\d)"
)
_SEPARATORS = re.compile(r"[\s().-]+")
_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b|\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)\d\d\b")
_KNOWN_CODES = (("52", (12, 13)), ("1", (11,)))  # Mexico, then the US and Canada
_KEEP = 4  # digits shown at the end of a masked phone number
_FORMATTER = logging.Formatter()  # tracebacks as the default formatter writes them

_Masker = Callable[[str], str]


def redact_tokens(text: str) -> str:
    """``text`` with the value of every ``token=`` query parameter and of every ``Bearer``
    credential replaced by ``***``."""
    lowered = text.lower()
    if "token=" in lowered:
        text = _TOKEN.sub(r"\1***", text)
    if "bearer" in lowered:
        text = _BEARER.sub(r"\1***", text)
    return text


def mask_personal_data(text: str) -> str:
    """``text`` with e-mail addresses and phone numbers masked.

    ``jane.doe@example.com`` becomes ``j***@example.com``; ``+52 55 1234 5678`` becomes
    ``+52 *** *** 5678`` and ``(555) 123-4567`` becomes ``*** *** 4567``.
    """
    if "@" in text:
        text = _EMAIL.sub(r"\1***@\2", text)
    return _PHONE_CANDIDATE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    """The masked number when ``match`` is a phone number, else the text unchanged."""
    written = match.group(0)
    digits = re.sub(r"\D", "", written)
    plus = written.startswith("+")
    if not (8 <= len(digits) <= 15 if plus else 10 <= len(digits) <= 13):
        return written
    if _DATE.search(written) or "  " in written or (not plus and _not_phone(written)):
        return written
    code = _country_code(written, digits) if plus else ""
    return f"{'+' + code + ' ' if plus else ''}*** *** {digits[-_KEEP:]}"


def _not_phone(written: str) -> bool:
    """Digits a national number is not written as: thousands (``2.000.000.000``,
    ``2 000 000 000``) or several numbers side by side (``15000 20000``)."""
    groups = digit_groups(written)
    if len(groups) == 1:
        return False
    return grouped_as_thousands(groups) or any(len(g) > 4 for g in groups)


def _country_code(written: str, digits: str) -> str:
    first = [g for g in _SEPARATORS.split(written.lstrip("+ ")) if g]
    if len(first) > 1 and len(first[0]) <= 3:
        return first[0]
    for code, lengths in _KNOWN_CODES:
        if digits.startswith(code) and len(digits) in lengths:
            return code
    return "***"


class _Cleaned:
    """A log argument that was not text, shown as its cleaned ``str`` and ``repr``."""

    __slots__ = ("_repr", "_str")

    def __init__(self, value: object, clean: _Masker) -> None:
        self._str = clean(str(value))
        self._repr = clean(repr(value))

    def __str__(self) -> str:
        return self._str

    def __repr__(self) -> str:
        return self._repr


def _clean_arg(value: Any, clean: _Masker) -> Any:
    if value is None or isinstance(value, (bool, int, float)):
        return value  # numbers stay numbers: "%d" and "%.3f" still apply
    if isinstance(value, str):
        return clean(value)
    cleaned = _Cleaned(value, clean)
    return cleaned if (str(cleaned), repr(cleaned)) != (str(value), repr(value)) else value


class _CleaningFilter(logging.Filter):
    """Rewrites a record's message, arguments and traceback text with one cleaning function."""

    def __init__(self, clean: _Masker) -> None:
        super().__init__()
        self._clean = clean

    def filter(self, record: logging.LogRecord) -> bool:
        clean = self._clean
        if isinstance(record.msg, str):
            record.msg = clean(record.msg)
        args = record.args
        if isinstance(args, tuple):
            record.args = tuple(_clean_arg(a, clean) for a in args)
        elif isinstance(args, Mapping):
            record.args = {k: _clean_arg(v, clean) for k, v in args.items()}
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = clean(_FORMATTER.formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = clean(record.exc_text)
        if record.stack_info:
            record.stack_info = clean(record.stack_info)
        return True


class TokenRedactor(_CleaningFilter):
    """Replaces the value of ``token=`` query parameters with ``***`` in a record."""

    def __init__(self) -> None:
        super().__init__(redact_tokens)


class PersonalDataMasker(_CleaningFilter):
    """Masks e-mail addresses and phone numbers in a record (see the module doc)."""

    def __init__(self) -> None:
        super().__init__(lambda text: mask_personal_data(redact_tokens(text)))


def _under(name: str | None, root: str) -> bool:
    # logging.makeLogRecord builds a nameless record first (formatters copy records with it).
    return name is not None and (name == root or name.startswith(root + "."))


def install() -> None:
    """Apply the filters to every record created from now on (idempotent).

    Records of loggers under ``realty`` are masked and redacted; uvicorn's are redacted.
    Filters attached to a logger would miss its children's records and those attached to
    handlers would miss handlers added later, so the filters run in the record factory.
    """
    current = logging.getLogRecordFactory()
    if getattr(current, "realty_filters", False):
        return
    project, server = PersonalDataMasker(), TokenRedactor()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = current(*args, **kwargs)
        if _under(record.name, _PROJECT):
            project.filter(record)
        elif _under(record.name, _SERVER):
            server.filter(record)
        return record

    factory.realty_filters = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# ---- the structlog pipeline ----

LogFormat = Literal["console", "json"]
REQUEST_ID_HEADER = "x-request-id"
# A client's request id is kept when it is one plain token (a UUID, a trace id), never when it
# could smuggle text into every log line of the request.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
# Fields the pipeline itself writes: nothing of a prospect's can be in them.
_OWN_FIELDS = frozenset({"timestamp", "level", "logger", "conversation_id", "request_id"})
_ACCESS_LOGGER = "uvicorn.access"
_SERVER_LOGGERS = ("uvicorn", "uvicorn.error", _ACCESS_LOGGER)


def request_id(incoming: str | None) -> str:
    """``incoming`` (a client's ``X-Request-ID``) when it is a sane token, else a new id."""
    if incoming is not None and _SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    # An id only tells requests apart: 128 random bits from the process's generator (seeded
    # from the OS) do, without a system call per request as ``secrets`` makes.
    return f"{random.getrandbits(128):032x}"


def bind(**values: str) -> None:
    """Add ``values`` to every record logged from here on in this request, turn or task."""
    structlog.contextvars.bind_contextvars(**values)


def _clean(value: Any) -> Any:
    """``value`` with tokens redacted and contact details masked, nested values included."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return mask_personal_data(redact_tokens(value))
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(v) for v in value]
    return mask_personal_data(redact_tokens(str(value)))


def clean_event(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Every field of ``event`` but the pipeline's own cleaned like a log message."""
    return {k: v if k in _OWN_FIELDS else _clean(v) for k, v in event.items()}


def _access_fields(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Uvicorn's access line as fields, its path without the query string (where old
    clients put the conversation token)."""
    record = event.get("_record")
    args = event.pop("positional_args", None)
    if record is None or record.name != _ACCESS_LOGGER:
        return event
    if not isinstance(args, tuple) or len(args) != 5:
        return event
    client, method, path, version, status = args
    path = str(path).split("?", 1)[0]
    event.update(
        event=f"{method} {path} {status}",
        client=str(client),
        method=str(method),
        path=path,
        http_version=str(version),
        status=int(status),
    )
    return event


def _drop_args(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    event.pop("positional_args", None)
    return event


def _drop_colours(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """Uvicorn passes its message again with terminal colour codes as an extra field."""
    event.pop("color_message", None)
    return event


def _shared() -> list[Processor]:
    """What every event gets, whether it was logged through structlog or ``logging``."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def formatter(log_format: LogFormat) -> structlog.stdlib.ProcessorFormatter:
    """The formatter of the log handler: ``logging`` records and structlog events alike
    come out cleaned, as JSON lines or as readable console lines."""
    renderer: Processor
    if log_format == "json":
        arguments: Processor = _access_fields
        renderer = structlog.processors.JSONRenderer(json.dumps, default=str, ensure_ascii=False)
    else:
        arguments = _drop_args  # the console keeps uvicorn's access line as uvicorn writes it
        renderer = structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.ExtraAdder(), _drop_colours, *_shared(), arguments],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            # Tracebacks become text before cleaning, so a value in one is masked too.
            structlog.processors.format_exc_info,
            clean_event,
            renderer,
        ],
        pass_foreign_args=True,
    )


def configure(log_format: LogFormat = "console", level: str = "info") -> None:
    """Send every log record of the process to stderr through the pipeline (idempotent).

    The root logger gets the one handler (a previous call's is replaced; others, such as a
    test runner's, stay); uvicorn's loggers give up the handlers its own configuration gave
    them and propagate to it. An access log that uvicorn turned off stays off.
    """
    install()
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "realty_pipeline", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    # On the handler too: a library that sets its own logger to DEBUG stays quiet.
    handler.setLevel(level.upper())
    handler.realty_pipeline = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in _SERVER_LOGGERS:
        server = logging.getLogger(name)
        if server.handlers:
            server.handlers.clear()
            server.propagate = True
    structlog.configure(
        processors=[*_shared(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
