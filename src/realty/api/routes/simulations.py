"""``/v1/simulations``: purchase financing and lease costs, computed, never stored."""

from __future__ import annotations

from fastapi import APIRouter

from realty.api.deps import ResourcesDep
from realty.api.errors import ApiError, FieldProblem, documented
from realty.api.tool_schemas import (
    LeaseSimulationCreate,
    LeaseSimulationPublic,
    PurchaseSimulationCreate,
    PurchaseSimulationPublic,
)
from realty.domain.brief import Language
from realty.domain.finance import (
    LeaseInputs,
    PurchaseInputs,
    SimulationInputError,
    simulate_lease,
    simulate_purchase,
)

router = APIRouter(prefix="/v1/simulations", tags=["simulations"])

_INVALID = {422: "A value out of its range, or a malformed body."}
DEFAULT_LEASE_MONTHS = 12


def _invalid(exc: SimulationInputError, language: Language) -> ApiError:
    errors = [
        FieldProblem(field=f"body.{p.field}", message=p.message(language)) for p in exc.problems
    ]
    return ApiError(
        422,
        "invalid-simulation",
        "Invalid simulation inputs",
        " ".join(e.message for e in errors),
        errors=errors,
    )


@router.post(
    "/purchase",
    response_model=PurchaseSimulationPublic,
    summary="Simulate a purchase with a loan",
    responses=documented(_INVALID),
)
async def simulate_purchase_route(
    body: PurchaseSimulationCreate, resources: ResourcesDep
) -> PurchaseSimulationPublic:
    """Monthly payment (standard amortisation), total paid, total interest and amount
    financed. Errors come in `language`."""
    try:
        inputs = PurchaseInputs(
            price=body.price,
            down_payment=body.down_payment(),
            term_months=body.months() or 0,
            annual_rate=body.annual_rate,
            currency=body.currency,
        )
    except SimulationInputError as exc:
        raise _invalid(exc, body.language) from exc
    result = simulate_purchase(inputs)
    text = resources.toolkit.simulation_replier.purchase(result, body.language)
    return PurchaseSimulationPublic.of(result, text)


@router.post(
    "/lease",
    response_model=LeaseSimulationPublic,
    summary="Simulate the cost of a lease",
    responses=documented(_INVALID),
)
async def simulate_lease_route(
    body: LeaseSimulationCreate, resources: ResourcesDep
) -> LeaseSimulationPublic:
    """Move-in cost line by line, cost of each year and of the whole term (12 months when no
    term is given). Errors come in `language`."""
    try:
        inputs = LeaseInputs(
            monthly_rent=body.monthly_rent,
            term_months=body.months(DEFAULT_LEASE_MONTHS) or DEFAULT_LEASE_MONTHS,
            deposit_months=body.deposit_months,
            advance_months=body.advance_months,
            broker_fee=body.broker_fee.fee() if body.broker_fee else None,
            guarantee=body.guarantee.fee() if body.guarantee else None,
            other_fees=body.other_fees,
            monthly_maintenance=body.monthly_maintenance,
            vat_percent=body.vat_percent,
            annual_increase=body.annual_increase,
            currency=body.currency,
        )
    except SimulationInputError as exc:
        raise _invalid(exc, body.language) from exc
    result = simulate_lease(inputs)
    text = resources.toolkit.simulation_replier.lease(result, body.language)
    return LeaseSimulationPublic.of(result, text)
