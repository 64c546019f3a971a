"""Staff endpoints (``X-API-Key``): leads handed to brokers and aggregate numbers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from realty.api.deps import ResourcesDep, require_staff
from realty.api.errors import ApiError, documented
from realty.api.schemas import LeadPage, LeadPublic, StatsPublic
from realty.store.base import LeadStatus, lead_cursor

router = APIRouter(prefix="/v1", tags=["staff"], dependencies=[Depends(require_staff)])

_STAFF = documented({401: "Missing or wrong X-API-Key.", 403: "REALTY_STAFF_API_KEY is not set."})


@router.get("/leads", response_model=LeadPage, summary="List leads", responses=_STAFF)
async def list_leads(
    resources: ResourcesDep,
    status: Annotated[LeadStatus | None, Query(description="Only leads in this status.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor")] = None,
) -> LeadPage:
    """Completed briefs, most recently updated first (`new`: shown, `confirmed`: approved)."""
    try:
        found = await resources.store.leads(status=status, limit=limit + 1, before=cursor)
    except ValueError as exc:
        raise ApiError(422, "invalid-cursor", "Invalid cursor", str(exc)) from exc
    page = found[:limit]
    next_cursor = lead_cursor(page[-1]) if len(found) > limit else None
    return LeadPage(items=[LeadPublic.of(lead) for lead in page], next_cursor=next_cursor)


@router.get("/stats", response_model=StatsPublic, summary="Statistics", responses=_STAFF)
async def stats(resources: ResourcesDep) -> StatsPublic:
    """Counts over live conversations, their turns and every lead."""
    numbers = await resources.store.stats(resources.service.now())
    return StatsPublic.model_validate(numbers.model_dump())
