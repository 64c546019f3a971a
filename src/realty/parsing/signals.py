"""Conversational signals, the message language and answers to a choice the bot offered.

Signals are what a message *does* rather than what it states: greeting, agreeing, refusing,
admitting it does not know yet, asking for help, correcting itself… They are found with
phrase tables (data below) matched on the folded words of the message, with a position rule
per phrase: short words such as "sí", "right" or "mejor" only count where they act as a
signal (at the start of the message or of a clause) and not inside an ordinary sentence.

Language detection wraps lingua, restricted to English and Spanish, and combines it with
stop-word votes because lingua alone is unreliable on the short messages of a chat.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from lingua import Language as LinguaLanguage
from lingua import LanguageDetectorBuilder

from realty.domain.brief import Language
from realty.domain.turn import ParseContext, Signal
from realty.parsing.text import Message

Span = tuple[int, int]

# Where a phrase must sit to count as a signal:
#   any     anywhere in the message
#   lead    at the start, only other signal phrases or filler words before it
#   clause  at the start of the message or of a clause (after , . ; : ! ?) or right after
#           other signal phrases ("no mejor…", but not "la mejor oficina")
#   punct   in lead position and followed by the end of the message or punctuation
#   alone   the message says nothing else (only fillers and other signal phrases)
Where = Literal["any", "lead", "clause", "punct", "alone"]

_PHRASES: dict[Signal, tuple[tuple[str, Where], ...]] = {
    "greeting": (
        ("hola", "lead"),
        # Chat spellings of "hola" ("ola", "holi", "holaa"), at the start only.
        ("ola", "lead"),
        ("holi", "lead"),
        ("holis", "lead"),
        ("holaa", "lead"),
        ("holaaa", "lead"),
        ("buenas", "lead"),
        ("buen dia", "lead"),
        ("buenos dias", "lead"),
        ("buenas tardes", "lead"),
        ("buenas noches", "lead"),
        ("que tal", "lead"),
        ("hi", "lead"),
        ("hello", "lead"),
        ("hey", "lead"),
        ("hi there", "lead"),
        ("good morning", "lead"),
        ("good afternoon", "lead"),
        ("good evening", "lead"),
    ),
    "affirm": (
        ("si", "punct"),
        ("claro", "lead"),
        ("claro que si", "any"),
        ("correcto", "lead"),
        ("exacto", "lead"),
        ("exactamente", "lead"),
        ("asi es", "lead"),
        ("esta bien", "lead"),
        ("ok", "lead"),
        ("okay", "lead"),
        ("vale", "punct"),
        ("perfecto", "lead"),
        ("de acuerdo", "lead"),
        ("todo bien", "lead"),
        ("yes", "lead"),
        ("yeah", "lead"),
        ("yep", "lead"),
        ("yup", "lead"),
        ("sure", "punct"),
        ("correct", "lead"),
        ("right", "punct"),
        ("that's right", "lead"),
        ("thats right", "lead"),
        ("that's correct", "lead"),
        ("sounds good", "lead"),
        ("looks good", "lead"),
        ("all good", "lead"),
        ("perfect", "lead"),
        ("exactly", "lead"),
        # Confirmations of a summary as people write them ("listo, así está bien", "dale",
        # "go ahead", "works for me").
        ("listo", "punct"),
        ("asi esta bien", "any"),
        ("asi esta perfecto", "any"),
        ("esta perfecto", "lead"),
        ("todo correcto", "lead"),
        ("todo esta bien", "lead"),
        ("todo en orden", "lead"),
        ("me parece bien", "lead"),
        ("dale", "punct"),
        ("andale", "lead"),
        ("sale", "alone"),
        ("va", "alone"),
        ("confirmo", "lead"),
        ("confirmado", "lead"),
        ("confirmed", "lead"),
        ("confirm", "alone"),
        ("i confirm", "lead"),
        ("go ahead", "lead"),
        ("that works", "lead"),
        ("works for me", "lead"),
        ("all set", "lead"),
        ("absolutely", "lead"),
        ("of course", "lead"),
        ("definitely", "lead"),
        ("that's fine", "lead"),
        ("thats fine", "lead"),
        ("looks right", "lead"),
        ("sounds right", "lead"),
        ("spot on", "lead"),
    ),
    "deny": (
        ("nope", "lead"),
        ("nel", "lead"),
        ("incorrecto", "any"),
        ("no es correcto", "any"),
        ("eso no es correcto", "any"),
        ("no es asi", "any"),
        ("esta mal", "lead"),
        ("that's wrong", "any"),
        ("thats wrong", "any"),
        ("that is wrong", "any"),
        ("that's not right", "any"),
        ("that is not right", "any"),
        ("not right", "lead"),
        ("wrong", "alone"),
        ("incorrect", "any"),
    ),
    "dont_know": (
        ("no se", "any"),
        ("no lo se", "any"),
        ("aun no se", "any"),
        ("aun no lo se", "any"),
        ("todavia no se", "any"),
        ("todavia no lo se", "any"),
        ("no se todavia", "any"),
        ("no se aun", "any"),
        ("no tengo idea", "any"),
        ("ni idea", "any"),
        ("no estoy seguro", "any"),
        ("no estoy segura", "any"),
        ("no lo tengo claro", "any"),
        ("no lo tengo definido", "any"),
        ("no tengo definido", "any"),
        ("no tengo presupuesto", "any"),
        ("no tengo un presupuesto", "any"),
        ("aun no tengo", "any"),
        ("todavia no tengo", "any"),
        ("no he decidido", "any"),
        ("no lo he decidido", "any"),
        ("no hemos decidido", "any"),
        ("aun no decido", "any"),
        ("todavia no decido", "any"),
        ("sin definir", "any"),
        ("por definir", "any"),
        ("quien sabe", "lead"),
        ("not sure", "any"),
        ("not sure yet", "any"),
        ("i'm not sure", "any"),
        ("don't know", "any"),
        ("dont know", "any"),
        ("don't know yet", "any"),
        ("do not know", "any"),
        ("idk", "any"),
        ("no idea", "any"),
        ("tbd", "any"),
        ("haven't decided", "any"),
        ("haven't figured", "any"),
        ("have no budget", "any"),
        ("don't have a budget", "any"),
        ("dont have a budget", "any"),
        ("no budget yet", "any"),
        ("not defined yet", "any"),
        ("have not decided", "any"),
        ("not decided", "any"),
        ("undecided", "any"),
        ("still deciding", "any"),
        # "the budget is flexible": no figure yet, for what it names or what was asked.
        ("flexible", "alone"),
        ("is flexible", "any"),
        ("are flexible", "any"),
        ("i'm flexible", "any"),
        ("we're flexible", "any"),
        ("flexible budget", "any"),
        ("open budget", "any"),
        ("es flexible", "any"),
        ("soy flexible", "any"),
        ("somos flexibles", "any"),
        ("presupuesto flexible", "any"),
        ("presupuesto abierto", "any"),
    ),
    "start_over": (
        ("start over", "any"),
        ("start again", "any"),
        ("restart", "any"),
        ("reset", "any"),
        ("begin again", "any"),
        ("start from scratch", "any"),
        ("clear everything", "any"),
        ("empezar de nuevo", "any"),
        ("empecemos de nuevo", "any"),
        ("volver a empezar", "any"),
        ("comenzar de nuevo", "any"),
        ("borrar todo", "any"),
        ("borra todo", "any"),
        ("reiniciar", "any"),
        ("desde cero", "any"),
    ),
    "thanks": (
        ("gracias", "any"),
        ("muchas gracias", "any"),
        ("mil gracias", "any"),
        ("te agradezco", "any"),
        ("se agradece", "any"),
        ("thanks", "any"),
        ("thank you", "any"),
        ("thank u", "any"),
        ("thx", "any"),
        ("ty", "alone"),
        ("appreciate it", "any"),
    ),
    "help": (
        ("help", "alone"),
        ("ayuda", "alone"),
        ("i need help", "any"),
        ("necesito ayuda", "any"),
        ("what can you do", "any"),
        ("what do you do", "any"),
        ("how does this work", "any"),
        ("how does it work", "any"),
        ("how do you work", "any"),
        ("que puedes hacer", "any"),
        ("que sabes hacer", "any"),
        ("que haces", "alone"),
        ("como funciona", "any"),
        ("como funciona esto", "any"),
        ("para que sirves", "any"),
    ),
    "correction": (
        ("actually", "any"),
        ("no wait", "any"),
        ("wait", "lead"),
        ("i mean", "any"),
        ("i meant", "any"),
        ("rather", "any"),
        ("make it", "any"),
        ("change", "clause"),
        ("change it", "any"),
        ("instead", "any"),
        ("scratch that", "any"),
        ("sorry", "clause"),
        ("correction", "any"),
        ("mejor", "clause"),
        ("en realidad", "any"),
        ("perdon", "any"),
        ("corrijo", "any"),
        ("cambia", "clause"),
        ("cambialo", "any"),
        ("cambiar", "clause"),
        ("mas bien", "any"),
        ("quise decir", "any"),
        ("me equivoque", "any"),
    ),
}

# "no sé" is "I don't know", but "no se puede" is "it cannot be": without the accent the
# phrase only counts before the end of the message, punctuation or one of these words.
_NO_SE_TAIL = frozenset(
    {"todavia", "aun", "bien", "exactamente", "la", "que", "cuanto", "cuantos", "cuando"}
    | {"donde", "cual", "cuales", "como", "si", "pero", "ni", "y", "tampoco"}
)

_QUESTION_WORDS = frozenset(
    {"what", "what's", "whats", "how", "when", "where", "why", "which", "who", "can", "could"}
    | {"do", "does", "is", "are", "would", "will", "should", "que", "como", "cuando", "donde"}
    | {"cuanto", "cuanta", "cuantos", "cuantas", "cual", "cuales", "quien", "puedes", "puede"}
    | {"pueden", "podrias", "hay", "tienen", "tienes"}
)

_STOP_ES = frozenset(
    {"de", "la", "que", "el", "en", "y", "los", "las", "del", "un", "una", "unos", "unas"}
    | {"para", "con", "por", "mi", "mis", "es", "son", "al", "lo", "le", "se", "su", "sus"}
    | {"pero", "como", "mas", "este", "esta", "esto", "eso", "ese", "esa", "yo", "tu"}
    | {"nos", "nosotros", "tengo", "tenemos", "estoy", "estamos", "soy", "somos", "hay"}
    | {"pues", "bueno", "tambien", "muy", "sin", "donde", "cuando", "porque", "ya", "aqui"}
    | {"o", "e", "u", "me", "te", "quisiera", "gustaria", "podria", "puedo", "podemos"}
)
_STOP_EN = frozenset(
    {"the", "i", "a", "an", "for", "in", "my", "is", "and", "of", "to", "with", "at", "on"}
    | {"we", "our", "you", "your", "it", "it's", "its", "this", "that", "are", "am", "be"}
    | {"i'm", "im", "i'd", "we're", "can", "could", "would", "will", "have", "has", "do"}
    | {"not", "but", "or", "so", "just", "also", "some", "about", "from", "near", "around"}
    | {"please", "there", "what", "how", "where", "which", "me", "us", "if", "any"}
)
# Words of the domain and the chat that vote for a language as well as stop words do.
_VOTE_ES = _STOP_ES | frozenset(
    {"busco", "buscamos", "buscando", "necesito", "necesitamos", "quiero", "queremos"}
    | {"requiero", "ocupo", "oficina", "oficinas", "bodega", "bodegas", "local", "terreno"}
    | {"renta", "rentar", "comprar", "compra", "venta", "presupuesto", "metros", "cuadrados"}
    # ("pesos" is no vote: English speakers in Mexico say it too, "20k pesos a month".)
    | {"ciudad", "zona", "hola", "gracias", "claro", "perfecto", "correcto", "ayuda"}
    | {"ola", "holi", "holis", "holaa", "holaaa"}
    | {"dolares", "mensual", "mensuales", "al mes", "casa", "departamento", "nave", "puedo"}
    | {"gastar", "pagar", "estacionamiento", "mascotas", "amueblado", "empezar", "nuevo"}
    | {"todavia", "aun", "se", "si", "buenos", "dias", "buenas", "tardes", "noches", "mes"}
)
_VOTE_EN = _STOP_EN | frozenset(
    {"need", "want", "looking", "look", "search", "searching", "find", "office", "offices"}
    | {"warehouse", "store", "shop", "land", "rent", "buy", "lease", "budget", "square"}
    | {"meters", "feet", "city", "area", "hello", "hi", "thanks", "thank", "yes", "yeah"}
    | {"sure", "help", "spend", "afford", "pay", "month", "monthly", "dollars", "house"}
    | {"apartment", "space", "parking", "pets", "furnished", "start", "over", "know", "yet"}
    | {"good", "morning", "right", "wrong", "don't", "dont", "idea", "total", "per"}
)

# Stop words and politeness words of both languages: they carry no fact, so a message made
# of facts plus these words is fully explained.
_FILLERS = (
    _STOP_ES
    | _STOP_EN
    | frozenset(
        {"hola", "hi", "hello", "hey", "gracias", "thanks", "thank", "you", "please", "pls"}
        | {"favor", "ok", "okay", "um", "uh", "eh", "ehm", "hmm", "mmm", "well", "oh", "ah"}
        | {"need", "needs", "want", "wants", "looking", "look", "search", "searching", "find"}
        | {"busco", "buscamos", "buscando", "necesito", "necesitamos", "quiero", "queremos"}
        | {"requiero", "ocupo", "ando", "like", "i'll", "we'll", "get", "got", "tener"}
        | {"buenos", "buenas", "dias", "tardes", "noches", "good", "morning", "afternoon"}
        | {"evening", "si", "yes", "no", "claro", "vale", "bien", "entonces", "then", "now"}
        | {"ahora", "around", "aprox", "approx", "approximately", "aproximadamente", "unos"}
        | {"something", "algo", "one", "uno", "algun", "alguna", "algunos", "would", "be"}
        | {"spend", "gastar", "pagar", "pay", "afford", "tengo", "have", "let's", "vamos"}
    )
)

# Real-estate vocabulary (folded word prefixes): a message with one of them is on topic.
_DOMAIN_STEMS = frozenset(
    {"ofic", "office", "despacho", "corporativ", "bodeg", "almacen", "warehous", "storage"}
    | {"nave", "industri", "fabric", "factor", "planta", "local", "tienda", "store", "shop"}
    | {"retail", "showroom", "plaza", "terren", "lote", "predio", "land", "lot", "plot"}
    | {"cowork", "consultori", "clinic", "medic", "hospital", "hotel", "uso", "mixed"}
    | {"depa", "apartment", "flat", "condo", "casa", "house", "home", "inmueble", "propiedad"}
    | {"property", "propert", "espacio", "space", "lugar", "place", "premises", "edifici"}
    | {"building", "rent", "renta", "alquil", "arrend", "lease", "compr", "buy", "purchas"}
    | {"vend", "venta", "sell", "sale", "presupuest", "budget", "precio", "price", "cost"}
    | {"dinero", "money", "peso", "dolar", "dollar", "usd", "mxn", "euro", "metro", "meter"}
    | {"cuesta", "costo", "pago", "payment", "mensualidad", "deposit", "deposito"}
    | {"metre", "m2", "sq", "square", "feet", "foot", "ft", "cuadrad", "superficie", "size"}
    | {"tamano", "ciudad", "city", "zona", "zone", "area", "colonia", "barrio", "neighbo"}
    | {"downtown", "centro", "estacionamiento", "parking", "cajon", "garage", "cochera"}
    | {"mascota", "pet", "amuebl", "furnish", "elevador", "elevator", "ascensor", "piso"}
    | {"floor", "seguridad", "security", "vigilancia", "mudar", "mudanza", "move", "moving"}
    | {"trifasic", "phase", "clima", "aire", "air", "recamara", "bedroom", "bano", "bath"}
    | {"inversion", "invest", "hipoteca", "mortgage", "credito", "contrato", "contract"}
    | {"visita", "visit", "cita", "tour", "disponib", "availab", "asesor", "broker", "agent"}
)
_STEM_SIZES = tuple(sorted({len(s) for s in _DOMAIN_STEMS}))

_ORDINALS: dict[str, int] = {
    "first": 0,
    "1st": 0,
    "primero": 0,
    "primera": 0,
    "primer": 0,
    "second": 1,
    "2nd": 1,
    "segundo": 1,
    "segunda": 1,
    "third": 2,
    "3rd": 2,
    "tercero": 2,
    "tercera": 2,
    "tercer": 2,
    "fourth": 3,
    "4th": 3,
    "cuarto": 3,
    "cuarta": 3,
    "fifth": 4,
    "5th": 4,
    "quinto": 4,
    "quinta": 4,
}
_LAST = frozenset({"last", "ultimo", "ultima"})
_CARDINALS: dict[str, int] = {
    "one": 0,
    "uno": 0,
    "una": 0,
    "two": 1,
    "dos": 1,
    "three": 2,
    "tres": 2,
    "four": 3,
    "cuatro": 3,
    "five": 4,
    "cinco": 4,
}
_OPTION_WORDS = frozenset({"option", "opcion", "number", "numero", "no", "num", "choice"})
# Words that may surround an ordinal answer without making it a different sentence.
_CHOICE_FILLERS = frozenset(
    {"the", "one", "el", "la", "lo", "de", "please", "por", "favor", "i", "prefer"}
    | {"prefiero", "choose", "pick", "take", "want", "quiero", "me", "quedo", "con", "let's"}
    | {"go", "with", "opcion", "option", "ok", "si", "yes", "la", "of", "them", "those"}
    | {"esa", "ese", "that", "mejor", "number", "numero", "no", "num", "choice"}
)
_MAX_CHOICE_WORDS = 7

_PUNCT = re.compile(r"[,.;:!?¿¡()\n]")
_VOWELS = frozenset("aeiouy")
_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_MAX_CONSONANT_RUN = 4
_GIBBERISH_MIN_ROW = 4


def _apos(text: str) -> str:
    return text.replace("’", "'")


def is_filler(word: str) -> bool:
    """True for stop words and politeness words of either language (``word`` is folded).

    >>> is_filler("por"), is_filler("oficina")
    (True, False)
    """
    return _apos(word) in _FILLERS


def _is_domain(word: str) -> bool:
    if any(ch.isdigit() for ch in word):
        return True
    return any(word[:size] in _DOMAIN_STEMS for size in _STEM_SIZES if size <= len(word))


def _letters(word: str) -> bool:
    return word.isalpha() or (word.replace("'", "").isalpha() and "'" in word)


def looks_off_topic(msg: Message, explained: frozenset[int] = frozenset()) -> bool:
    """True when the message has at least two real words and none is about real estate.

    Numbers count as on topic (they may be a budget or a size); the orchestrator makes the
    final call, since a city name alone also makes a message on topic.

    Args:
        msg: the message.
        explained: indices of words already explained (by signal phrases); not counted.
    """
    real = [
        _apos(w.text)
        for i, w in enumerate(msg.words)
        if i not in explained and not is_filler(w.text)
    ]
    if any(_is_domain(w) for w in real):
        return False
    return len([w for w in real if _letters(w)]) >= 2


def _on_keyboard_row(word: str) -> bool:
    return any(
        word[i : i + _GIBBERISH_MIN_ROW] in row
        for row in _KEYBOARD_ROWS
        for i in range(len(word) - _GIBBERISH_MIN_ROW + 1)
    )


def _implausible(word: str) -> bool:
    """A heuristic for keyboard mashing: no vowels, long consonant runs, 'q' without 'u'."""
    if len(word) >= 2 and not any(ch in _VOWELS for ch in word):
        return True
    run = 0
    for ch in word:
        run = 0 if ch in _VOWELS else run + 1
        if run > _MAX_CONSONANT_RUN:
            return True
    if re.search(r"q(?!u)", word):
        return True
    return _on_keyboard_row(word)


def known_word(word: str) -> bool:
    """True when ``word`` (folded) is in one of the chat vocabularies of this module."""
    word = _apos(word)
    return word in _FILLERS or word in _VOTE_ES or word in _VOTE_EN or word in _SIGNAL_WORDS


def looks_gibberish(msg: Message) -> bool:
    """True when the message has words and every one of them looks like keyboard mashing."""
    if not msg.words:
        return False
    for word in msg.words:
        text = _apos(word.text)
        if not text.isalpha() or known_word(text) or _is_domain(text):
            return False
        if msg.text[word.start : word.end].isupper():
            return False  # an abbreviation such as "CDMX" or "GDL"
        if not _implausible(text):
            return False
    return True


def vocabulary() -> frozenset[str]:
    """Every word this module knows (fillers, vote words, signal phrases), folded."""
    return _FILLERS | _VOTE_ES | _VOTE_EN | _SIGNAL_WORDS


_SIGNAL_WORDS = frozenset(
    word for table in _PHRASES.values() for phrase, _ in table for word in phrase.split()
)


def _word_texts(msg: Message) -> list[str]:
    return [_apos(w.text) for w in msg.words]


def _choice_from_ordinal(texts: Sequence[str], count: int) -> int | None:
    for pos, text in enumerate(texts):
        if text in _ORDINALS:
            return _ORDINALS[text]
        if text in _LAST:
            return count - 1
        previous = texts[pos - 1] if pos else ""
        if text.isascii() and text.isdigit() and (len(texts) == 1 or previous in _OPTION_WORDS):
            return int(text) - 1
        if text in _CARDINALS and previous in _OPTION_WORDS:
            return _CARDINALS[text]
    return None


def _fold_key(text: str) -> str:
    return " ".join(_word_texts(Message.of(text)))


def choice_index(msg: Message, options: Sequence[str]) -> int | None:
    """The 0-based option a short answer picks ("the second one", "la última", "2", a name).

    Args:
        msg: the user's message.
        options: the choices the bot offered last, in the order it listed them.

    Returns:
        The index into ``options`` or ``None`` when the message does not pick one.
    """
    if not options:
        return None
    texts = _word_texts(msg)
    if not texts or len(texts) > _MAX_CHOICE_WORDS:
        return None
    joined = f" {' '.join(texts)} "
    for index, option in enumerate(options):
        key = _fold_key(option)
        if key and f" {key} " in joined:
            return index
    content = [t for t in texts if t not in _CHOICE_FILLERS or t in _ORDINALS]
    if len(content) > 2:
        return None
    picked = _choice_from_ordinal(texts, len(options))
    if picked is None or not 0 <= picked < len(options):
        return None
    return picked


@dataclass(frozen=True, slots=True)
class SignalResult:
    """What the message does, its language and the option it picks, if any.

    Attributes:
        signals: the signals found.
        spans: character spans of the text the signals explain (for coverage).
        language: ``"en"``, ``"es"`` or ``None`` when the message gives no clue.
        language_confidence: 0..1; 0.8 or more only when the language is clear.
        choice: 0-based index into ``ParseContext.options`` when the message picks one.
    """

    signals: frozenset[Signal]
    spans: tuple[Span, ...]
    language: Language | None
    language_confidence: float
    choice: int | None
    unknown_about: frozenset[str] = frozenset()
    to_change: frozenset[str] = frozenset()


class LanguageDetector:
    """English/Spanish detection: lingua plus stop-word votes, tuned for short chat messages."""

    _MIN_WORDS_WITHOUT_VOTES = 3
    _NO_VOTE_CEILING = 0.75
    # Votes this one-sided settle the language without lingua (it costs ~0.2 ms a call).
    _DECISIVE_VOTES = 3
    # lingua reads this much of the text: enough to decide, bounded cost on long input.
    _MAX_CHARS = 400

    def __init__(self) -> None:
        """Build the lingua detector with preloaded models and warm it up (first call is slow)."""
        self._lingua = (
            LanguageDetectorBuilder.from_languages(LinguaLanguage.ENGLISH, LinguaLanguage.SPANISH)
            .with_preloaded_language_models()
            .build()
        )
        self._lingua.compute_language_confidence_values("I need an office in the city")
        self._lingua.compute_language_confidence_values("Necesito una oficina en la ciudad")

    def _lingua_guess(self, text: str) -> tuple[Language, float]:
        values = self._lingua.compute_language_confidence_values(text[: self._MAX_CHARS])
        if not values:
            return "en", 0.5
        top = values[0]
        return ("es" if top.language == LinguaLanguage.SPANISH else "en"), float(top.value)

    def detect(self, msg: Message) -> tuple[Language | None, float]:
        """The message language and a confidence in 0..1 (``None, 0.0`` when unclear).

        Messages made only of numbers, units, abbreviations or names ("500 m2", "CDMX",
        "ok") give no clue and return ``None``.
        """
        texts = [_apos(w.text) for w in msg.words if w.text.isalpha() or "'" in w.text]
        es_votes = sum(1 for t in texts if t in _VOTE_ES and t not in _VOTE_EN)
        en_votes = sum(1 for t in texts if t in _VOTE_EN and t not in _VOTE_ES)
        if es_votes == en_votes == 0 and len(texts) < self._MIN_WORDS_WITHOUT_VOTES:
            return None, 0.0
        margin = es_votes - en_votes
        if abs(margin) >= self._DECISIVE_VOTES and min(es_votes, en_votes) == 0:
            return ("es" if margin > 0 else "en"), round(min(0.99, 0.8 + 0.05 * abs(margin)), 3)
        guess, probability = self._lingua_guess(msg.text)
        if margin == 0:
            return guess, round(min(probability, self._NO_VOTE_CEILING), 3)
        language: Language = "es" if margin > 0 else "en"
        strength = abs(margin)
        if guess == language:
            confidence = min(0.99, 0.55 + 0.15 * strength + 0.3 * (probability - 0.5))
        else:
            confidence = min(0.75, 0.4 + 0.1 * strength)
        return language, round(max(confidence, 0.5), 3)


@dataclass(frozen=True, slots=True)
class _Hit:
    signal: Signal
    where: Where
    first: int
    last: int  # index of the last word (inclusive)


class SignalFinder:
    """Finds signals, the language and choice answers in one message."""

    _MAX_PHRASE = 5

    def __init__(self, detector: LanguageDetector) -> None:
        """Index the phrase tables by first word.

        Args:
            detector: the shared language detector.
        """
        self._detector = detector
        index: dict[str, list[tuple[tuple[str, ...], Signal, Where]]] = {}
        for signal, table in _PHRASES.items():
            for phrase, where in table:
                tokens = tuple(phrase.split())
                index.setdefault(tokens[0], []).append((tokens, signal, where))
        self._index = {
            first: tuple(sorted(entries, key=lambda e: -len(e[0])))
            for first, entries in index.items()
        }

    def find(self, msg: Message, ctx: ParseContext) -> SignalResult:
        """Everything this finder recognises in ``msg``.

        Args:
            msg: the user's message.
            ctx: what the conversation knows so far (only ``options`` is used here).

        Returns:
            The signals, the spans they explain, the language and the picked option.
        """
        hits = self._match(msg)
        signals, spans = self._apply_positions(msg, hits)
        if _is_question(msg):
            signals.add("question")
        explained = frozenset(i for h in hits for i in range(h.first, h.last + 1))
        if looks_gibberish(msg):
            signals.add("gibberish")
        elif looks_off_topic(msg, explained):
            signals.add("off_topic")
        language, confidence = self._detector.detect(msg)
        choice = choice_index(msg, ctx.options)
        if choice is not None:
            spans.append((msg.words[0].start, msg.words[-1].end))
        to_change: frozenset[str] = frozenset()
        if "dont_know" not in signals and _asks_a_change(msg, signals):
            to_change = named_fields(msg)
            if to_change and len(msg.words) <= _SHORT_REQUEST:
                # "the size is wrong": a request, fully explained
                spans.append((msg.words[0].start, msg.words[-1].end))
        return SignalResult(
            signals=frozenset(signals),
            spans=tuple(spans),
            language=language,
            language_confidence=confidence,
            choice=choice,
            unknown_about=named_fields(msg) if "dont_know" in signals else frozenset(),
            to_change=to_change,
        )

    def _match(self, msg: Message) -> list[_Hit]:
        """Greedy longest-first phrase matching over the words; phrases do not overlap."""
        texts = _word_texts(msg)
        hits: list[_Hit] = []
        pos = 0
        while pos < len(texts):
            hit = self._match_at(msg, texts, pos)
            if hit is None:
                pos += 1
                continue
            hits.append(hit)
            pos = hit.last + 1
        return hits

    def _match_at(self, msg: Message, texts: Sequence[str], pos: int) -> _Hit | None:
        for tokens, signal, where in self._index.get(texts[pos], ()):
            end = pos + len(tokens)
            if tuple(texts[pos:end]) != tokens:
                continue
            if tokens == ("no", "se") and not _no_se_means_dont_know(msg, texts, pos):
                continue
            return _Hit(signal, where, pos, end - 1)
        return None

    def _apply_positions(
        self, msg: Message, hits: Sequence[_Hit]
    ) -> tuple[set[Signal], list[Span]]:
        covered = {i for h in hits for i in range(h.first, h.last + 1)}
        rest_is_clean = all(i in covered or is_filler(w.text) for i, w in enumerate(msg.words))
        signals: set[Signal] = set()
        spans: list[Span] = []
        for hit in hits:
            if _position_ok(msg, hit, covered, rest_is_clean):
                signals.add(hit.signal)
                spans.append((msg.words[hit.first].start, msg.words[hit.last].end))
        self._leading_no(msg, covered, rest_is_clean, signals, spans)
        return signals, spans

    @staticmethod
    def _leading_no(
        msg: Message, covered: set[int], clean: bool, signals: set[Signal], spans: list[Span]
    ) -> None:
        """A leading "no" is a refusal when nothing else is said, otherwise a correction."""
        words = msg.words
        if not words or words[0].text != "no" or 0 in covered:
            return
        rest = [w for i, w in enumerate(words[1:], 1) if i not in covered]
        if clean or all(w.text == "no" for w in rest):
            signals.add("deny")
        else:
            signals.add("correction")
        spans.append((words[0].start, words[0].end))


# Words naming a required field, for a "don't know" that says which ("no sé el presupuesto",
# "not sure about the size yet"), folded.
_FIELD_WORDS: dict[str, frozenset[tuple[str, ...]]] = {
    "budget": frozenset(
        tuple(p.split())
        for p in (
            "budget", "presupuesto", "price", "precio", "how much", "cuanto", "cuanta",
            "rent", "renta", "money", "dinero", "pay", "pagar", "spend", "gastar",
        )
    ),
    "size": frozenset(
        tuple(p.split())
        for p in (
            "size", "tamano", "superficie", "area", "metros", "meters", "metres", "m2",
            "square", "sq", "space", "espacio", "how big", "how much space", "cuanto espacio",
        )
    ),
    "city": frozenset(
        tuple(p.split())
        for p in ("city", "ciudad", "where", "donde", "location", "ubicacion", "zona")
    ),
    "property_type": frozenset(
        tuple(p.split()) for p in ("type", "tipo", "kind", "what property", "que inmueble")
    ),
}  # fmt: skip
_FIELD_WORDS_LONGEST = max(len(p) for ps in _FIELD_WORDS.values() for p in ps)


# Words saying a value is wrong or to be changed ("the size is wrong", "quiero cambiar la
# ciudad"), folded.
_CHANGE_WORDS = frozenset(
    {"wrong", "incorrect", "change", "modify", "fix", "update", "edit"}
    | {"mal", "incorrecto", "incorrecta", "equivocado", "equivocada", "erroneo", "erronea"}
    | {"cambiar", "cambia", "cambialo", "cambiala", "cambien", "modificar", "modifica"}
    | {"corregir", "corrige", "corrijo", "actualizar", "actualiza", "editar", "edita"}
)
_NOT_RIGHT = (("not", "right"), ("isn't", "right"), ("no", "es", "correcto"))
_NOT_BAD = (("no", "esta", "mal"), ("nada", "mal"), ("not", "wrong"))  # praise, not a change
# Words of a change request short enough to be nothing else ("quiero cambiar la ciudad").
_SHORT_REQUEST = 6


def _asks_a_change(msg: Message, signals: set[Signal]) -> bool:
    """Whether the message says something is wrong or asks to change it."""
    texts = [_apos(w.text) for w in msg.words]

    def said(phrases: Sequence[tuple[str, ...]]) -> bool:
        return any(tuple(texts[i : i + len(p)]) == p for p in phrases for i in range(len(texts)))

    if said(_NOT_BAD):
        return False
    if signals & {"deny", "correction"}:
        return True
    return any(t in _CHANGE_WORDS for t in texts) or said(_NOT_RIGHT)


def named_fields(msg: Message) -> frozenset[str]:
    """The required fields the message names (a "how much space" names the size only)."""
    texts = [w.text for w in msg.words]
    found: set[str] = set()
    pos = 0
    while pos < len(texts):
        for n in range(min(_FIELD_WORDS_LONGEST, len(texts) - pos), 0, -1):
            phrase = tuple(texts[pos : pos + n])
            keys = {key for key, phrases in _FIELD_WORDS.items() if phrase in phrases}
            if keys:
                found |= keys
                pos += n
                break
        else:
            pos += 1
    return frozenset(found)


def _no_se_means_dont_know(msg: Message, texts: Sequence[str], pos: int) -> bool:
    se_word = msg.words[pos + 1]
    if msg.text[se_word.start : se_word.end].lower() == "sé":
        return True
    if pos + 2 >= len(texts):
        return True
    gap = msg.folded[se_word.end : msg.words[pos + 2].start]
    return bool(_PUNCT.search(gap)) or texts[pos + 2] in _NO_SE_TAIL


def _gap_before(msg: Message, index: int) -> str:
    start = msg.words[index - 1].end if index else 0
    return msg.folded[start : msg.words[index].start]


def _in_lead(msg: Message, first: int, covered: set[int]) -> bool:
    return all(i in covered or is_filler(msg.words[i].text) for i in range(first))


def _followed_by_break(msg: Message, last: int, covered: set[int]) -> bool:
    if last + 1 >= len(msg.words):
        return True
    if last + 1 in covered:
        return True
    gap = msg.folded[msg.words[last].end : msg.words[last + 1].start]
    return bool(_PUNCT.search(gap))


def _position_ok(msg: Message, hit: _Hit, covered: set[int], clean: bool) -> bool:
    if hit.where == "any":
        return True
    if hit.where == "alone":
        return clean
    lead = _in_lead(msg, hit.first, covered)
    if hit.where == "lead":
        return lead
    if hit.where == "punct":
        return lead and _followed_by_break(msg, hit.last, covered)
    # clause: first word, after punctuation, or after other signal phrases only
    if hit.first == 0 or _PUNCT.search(_gap_before(msg, hit.first)):
        return True
    return all(i in covered for i in range(hit.first))


def _is_question(msg: Message) -> bool:
    stripped = msg.text.strip()
    if stripped.endswith("?") or stripped.startswith("¿"):
        return True
    return bool(msg.words) and _apos(msg.words[0].text) in _QUESTION_WORDS
