"""``/v1/kb``: questions answered from the packaged guides (docs/knowledge.md)."""

from __future__ import annotations

from fastapi import APIRouter

from realty.api.deps import ResourcesDep
from realty.api.errors import documented
from realty.api.tool_schemas import AnswerPublic, QuestionCreate, SourcePublic

router = APIRouter(prefix="/v1/kb", tags=["knowledge"])


@router.post(
    "/ask",
    response_model=AnswerPublic,
    summary="Ask the knowledge base",
    responses=documented({422: "Malformed body or an empty or over-long question."}),
)
async def ask(body: QuestionCreate, resources: ResourcesDep) -> AnswerPublic:
    """The best guide section's most relevant sentences with their source, or, for a
    question the guides do not cover, "I don't know" and an offer to connect a broker."""
    found = resources.toolkit.knowledge.ask(body.question, body.language)
    return AnswerPublic(
        answer=found.answer,
        sources=[
            SourcePublic(doc=s.doc, title=s.title, section=s.section, score=s.score)
            for s in found.sources
        ],
        confident=found.confident,
        language=found.language,
    )
