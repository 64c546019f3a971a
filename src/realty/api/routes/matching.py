"""``GET /v1/conversations/{id}/matches`` and ``GET /v1/listings/{id}``: the catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from realty.api.deps import AccessDep, ResourcesDep, ServiceDep
from realty.api.errors import ApiError, FieldProblem, documented
from realty.api.schemas import ListingPublic, MatchesPublic
from realty.domain.brief import Language
from realty.services.matching import MatchService

router = APIRouter(tags=["catalog"])

# What a brief needs before it can be matched (a preview); the rest narrows the search.
MATCH_NEEDS = ("property_type", "city")

ConversationId = Annotated[str, Path(min_length=1, max_length=64)]
ListingId = Annotated[str, Path(min_length=1, max_length=64)]


async def get_matching(resources: ResourcesDep) -> MatchService:
    """The match service the lifespan built."""
    if resources.matching is None:
        raise ApiError(503, "unavailable", "Service unavailable", "The catalog is not ready.")
    return resources.matching


MatchingDep = Annotated[MatchService, Depends(get_matching)]


@router.get(
    "/v1/conversations/{conversation_id}/matches",
    response_model=MatchesPublic,
    summary="Listings that fit the brief",
    responses=documented(
        {
            401: "No bearer token.",
            404: "Unknown id, expired, or wrong token.",
            409: "The brief has no property type or no city yet; nothing was searched.",
            503: "The database is unavailable; retry after Retry-After.",
        }
    ),
)
async def get_matches(
    conversation_id: ConversationId,
    access: AccessDep,
    service: ServiceDep,
    matching: MatchingDep,
    limit: Annotated[int, Query(ge=1, le=50, description="At most this many listings.")] = 10,
    relax: Annotated[
        bool, Query(description="When nothing fits, loosen one constraint at a time.")
    ] = True,
    language: Annotated[
        Language | None, Query(description="Words in this language; default: the conversation's.")
    ] = None,
) -> MatchesPublic:
    """The catalog's listings that fit the conversation's brief, best first, each with its
    reasons in words (a preview, ``complete: false``, while the brief has its type and city
    but still lacks a required field); the relaxations tried when nothing fits; and the
    market check of the budget (with a question when the amount reads as the other of rent
    and purchase)."""
    stored = await service.authorize(conversation_id, access)
    state = stored.state
    needed = [key for key in MATCH_NEEDS if state.brief.get(key) is None]
    if needed:
        raise ApiError(
            409,
            "brief-incomplete",
            "Brief not matchable yet",
            "Matches need at least the property type and the city; nothing was searched.",
            errors=[FieldProblem(field=key, message="still missing") for key in needed],
        )
    result = await matching.matches(state.brief, limit=limit, relax=relax, modality=state.modality)
    complete = not state.brief.missing(service.registry.required)
    return MatchesPublic.of(conversation_id, result, language or state.language, complete=complete)


@router.get(
    "/v1/listings/{listing_id}",
    response_model=ListingPublic,
    summary="One listing",
    responses=documented({404: "No listing with this id."}),
)
async def get_listing(listing_id: ListingId, matching: MatchingDep) -> ListingPublic:
    """One listing of the catalog (public: the catalog holds no personal data)."""
    listing = await matching.listing(listing_id)
    if listing is None:
        raise ApiError(404, "not-found", "Not found", "No listing with this id.")
    return ListingPublic.of(listing)
