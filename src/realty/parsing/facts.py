"""Volunteered facts: yes/no extras, the top priority, the move-in date and withdrawals.

Every extra is a row of ``_FACTS`` (folded phrases per key). A phrase is read as ``True``
unless a negation stands just before it in the same clause ("no pets", "sin amueblar",
"without an elevator") or right after it ("pets not allowed"); a withdrawal cue ("forget the
parking", "ya no necesito estacionamiento") turns it into a ``remove`` candidate instead.

Numbers that belong to these facts (a date, "#1 priority") are covered by the candidate
spans, which the orchestrator passes to the quantity finder so they are not read as money.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from realty.domain.brief import Scalar
from realty.domain.turn import Candidate, ParseContext
from realty.parsing.dates import ORDINAL, read_date
from realty.parsing.questions import breaks_sentence, question_words
from realty.parsing.text import Message, fold


@dataclass(frozen=True, slots=True)
class _Cues:
    """An immutable phrase list with its first words, for fast matching at a position."""

    phrases: tuple[tuple[str, ...], ...]
    heads: frozenset[str]

    @classmethod
    def of(cls, *phrases: tuple[str, ...]) -> _Cues:
        ordered = tuple(sorted(phrases, key=len, reverse=True))
        return cls(ordered, frozenset(p[0] for p in ordered))

    def at(self, texts: Sequence[str], pos: int) -> tuple[str, ...] | None:
        """The longest phrase starting at word ``pos``, if any."""
        if pos >= len(texts) or texts[pos] not in self.heads:
            return None
        for phrase in self.phrases:
            if tuple(texts[pos : pos + len(phrase)]) == phrase:
                return phrase
        return None


_FACTS: dict[str, tuple[str, ...]] = {
    "pets_allowed": (
        "pet friendly",
        "pets allowed",
        "pets welcome",
        "pets",
        "pet",
        "dog",
        "dogs",
        "cat",
        "cats",
        "mascotas",
        "mascota",
        "acepta mascotas",
        "acepten mascotas",
        "acepte mascotas",
        "admite mascotas",
        "se aceptan mascotas",
        "perro",
        "perros",
        "gato",
        "gatos",
    ),
    "furnished": (
        "furnished",
        "fully furnished",
        "amueblado",
        "amueblada",
        "amueblados",
        "amuebladas",
        "amueblar",
        "amoblado",
        "amoblada",
    ),
    "three_phase_power": (
        "trifasica",
        "trifasico",
        "energia trifasica",
        "corriente trifasica",
        "luz trifasica",
        "three phase",
        "three phase power",
        "3 phase",
        "3 phase power",
    ),
    "elevator": ("elevador", "elevadores", "ascensor", "ascensores", "elevator", "elevators"),
    "air_conditioning": (
        "aire acondicionado",
        "air conditioning",
        "air conditioner",
        "air conditioned",
        "a c",
        "ac",
        "con clima",
        "clima",
        "climatizado",
        "climatizada",
        "minisplit",
        "minisplits",
    ),
    "security_24h": (
        "seguridad 24 7",
        "seguridad 24 horas",
        "seguridad las 24 horas",
        "vigilancia",
        "vigilancia 24 7",
        "vigilancia 24 horas",
        "24 hour security",
        "24 hr security",
        "24 hours security",
        "24 7 security",
        "security 24 7",
        "security guard",
        "security guards",
        "guardia",
        "caseta de vigilancia",
        "seguridad privada",
    ),
    "parking": ("parking", "estacionamiento", "parking lot", "parking space", "cajones"),
    "garage": ("garage", "garaje", "cochera"),
    "in_unit_laundry": (
        "in unit laundry",
        "laundry in unit",
        "in unit washer",
        "washer dryer",
        "washer and dryer",
        "lavanderia",
        "area de lavado",
        "cuarto de lavado",
        "laundry",
    ),
}
# Phrases that state the negative themselves.
_NEGATIVE: dict[str, str] = {
    "unfurnished": "furnished",
    "non furnished": "furnished",
    "pet free": "pets_allowed",
    "no pets allowed": "pets_allowed",
}
# Keys that can only be withdrawn here (their values come from other finders).
_REMOVABLE: dict[str, tuple[str, ...]] = {
    "move_in_date": ("move in date", "fecha de mudanza", "fecha de entrada", "move in"),
    "zone": ("zona", "zone", "neighborhood", "colonia"),
    "parking_spaces": ("cajones de estacionamiento", "parking spaces", "cajones"),
    "loading_docks": ("loading docks", "docks", "andenes", "andenes de carga"),
    "bedrooms": ("bedrooms", "recamaras", "habitaciones"),
    "bathrooms": ("bathrooms", "baths", "banos"),
    "floor": ("floor", "piso"),
    "ceiling_height": ("ceiling height", "altura libre", "altura"),
    "lease_term_months": ("lease term", "plazo del contrato", "plazo"),
    "employees": ("employees", "empleados"),
    # The required ones too: withdrawn, they are asked for again.
    "budget": ("budget", "presupuesto"),
    "size": ("size", "tamano", "superficie", "square meters", "metros cuadrados"),
}

# A fact asked about under the key a listing states it by.
_ASKED_AS: dict[str, str] = {"parking": "parking_spaces"}
# Words that ask about a listing's size without naming a unit ("how big is it?").
_ASKED_SIZE = _Cues.of(("how", "big"), ("que", "tan", "grande"), ("cuanto", "mide"), ("tamano",))
# When a listing can be moved into ("is it available in March?", "¿desde cuándo está
# disponible?"): asked as ``available_from``.
_ASKED_AVAILABLE = _Cues.of(
    ("available",),
    ("availability",),
    ("disponible",),
    ("disponibles",),
    ("disponibilidad",),
    ("when", "can", "we", "move"),
    ("when", "can", "i", "move"),
    ("desde", "cuando"),
)

_NEED_VERBS = (
    "need",
    "require",
    "necesito",
    "necesitamos",
    "ocupo",
    "ocupamos",
    "requiero",
    "requerimos",
)
_NEGATIONS = _Cues.of(
    ("no",),
    ("not",),
    ("sin",),
    ("without",),
    ("non",),
    ("ni",),
    ("don't",),
    ("dont",),
    ("doesn't",),
    ("never",),
    ("nunca",),
    ("isn't",),
    ("won't",),
    ("nada",),
)
_POST_NEGATIONS = _Cues.of(
    ("not", "allowed"),
    ("not", "needed"),
    ("not", "required"),
    ("not", "necessary"),
    ("no", "permitidas"),
    ("no", "permitidos"),
    ("no", "necesario"),
    ("no", "es", "necesario"),
    ("prohibidas",),
    ("prohibidos",),
    ("prohibited",),
)
_REMOVALS = _Cues.of(
    ("forget",),
    ("olvida",),
    ("olvidate",),
    ("olvidalo",),
    ("remove",),
    ("quita",),
    ("quitale",),
    ("quitar",),
    ("elimina",),
    ("eliminar",),
    ("borra",),
    ("drop",),
    ("scratch",),
    ("cancel",),
    ("cancela",),
    ("never", "mind"),
    ("no", "longer"),
    ("ya", "no"),
)
# Saying a feature is not needed withdraws the requirement ("no necesito estacionamiento",
# "we don't need it furnished"); it does not ask for a place without it.
_NOT_NEEDED = _Cues.of(
    *((neg, verb) for neg in ("no", "don't", "dont", "doesn't") for verb in _NEED_VERBS),
    ("do", "not", "need"),
    ("does", "not", "need"),
    ("no", "hace", "falta"),
    ("no", "need", "for"),
)
_POST_REMOVALS = _Cues.of(
    ("anymore",),
    ("any", "more"),
    ("after", "all"),
    ("ya", "no"),
)
# Negation and withdrawal reach back at most this many words, within the clause.
_NEGATION_REACH = 3
_REMOVAL_REACH = 5
# A positive word between a negation and the fact ends the negation ("sin mascotas, con …").
_POSITIVE_BREAKS = frozenset({"con", "with", "but", "pero", "y", "and", "plus", "mas"})
_CLAUSE_BREAK = re.compile(r"[,.;:!?()\n]")

_PRIORITY_CUES = _Cues.of(
    ("1", "priority"),
    ("number", "one", "priority"),
    ("top", "priority"),
    ("main", "priority"),
    ("first", "priority"),
    ("biggest", "priority"),
    ("most", "important"),
    ("mas", "importante"),
    ("prioridad", "numero", "1"),
    ("prioridad", "numero", "uno"),
    ("prioridad", "principal"),
    ("principal", "prioridad"),
    ("prioridad", "1"),
    ("prioridad",),
    ("priority",),
    # "X is a must-have" ranks X; "it must have X" only asks for X.
    ("a", "must", "have"),
    ("indispensable",),
    ("imprescindible",),
)
# Priorities that are not yes/no extras, normalised to a field key.
_PRIORITY_WORDS: dict[str, str] = {
    "precio": "budget",
    "price": "budget",
    "presupuesto": "budget",
    "budget": "budget",
    "costo": "budget",
    "cost": "budget",
    "ubicacion": "location",
    "location": "location",
    "zona": "zone",
    "zone": "zone",
    "size": "size",
    "tamano": "size",
    "espacio": "size",
    "space": "size",
    "superficie": "size",
}
_PRIORITY_REACH = 6

_STRONG_DATE_CUES = _Cues.of(
    ("move",),
    ("moving",),
    ("mudar",),
    ("mudarme",),
    ("mudarnos",),
    ("mudarse",),
    ("mudanza",),
    ("mudamos",),
    ("mudaremos",),
    ("mudariamos",),
    ("a", "partir", "de"),
    ("a", "partir", "del"),
    ("starting",),
    ("start",),
    ("desde",),
    ("from",),
    ("available",),
    ("disponible",),
    ("entrar",),
    ("ocupar",),
    ("ocuparlo",),
    ("ocuparla",),
)
# Weak cues ("para el 15 de febrero") only count when the date names a month.
_WEAK_DATE_CUES = _Cues.of(("para",), ("by",), ("antes", "de"), ("before",))
_ASAP = _Cues.of(
    ("asap",),
    ("as", "soon", "as", "possible"),
    ("immediately",),
    ("right", "away"),
    ("lo", "antes", "posible"),
    ("lo", "mas", "pronto", "posible"),
    ("cuanto", "antes"),
    ("de", "inmediato"),
    ("inmediatamente",),
)
_MONTH_NAMES = (
    ("january", "jan", "enero", "ene"),
    ("february", "feb", "febrero"),
    ("march", "mar", "marzo"),
    ("april", "apr", "abril", "abr"),
    ("may", "mayo"),
    ("june", "jun", "junio"),
    ("july", "jul", "julio"),
    ("august", "aug", "agosto", "ago"),
    ("september", "sep", "sept", "septiembre", "setiembre"),
    ("october", "oct", "octubre"),
    ("november", "nov", "noviembre"),
    ("december", "dec", "diciembre", "dic"),
)
_MONTH_NUMBER = {name: i for i, names in enumerate(_MONTH_NAMES, start=1) for name in names}
_MONTHS = frozenset(_MONTH_NUMBER)
_RELATIVE_UNITS = frozenset(
    {"month", "months", "mes", "meses", "week", "weeks", "semana", "semanas", "year", "years"}
    | {"ano", "anos", "day", "days", "dia", "dias", "tomorrow", "manana", "today", "hoy"}
)
_DATE_GLUE = frozenset(
    {"de", "del", "of", "the", "el", "la", "next", "proximo", "proxima", "siguiente", "que"}
    | {"viene", "in", "en", "dentro", "this", "este", "esta", "on", "principios", "inicios"}
    | {"comienzos", "early", "beginning", "mediados", "mid", "finales", "end", "fin", "coming"}
)
_TRAILING_GLUE = frozenset({"de", "del", "of", "the", "el", "la", "in", "en", "on", "this"})
_DATE_SKIP_AFTER_CUE = 3
_DATE_MAX_WORDS = 7
_NUMBER_WORDS = frozenset(
    {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "couple"}
    | {"uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez"}
)
_COUNT_NOUNS = frozenset({"cajones", "lugares", "espacios", "spaces", "spots", "plazas"})

# Cues of a visit: the date that follows is when the prospect wants to see the property.
_VISIT_CUES = _Cues.of(
    ("visit",),
    ("visiting",),
    ("tour",),
    ("trip",),
    ("viewing",),
    ("see", "on"),
    ("see", "it"),
    ("see", "the"),
    ("see", "this"),
    ("see", "that"),
    ("look", "at", "it"),
    ("schedule",),
    ("appointment",),
    ("go",),
    ("come",),
    ("stop", "by"),
    ("drop", "by"),
    ("visita",),
    ("visitar",),
    ("visitarlo",),
    ("visitarla",),
    ("verlo",),
    ("verla",),
    ("cita",),
    ("recorrido",),
    # "¿la puedo ver el lunes?", "quiero conocerla mañana", "la vemos el jueves".
    ("la", "puedo", "ver"),
    ("lo", "puedo", "ver"),
    ("la", "podemos", "ver"),
    ("lo", "podemos", "ver"),
    ("ir", "a", "ver"),
    ("pasar", "a", "ver"),
    ("la", "vemos"),
    ("lo", "vemos"),
    ("conocerla",),
    ("conocerlo",),
    ("conocer", "el"),
    ("conocer", "la"),
)
# How far after a visit cue its date may start ("visit the apartment on the 9th").
_VISIT_REACH = 8
# Words that put forward a date for a visit being arranged ("how about the 4th?").
_SCHEDULING_LEADS = _Cues.of(
    ("make", "it"),
    ("how", "about"),
    ("what", "about"),
    ("let's", "try"),
    ("lets", "try"),
    ("let's", "do"),
    ("lets", "do"),
    ("can", "we", "do"),
    ("change", "it", "to"),
    ("move", "it", "to"),
    ("switch", "it", "to"),
    ("reschedule",),
    ("que", "tal"),
    ("mejor",),
    ("cambiala",),
    ("cambialo",),
    ("pasala",),
    ("pasalo",),
)
_WEEKDAYS = frozenset(
    {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "lunes"}
    | {"martes", "miercoles", "jueves", "viernes", "sabado", "domingo"}
)
_DAY_STARTS = frozenset({"today", "tomorrow", "tonight", "hoy", "manana", "pasado"})


_GLUE_WORDS = frozenset({"and", "del", "las", "los", "con", "the", "for", "que", "any"})


def fact_phrases() -> Mapping[str, tuple[str, ...]]:
    """The folded phrases that state each yes/no fact (``key → phrases``), read-only."""
    return MappingProxyType(_FACTS)


def fact_vocabulary() -> frozenset[str]:
    """Every folded word of the fact tables (so other finders do not misread them)."""
    phrases = [p for group in _FACTS.values() for p in group] + list(_NEGATIVE)
    return frozenset(w for p in phrases for w in p.split() if len(w) > 2 and w not in _GLUE_WORDS)


def _texts(msg: Message) -> list[str]:
    return [w.text.replace("’", "'") for w in msg.words]


def _starts_with(texts: Sequence[str], pos: int, phrase: Sequence[str]) -> bool:
    return tuple(texts[pos : pos + len(phrase)]) == tuple(phrase)


@dataclass(frozen=True, slots=True)
class _Mention:
    key: str
    first: int
    last: int  # inclusive word index
    positive: bool


class FactFinder:
    """Finds yes/no extras, the top priority, the move-in date and withdrawn facts."""

    def __init__(self, phrases: Mapping[str, Sequence[str]] | None = None) -> None:
        """Index the phrase tables and warm dateparser up (its first call is slow).

        Args:
            phrases: More yes/no facts, ``key → phrases`` (the field registry's ``words``).
        """
        index: dict[str, list[tuple[tuple[str, ...], str, bool]]] = {}
        table = {key: list(group) for key, group in _FACTS.items()}
        for key, group in (phrases or {}).items():
            table.setdefault(key, []).extend(fold(p).strip() for p in group)
        for key, group in table.items():
            for phrase in group:
                tokens = tuple(phrase.split())
                index.setdefault(tokens[0], []).append((tokens, key, True))
        for phrase, key in _NEGATIVE.items():
            tokens = tuple(phrase.split())
            index.setdefault(tokens[0], []).append((tokens, key, False))
        self._index = {k: tuple(sorted(v, key=lambda e: -len(e[0]))) for k, v in index.items()}
        self._removable = {
            tuple(phrase.split()): key for key, group in _REMOVABLE.items() for phrase in group
        }
        self._removable_cues = _Cues.of(*self._removable)
        for sample in ("1 de marzo de 2027", "next month"):
            read_date(sample, dt.date(2026, 1, 1))

    def find(self, msg: Message, ctx: ParseContext) -> list[Candidate]:
        """Facts stated or withdrawn in ``msg``, ordered by position.

        Args:
            msg: the user's message.
            ctx: the conversation context; ``today`` anchors relative dates.

        Returns:
            Candidates for extras (``Scalar`` values), ``top_priority``, ``move_in_date`` and
            ``remove`` candidates for withdrawn facts.
        """
        texts = _texts(msg)
        if not texts:
            return []
        mentions = self._mentions(texts)
        asked = question_words(msg, texts) if mentions else frozenset()
        facts = (self._fact_candidate(msg, texts, m) for m in mentions if m.first not in asked)
        out = [c for c in facts if c is not None]
        out.extend(self._removals(msg, texts, mentions))
        priority = self._priority(msg, texts, mentions)
        if priority is not None:
            out.append(priority)
        visit = self._visit(msg, texts, ctx)
        if visit is not None:
            out.append(visit)
        date = self._move_in(msg, texts, ctx)
        if date is not None and (visit is None or not _overlap(date.span, visit.span)):
            out.append(date)
        out.extend(_companion_removals(out))
        return sorted(out, key=lambda c: (c.span[0], c.key))

    def asked(self, msg: Message) -> tuple[str, ...]:
        """The features a question about a property names ("does it have parking?", "¿cuántos
        andenes tiene?"), by key and in order: what :meth:`find` leaves unread there.

        Yes/no facts and the counted extras (parking spaces, docks, heights…) are read;
        "parking" is asked as ``parking_spaces``, the size as ``size`` and when it can be moved
        into as ``available_from``.
        """
        texts = _texts(msg)
        if not texts:
            return ()
        asked = question_words(msg, texts)
        if not asked:
            return ()
        found = [(m.first, m.key) for m in self._mentions(texts) if m.first in asked]
        found += [
            (pos, self._removable[tokens])
            for pos in asked
            if (tokens := self._removable_cues.at(texts, pos)) is not None
        ]
        found += [(pos, "size") for pos in asked if _ASKED_SIZE.at(texts, pos) is not None]
        found += [
            (pos, "available_from") for pos in asked if _ASKED_AVAILABLE.at(texts, pos) is not None
        ]
        return tuple(dict.fromkeys(_ASKED_AS.get(k, k) for _, k in sorted(found)))

    # ---- yes/no extras -------------------------------------------------------------------

    def _mentions(self, texts: Sequence[str]) -> list[_Mention]:
        found: list[_Mention] = []
        pos = 0
        while pos < len(texts):
            for tokens, key, positive in self._index.get(texts[pos], ()):
                if _starts_with(texts, pos, tokens):
                    found.append(_Mention(key, pos, pos + len(tokens) - 1, positive))
                    pos += len(tokens) - 1
                    break
            pos += 1
        return found

    def _fact_candidate(
        self, msg: Message, texts: Sequence[str], mention: _Mention
    ) -> Candidate | None:
        if mention.key == "parking" and _has_count(texts, mention):
            return None  # "3 parking spaces" is a count, read by the quantity finder
        start, end = msg.words[mention.first].start, msg.words[mention.last].end
        if (
            _cue_before(msg, texts, mention.first, _REMOVALS, _REMOVAL_REACH, frozenset())
            is not None
        ):
            return Candidate(key=mention.key, op="remove", span=(start, end))
        if _post_cue(msg, texts, mention.last, _POST_REMOVALS) is not None:
            return Candidate(key=mention.key, op="remove", span=(start, end))
        if (
            mention.positive
            and _cue_before(msg, texts, mention.first, _NOT_NEEDED, _REMOVAL_REACH, frozenset())
            is not None
        ):
            return Candidate(key=mention.key, op="remove", span=(start, end))
        value = mention.positive
        negation = _cue_before(
            msg, texts, mention.first, _NEGATIONS, _NEGATION_REACH, _POSITIVE_BREAKS
        )
        post = _post_cue(msg, texts, mention.last, _POST_NEGATIONS)
        if negation is not None or post is not None:
            value = not value
            start = msg.words[negation].start if negation is not None else start
            end = msg.words[post].end if post is not None else end
        return Candidate(key=mention.key, value=Scalar(kind="bool", value=value), span=(start, end))

    def _removals(
        self, msg: Message, texts: Sequence[str], mentions: Sequence[_Mention]
    ) -> list[Candidate]:
        """Withdrawals of values other finders own ("forget the move-in date")."""
        taken = {i for m in mentions for i in range(m.first, m.last + 1)}
        out: list[Candidate] = []
        for pos in range(len(texts)):
            tokens = None if pos in taken else self._removable_cues.at(texts, pos)
            if tokens is None:
                continue
            if _cue_before(msg, texts, pos, _REMOVALS, _REMOVAL_REACH, frozenset()) is None:
                continue
            span = (msg.words[pos].start, msg.words[pos + len(tokens) - 1].end)
            out.append(Candidate(key=self._removable[tokens], op="remove", span=span))
        return out

    # ---- top priority --------------------------------------------------------------------

    def _priority(
        self, msg: Message, texts: Sequence[str], mentions: Sequence[_Mention]
    ) -> Candidate | None:
        for pos in range(len(texts)):
            cue = _PRIORITY_CUES.at(texts, pos)
            if cue is not None:
                return self._priority_at(msg, texts, mentions, pos, pos + len(cue) - 1)
        return None

    def _priority_at(
        self,
        msg: Message,
        texts: Sequence[str],
        mentions: Sequence[_Mention],
        first: int,
        last: int,
    ) -> Candidate | None:
        after = [m for m in mentions if last < m.first <= last + _PRIORITY_REACH]
        before = [m for m in mentions if first - _PRIORITY_REACH <= m.last < first]
        if after or before:
            mention = after[0] if after else before[-1]
            key, lo, hi = mention.key, min(first, mention.first), max(last, mention.last)
        else:
            word = next(
                (
                    i
                    for i in range(last + 1, min(len(texts), last + 1 + _PRIORITY_REACH))
                    if texts[i] in _PRIORITY_WORDS
                ),
                None,
            )
            if word is None:
                return None
            key, lo, hi = _PRIORITY_WORDS[texts[word]], first, word
        start = msg.words[lo].start
        if start > 0 and msg.text[start - 1] == "#":
            start -= 1  # keep "#1" whole so the quantity finder does not read the 1
        return Candidate(
            key="top_priority",
            value=Scalar(kind="text", value=key),
            span=(start, msg.words[hi].end),
        )

    # ---- move-in date --------------------------------------------------------------------

    def _move_in(self, msg: Message, texts: Sequence[str], ctx: ParseContext) -> Candidate | None:
        today = _today(ctx)
        if today is None:
            return None
        for pos in range(len(texts)):
            cue = _ASAP.at(texts, pos)
            if cue is not None:
                span = (msg.words[pos].start, msg.words[pos + len(cue) - 1].end)
                return _date_candidate(today.date(), span)
        for cues, weak in ((_STRONG_DATE_CUES, False), (_WEAK_DATE_CUES, True)):
            for pos in range(len(texts)):
                found = self._date_after_cue(msg, texts, pos, cues, weak, today)
                if found is not None:
                    return found
        return None

    def _date_after_cue(
        self,
        msg: Message,
        texts: Sequence[str],
        pos: int,
        cues: _Cues,
        weak: bool,
        today: dt.datetime,
    ) -> Candidate | None:
        cue = cues.at(texts, pos)
        if cue is None:
            return None
        words = _date_words(msg, texts, pos + len(cue))
        if not words:
            return None
        has_month = any(texts[i] in _MONTHS for i in words)
        anchored = has_month or any(
            texts[i] in _RELATIVE_UNITS or _is_year(texts[i]) for i in words
        )
        if not anchored or (weak and not has_month):
            return None
        phrase = " ".join(texts[i] for i in words)
        parsed = read_date(phrase, today.date(), days=False)
        if parsed is None:
            return None
        return _date_candidate(parsed, (msg.words[pos].start, msg.words[words[-1]].end))

    # ---- visit date ---------------------------------------------------------------------

    def _visit(self, msg: Message, texts: Sequence[str], ctx: ParseContext) -> Candidate | None:
        """The date of a visit.

        After a visit cue ("schedule a visit for the 8th", "see it on Monday"); opening the
        cue's sentence ("On March 6th I'd like to visit"); after a scheduling lead ("let's try
        next Friday", "make it the 9th") once a visit is being arranged — a visit cue earlier
        in the message, or a visit date already in the brief.
        """
        today = _today(ctx)
        if today is None:
            return None
        arranging = "visit_date" in ctx.known or "visit_date" in ctx.asked
        for pos in range(len(texts)):
            cue = _VISIT_CUES.at(texts, pos)
            lead = _SCHEDULING_LEADS.at(texts, pos) if cue is None else None
            if cue is None and (lead is None or not arranging):
                continue
            first = _date_start(msg, texts, pos + len(cue or lead or ()))
            if first is None and cue is not None:
                first = _opening_date(msg, texts, pos)
                arranging = True
            if first is None:
                continue
            words = _visit_words(msg, texts, first)
            parsed = read_date(" ".join(texts[i] for i in words), today.date())
            if parsed is not None:
                begin = min(pos, first)
                span = (msg.words[begin].start, msg.words[max(pos, words[-1])].end)
                return Candidate(
                    key="visit_date", value=Scalar(kind="date", value=parsed.isoformat()), span=span
                )
        return None


def _withdrawn(msg: Message, texts: Sequence[str], mention: _Mention) -> bool:
    before = _cue_before(msg, texts, mention.first, _REMOVALS, _REMOVAL_REACH, frozenset())
    return before is not None or _post_cue(msg, texts, mention.last, _POST_REMOVALS) is not None


def _gap_breaks(msg: Message, left: int, right: int) -> bool:
    """True when punctuation separates word ``left`` from word ``right`` (left < right)."""
    return bool(_CLAUSE_BREAK.search(msg.folded[msg.words[left].end : msg.words[right].start]))


def _cue_before(
    msg: Message,
    texts: Sequence[str],
    first: int,
    cues: _Cues,
    reach: int,
    breaks: frozenset[str],
) -> int | None:
    """Index of the word starting a cue in the ``reach`` words before ``first``.

    The search stops at punctuation (another clause) and at any word of ``breaks``.
    """
    for pos in range(first - 1, max(-1, first - reach - 1), -1):
        if _gap_breaks(msg, pos, pos + 1) or texts[pos] in breaks:
            return None
        cue = cues.at(texts, pos)
        if cue is not None and pos + len(cue) <= first:
            return pos
    return None


def _post_cue(msg: Message, texts: Sequence[str], last: int, cues: _Cues) -> int | None:
    """Index of the last word of a cue right after word ``last`` (same clause), if any."""
    start = last + 1
    if start >= len(texts) or _gap_breaks(msg, last, start):
        return None
    for skip in (0, 1):  # allow one word between ("pets are not allowed")
        pos = start + skip
        cue = cues.at(texts, pos)
        if cue is not None:
            return pos + len(cue) - 1
    return None


def _is_number(text: str) -> bool:
    return text.isdigit() or text in _NUMBER_WORDS


def _has_count(texts: Sequence[str], mention: _Mention) -> bool:
    """True when a number goes with the parking mention ("3 cajones", "parking for 10")."""
    first = mention.first
    if first >= 1 and _is_number(texts[first - 1]):
        return True
    if first >= 3 and texts[first - 1] in {"de", "of"} and texts[first - 2] in _COUNT_NOUNS:
        return _is_number(texts[first - 3])
    nxt = mention.last + 1
    if nxt + 1 < len(texts) and texts[nxt] in {"for", "para"}:
        return _is_number(texts[nxt + 1])
    return False


def _date_words(msg: Message, texts: Sequence[str], start: int) -> list[int]:
    """Indices of the date words following a cue (a few glue words may come first)."""
    words: list[int] = []
    pos = start
    skipped = 0
    while pos < len(texts) and len(words) < _DATE_MAX_WORDS:
        if pos > start and _gap_breaks(msg, pos - 1, pos) and texts[pos - 1] not in _MONTHS:
            break
        text = texts[pos]
        if _is_date_word(text):
            words.append(pos)
        elif not words and skipped < _DATE_SKIP_AFTER_CUE and text in {"to", "into", "a", "i"}:
            skipped += 1
        else:
            break
        pos += 1
    while words and texts[words[-1]] in _TRAILING_GLUE:
        words.pop()
    return words


def _is_date_word(text: str) -> bool:
    if text in _MONTHS or text in _RELATIVE_UNITS or text in _DATE_GLUE:
        return True
    if text.isascii() and text.isdigit():
        return len(text) <= 2 or _is_year(text)
    return bool(re.fullmatch(r"\d{1,2}(?:st|nd|rd|th|ro|o)", text))


def _is_year(text: str) -> bool:
    return len(text) == 4 and text.isascii() and text.isdigit() and 2000 <= int(text) <= 2100


def _today(ctx: ParseContext) -> dt.datetime | None:
    try:
        return dt.datetime.combine(dt.date.fromisoformat(ctx.today), dt.time())
    except ValueError:
        return None


def _date_candidate(date: dt.date, span: tuple[int, int]) -> Candidate:
    return Candidate(
        key="move_in_date", value=Scalar(kind="date", value=date.isoformat()), span=span
    )


# Withdrawing a fact also withdraws its detailed form: "forget the parking" drops the count.
_COMPANIONS = {"parking": "parking_spaces"}


def _companion_removals(found: list[Candidate]) -> list[Candidate]:
    keys = {c.key for c in found if c.op == "remove"}
    return [
        Candidate(key=_COMPANIONS[c.key], op="remove", span=c.span)
        for c in found
        if c.op == "remove" and c.key in _COMPANIONS and _COMPANIONS[c.key] not in keys
    ]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def writes_date(msg: Message, span: tuple[int, int], date: dt.date) -> bool:
    """Whether the words at ``span`` write ``date``'s day and month ("8th of March", 8/3).

    The month is a month name or another number equal to it ("2027-03-08"); the year may be
    left out.
    """
    texts = [msg.words[i].text for i in msg.within(span)]
    numbers = [(i, int(m.group(1))) for i, m in enumerate(map(ORDINAL.match, texts)) if m]
    days = {i for i, n in numbers if n == date.day}
    if not days:
        return False
    named = any(_MONTH_NUMBER.get(t) == date.month for t in texts)
    return named or any(n == date.month and {i} != days for i, n in numbers)


def _starts_date(text: str) -> bool:
    return (
        text in _MONTHS
        or text in _WEEKDAYS
        or text in _DAY_STARTS
        or (bool(ORDINAL.match(text)) and not text.isdigit())
    )


def _date_start(msg: Message, texts: Sequence[str], start: int) -> int | None:
    """The first word of a date within reach after a visit cue, in the same sentence."""
    for pos in range(start, min(len(texts), start + _VISIT_REACH)):
        if pos > 0 and breaks_sentence(msg, pos - 1, pos):
            return None
        text = texts[pos]
        if text == "day" and tuple(texts[pos + 1 : pos + 3]) == ("after", "tomorrow"):
            return pos
        if _starts_date(text):
            return pos
        if text in {"the", "el"} and pos + 1 < len(texts) and ORDINAL.match(texts[pos + 1]):
            return pos + 1
        if text == "next" and pos + 1 < len(texts) and texts[pos + 1] in _WEEKDAYS:
            return pos
    return None


def _opening_date(msg: Message, texts: Sequence[str], cue: int) -> int | None:
    """The first word of a date that opens the visit cue's sentence ("On March 6th I ...")."""
    start = cue
    while start > 0 and not breaks_sentence(msg, start - 1, start):
        start -= 1
    while start < cue and texts[start] in {"on", "for", "el", "the", "and", "y"}:
        start += 1
    if start >= cue:
        return None
    if _starts_date(texts[start]):
        return start
    if texts[start] == "next" and start + 1 < cue and texts[start + 1] in _WEEKDAYS:
        return start
    return None


def _visit_words(msg: Message, texts: Sequence[str], first: int) -> list[int]:
    words = [first]
    pos = first + 1
    while pos < len(texts) and len(words) < _DATE_MAX_WORDS:
        if _gap_breaks(msg, pos - 1, pos):
            break
        text = texts[pos]
        day_after = text == "after" and texts[pos - 1] == "day"  # "the day after tomorrow"
        if not (_is_date_word(text) or text in _WEEKDAYS or day_after) or text in {"in", "en"}:
            break
        words.append(pos)
        pos += 1
    while len(words) > 1 and texts[words[-1]] in _TRAILING_GLUE:
        words.pop()
    return words
