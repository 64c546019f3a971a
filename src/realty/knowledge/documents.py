"""The guides shipped in ``realty/data/kb``, split into passages (one per section).

Each guide is a Markdown file named ``<slug>.<language>.md``: a ``# Title``, an optional
``>`` note (not indexed), and ``## Section`` headings whose paragraphs form one passage each.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable

from realty.domain.brief import LANGUAGES, Language
from realty.errors import ConfigurationError

_NAME = re.compile(r"^(?P<slug>[a-z0-9-]+)\.(?P<language>[a-z]{2})\.md$")


@dataclass(frozen=True, slots=True)
class Passage:
    """One section of a guide.

    Attributes:
        doc: The guide's slug (its file name without language and extension).
        language: The guide's language.
        title: The guide's title.
        section: The section's heading.
        text: The section's text, paragraphs joined by a blank line.
    """

    doc: str
    language: Language
    title: str
    section: str
    text: str


def parse_guide(name: str, text: str) -> list[Passage]:
    """The passages of one guide.

    Raises:
        ConfigurationError: The name or the layout does not follow the convention.
    """
    match = _NAME.match(name)
    if match is None or match["language"] not in LANGUAGES:
        raise ConfigurationError(f"knowledge guide {name!r}: expected <slug>.<es|en>.md")
    language: Language = "es" if match["language"] == "es" else "en"
    title: str | None = None
    passages: list[Passage] = []
    section: str | None = None
    lines: list[str] = []

    def close() -> None:
        body = "\n".join(lines).strip()
        if section is not None and title is not None and body:
            passages.append(Passage(match["slug"], language, title, section, body))

    for line in text.splitlines():
        if line.startswith("# "):
            title = line[2:].strip()
        elif line.startswith("## "):
            close()
            section, lines = line[3:].strip(), []
        elif section is not None:
            lines.append(line)
    close()
    if title is None or not passages:
        raise ConfigurationError(f"knowledge guide {name!r} needs a '# ' title and '## ' sections")
    return passages


def _files(folder: Traversable) -> Iterable[Traversable]:
    return sorted((f for f in folder.iterdir() if f.name.endswith(".md")), key=lambda f: f.name)


def packaged_passages() -> list[Passage]:
    """Every passage of every packaged guide, in file order."""
    folder = resources.files("realty.data").joinpath("kb")
    out: list[Passage] = []
    for file in _files(folder):
        out += parse_guide(file.name, file.read_text("utf-8"))
    return out
