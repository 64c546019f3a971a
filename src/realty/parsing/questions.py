"""Questions about a property: the words of "is it furnished?" state no requirement.

A clause that opens with an auxiliary ("Is it…", "Does it have…", "¿Está…"), an indirect
question ("tell me if it has a garage") or a short sentence ending in "?" that requests nothing
asks about a listing; the extras it names are left unread. Requests worded as questions ("do you
have offices with parking?", "anything with a garage?") are not questions about a property.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from realty.parsing.text import Message

# A clause that opens with one of these asks about a property ("Is it furnished?", "Does it
# have a garage?"): the extras it names are questions, not requirements. "Can you …" and
# "Do you have …" are requests, so a following "you" keeps the facts.
_QUESTION_OPENERS = frozenset(
    {"is", "are", "does", "do", "did", "has", "have", "will", "would", "can", "could", "esta"}
    | {"estan", "isnt", "arent", "doesnt"}
)
_REQUEST_AFTER_OPENER = frozenset({"you", "u", "ya"})
# Words that may precede the opener in its clause ("yes, also is there a garage?").
_LEAD_INS = frozenset(
    {"yes", "yeah", "yep", "ok", "okay", "and", "also", "so", "hmm", "well", "but", "then"}
    | {"oh", "absolutely", "great", "perfect", "sure", "please", "and", "nice", "cool", "y"}
)
# "tell me if it has a garage", "check whether they have laundry": an indirect question.
_ASK_VERBS = frozenset(
    {"know", "tell", "confirm", "check", "ask", "wondering", "wonder", "whether", "find"}
    | {"saber", "confirmar", "preguntar", "checar", "revisar"}
)
_ASK_LINKS = frozenset({"if", "whether", "about", "si"})
# "…, and does it have a garage?": an opener after "and" starts a question when a subject
# follows it (unlike "a place that has parking and is furnished").
_QUESTION_JOINS = frozenset({"and", "also", "but", "plus"})
_QUESTION_SUBJECTS = frozenset(
    {"it", "they", "there", "the", "this", "that", "these", "those", "pets", "its", "he", "she"}
)
# "Is there an office with parking?" searches listings; "Is there a garage?" asks about one.
_SEARCH_WORDS = frozenset(
    {
        "anything",
        "something",
        "office",
        "offices",
        "warehouse",
        "warehouses",
        "apartment",
        "apartments",
        "place",
        "places",
    }
    | {"home", "homes", "house", "houses", "property", "properties", "space", "spaces"}
    | {"unit", "units", "listing", "listings", "building", "buildings", "store", "stores"}
)
_ARTICLES = frozenset({"a", "an", "any", "some", "other", "another", "more"})
# A sentence ending in "?" with none of these words asks about the property ("A garage?",
# "The apartment is furnished?"); with them it is a request ("Anything with a garage?",
# "¿con estacionamiento?").
_REQUEST_WORDS = frozenset(
    {"i", "we", "me", "my", "us", "our", "you", "any", "anything", "something", "other"}
    | {"another", "more", "else", "some", "need", "want", "find", "show", "look", "looking"}
    | {"busco", "buscamos", "necesito", "necesitamos", "quiero", "queremos", "quisiera", "me"}
    | {"mi", "nos", "yo", "algo", "alguna", "alguno", "algun", "otra", "otro", "otras", "otros"}
    | {"tienen", "hay", "puedes", "puede", "pueden", "buscar", "encontrar", "with", "con"}
)
# "What about parking?", "how about a terrace?": a suggestion, not a question about a property.
_SUGGESTIONS = (("what", "about"), ("how", "about"), ("que", "tal"))
_SENTENCE_BREAK = re.compile(r"[.;:!?\n¿¡]")


def asked_about(msg: Message, span: tuple[int, int]) -> bool:
    """Whether the words at ``span`` sit in a question about a property ("is it furnished?").

    Such a question asks about a listing; it states no requirement. A request for listings
    worded as a question ("do you have offices with parking?") is not one. At least half of
    the words must sit in the question.
    """
    inside = msg.within(span)
    if not inside:
        return False
    asked = question_words(msg, [w.text.replace("’", "'") for w in msg.words])
    # Most of the words, so a lead-in ("Two questions: is there a garage?") does not count.
    return 2 * sum(i in asked for i in inside) >= len(inside)


def question_words(msg: Message, texts: Sequence[str]) -> frozenset[int]:
    """Indices of the words that sit in a question about the property."""
    asked: set[int] = set()
    clause: list[int] = []
    for pos in range(len(texts) + 1):
        if pos == len(texts) or (clause and _breaks_question(msg, texts, pos)):
            if _is_question(texts, clause) or _bare_question(msg, texts, clause):
                asked.update(clause)
            clause = []
        if pos < len(texts):
            clause.append(pos)
    return frozenset(asked)


def _breaks_question(msg: Message, texts: Sequence[str], pos: int) -> bool:
    """Whether a new clause (possibly a question) starts at word ``pos``."""
    if breaks_sentence(msg, pos - 1, pos):
        return True
    return (
        texts[pos - 1] in _QUESTION_JOINS
        and texts[pos] in _QUESTION_OPENERS
        and pos + 1 < len(texts)
        and texts[pos + 1] in _QUESTION_SUBJECTS
    )


def _bare_question(msg: Message, texts: Sequence[str], clause: Sequence[int]) -> bool:
    """A short sentence ending in "?" that names no one and requests nothing."""
    if not clause:
        return False
    end = msg.words[clause[-1]].end
    if not msg.folded[end : end + 3].lstrip(" ").startswith("?"):
        return False
    words = [texts[i].replace("'", "") for i in clause]
    if any(w in _REQUEST_WORDS for w in words):
        return False
    lead = 1 if words[0] in ("and", "y") else 0
    if tuple(words[lead : lead + 2]) in _SUGGESTIONS:
        return False
    return not any(w in _ARTICLES and _searches(words[i:]) for i, w in enumerate(words))


def _searches(words: Sequence[str]) -> bool:
    """Whether the words after "is there" name listings ("an office", "any apartments")."""
    pos = 0
    while pos < len(words) and words[pos] in _ARTICLES:
        if words[pos] in _REQUEST_WORDS:
            return True  # "any", "other", "another", "some"
        pos += 1
    return pos < len(words) and words[pos] in _SEARCH_WORDS


def breaks_sentence(msg: Message, left: int, right: int) -> bool:
    """Punctuation ends a sentence; a comma does when a question opens after it."""
    gap = msg.folded[msg.words[left].end : msg.words[right].start]
    if _SENTENCE_BREAK.search(gap):
        return True
    return "," in gap and msg.words[right].text in _QUESTION_OPENERS


def _is_question(texts: Sequence[str], clause: Sequence[int]) -> bool:
    words = [texts[i].replace("'", "") for i in clause]
    lead = 0
    while lead < len(words) and words[lead] in _LEAD_INS:
        lead += 1
    if lead < len(words) and words[lead] in _QUESTION_OPENERS:
        nxt = words[lead + 1] if lead + 1 < len(words) else ""
        searching = nxt == "there" and _searches(words[lead + 2 :])
        if nxt not in _REQUEST_AFTER_OPENER and not searching:
            return True
    return any(
        w in _ASK_LINKS and any(v in _ASK_VERBS for v in words[max(0, i - 6) : i])
        for i, w in enumerate(words)
    ) or (bool(words) and words[0] == "whether")


# A sentence written as a question: "¿…?" (the closing mark optional), or the words before
# a "?" back to the previous sentence's end or a colon ("…but first: what documents…?").
_ASKED_SENTENCE = re.compile(r"¿[^?¿]*\??|[^.!?¿:\n]*\?")


def asked_sentences(text: str) -> list[tuple[int, int]]:
    """The spans of the sentences of ``text`` marked as questions ("?", "¿"), stripped."""
    spans: list[tuple[int, int]] = []
    for match in _ASKED_SENTENCE.finditer(text):
        start, end = match.span()
        while start < end and text[start] in " \t,;:":
            start += 1
        if end - start >= 2:
            spans.append((start, end))
    return spans


# "…, and what's the typical price per m2?", "… y cuánto cuestan?", "I need an office in
# Mexico City, what documents do I need?": a question joined to what comes before it.
_JOINED_QUESTION = re.compile(
    r"(?:,\s*|,?\s+(?:and|y|also|plus|además|ademas)\s+)(?=(?:what|what's|whats|how|which|is|"
    r"are|do|does|can|could|qu[eé]|cu[aá]nt[oa]s?|c[oó]mo|cu[aá]l(?:es)?|d[oó]nde|hay|tienen)\b)",
    re.IGNORECASE,
)


def asked_clauses(text: str) -> list[str]:
    """The questions of ``text``: each asked sentence, split where a question is joined to what
    comes before it, after a comma or "and" / "y" ("do you have warehouses in Monterrey, and
    what's the typical price?" asks two; "I need an office in Mexico City, what documents do
    I need?" states a need, then asks)."""
    return [
        clause.strip()
        for start, end in asked_sentences(text)
        for clause in _JOINED_QUESTION.split(text[start:end])
        if clause.strip()
    ]
