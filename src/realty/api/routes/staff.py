"""Staff endpoints (``X-API-Key``): leads handed to brokers and aggregate numbers."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from realty.api.deps import ResourcesDep, require_staff
from realty.api.errors import ApiError, documented
from realty.api.schemas import LeadDetail, LeadPage, LeadPublic, StatsPublic
from realty.store.base import LeadFilter, LeadStatus, lead_cursor

router = APIRouter(prefix="/v1", tags=["staff"], dependencies=[Depends(require_staff)])

_STAFF = {401: "Missing or wrong X-API-Key.", 403: "REALTY_STAFF_API_KEY is not set."}
MAX_STATS_DAYS = 90


@router.get(
    "/leads",
    response_model=LeadPage,
    summary="List leads",
    responses=documented({**_STAFF, 422: "Invalid filter or cursor."}),
)
async def list_leads(
    resources: ResourcesDep,
    status: Annotated[LeadStatus | None, Query(description="Only leads in this status.")] = None,
    city: Annotated[
        str | None, Query(max_length=128, description="Only leads for this city (canonical name).")
    ] = None,
    property_type: Annotated[
        str | None, Query(max_length=16, description="Only leads for this property kind.")
    ] = None,
    created_from: Annotated[
        dt.date | None, Query(description="Created on or after this UTC date.")
    ] = None,
    created_to: Annotated[
        dt.date | None, Query(description="Created on or before this UTC date.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor")] = None,
) -> LeadPage:
    """Completed briefs, most recently updated first (`new`: shown, `confirmed`: approved).

    Every filter given must match; `next_cursor` pages on with the same filters.
    """
    if created_from and created_to and created_from > created_to:
        raise ApiError(
            422, "invalid-request", "Invalid request", "created_from is after created_to."
        )
    where = LeadFilter(
        status=status,
        city=city,
        property_type=property_type,
        created_from=created_from,
        created_to=created_to,
    )
    try:
        found = await resources.store.leads(where, limit=limit + 1, before=cursor)
    except ValueError as exc:
        raise ApiError(422, "invalid-cursor", "Invalid cursor", str(exc)) from exc
    page = found[:limit]
    next_cursor = lead_cursor(page[-1]) if len(found) > limit else None
    display = resources.service.display
    items = [LeadPublic.of(lead, display(lead.brief)) for lead in page]
    return LeadPage(items=items, next_cursor=next_cursor)


@router.get(
    "/leads/{lead_id}",
    response_model=LeadDetail,
    summary="Read a lead and its transcript",
    responses=documented({**_STAFF, 404: "No such lead."}),
)
async def read_lead(
    resources: ResourcesDep, lead_id: Annotated[str, Path(min_length=1, max_length=64)]
) -> LeadDetail:
    """A lead with its brief and the conversation's transcript."""
    found = await resources.store.lead(lead_id)
    if found is None:
        raise ApiError(404, "not-found", "Not found", "No lead with this id.")
    lead, transcript = found
    public = LeadPublic.of(lead, resources.service.display(lead.brief))
    return LeadDetail(**public.model_dump(), transcript=transcript)


@router.get(
    "/stats", response_model=StatsPublic, summary="Statistics", responses=documented(_STAFF)
)
async def stats(
    resources: ResourcesDep,
    days: Annotated[
        int, Query(ge=1, le=MAX_STATS_DAYS, description="Days of daily numbers, ending today.")
    ] = 14,
) -> StatsPublic:
    """Counts over live conversations, their turns and every lead, and daily numbers."""
    service = resources.service
    fields = tuple(spec.key for spec in service.registry.specs)
    numbers = await resources.store.stats(service.now(), days=days, fields=fields)
    return StatsPublic.model_validate(numbers.model_dump())
