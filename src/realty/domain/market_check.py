"""Is the budget realistic? The brief against the local median price per m². Pure: no I/O.

The catalog gives, per city, type and offer, the median price per m² (per month for rent) in
the market's home currency (:class:`PriceBenchmark`). A budget below ``low_ratio`` or above
``high_ratio`` of median × size is flagged; an amount that reads as the other offer (a total
far above any monthly rent, or a "purchase" budget a rent would fit) gets a question.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from realty.domain.brief import PropertyKind
from realty.domain.listing import Offer
from realty.domain.matching import Policy, Want, log_ratio

_FROZEN = ConfigDict(frozen=True, extra="forbid")

Verdict = Literal["in_line", "low", "high"]
Note = Literal["no_budget", "no_size", "no_data"]

# Fewer listings than this make no median worth quoting.
MIN_SAMPLE = 5


class PriceBenchmark(BaseModel):
    """The median price per m² of one city, type and offer, in the home currency."""

    model_config = _FROZEN

    city: str
    country: str
    kind: PropertyKind
    offer: Offer
    median_m2: float = Field(gt=0)
    count: int = Field(ge=0)
    currency: str


class BudgetCheck(BaseModel):
    """The budget against median × size.

    ``implied_m2`` is the budget per m² and ``expected`` the median × size, both in
    ``currency`` (the home currency); ``ratio`` is budget / expected; ``rate`` is what one
    unit of ``budget_currency`` is worth in the home currency (the rate the budget was
    compared at), to quote the figures in the prospect's currency.
    """

    model_config = _FROZEN

    verdict: Verdict
    offer: Offer
    kind: PropertyKind
    city: str
    budget: float
    budget_currency: str
    size_m2: float
    implied_m2: float
    median_m2: float
    expected: float
    ratio: float
    count: int
    currency: str
    rate: float = Field(default=1.0, gt=0)


class OfferQuestion(BaseModel):
    """Ask whether an amount is a monthly rent or a purchase price.

    ``reason``: ``unsaid`` (the prospect said neither) or ``implausible`` (they said one,
    but the amount only makes sense as the other). ``likely`` is what the amount reads as
    (``None``: no data to tell). ``rent_expected``/``sale_expected`` are median × size in the
    home currency, when known; ``rate`` is what one unit of ``currency`` is worth in it (the
    rate the amount was compared at), to quote them in the prospect's currency.
    """

    model_config = _FROZEN

    reason: Literal["unsaid", "implausible"]
    amount: float
    currency: str
    likely: Offer | None = None
    said: Offer | None = None
    kind: PropertyKind
    city: str
    size_m2: float | None = None
    rent_expected: float | None = None
    sale_expected: float | None = None
    home_currency: str
    rate: float = Field(default=1.0, gt=0)


class MarketCheck(BaseModel):
    """What the market says about a brief: a budget check, a question, or why neither."""

    model_config = _FROZEN

    offer: Offer
    budget: BudgetCheck | None = None
    question: OfferQuestion | None = None
    note: Note | None = None


def _usable(benchmark: PriceBenchmark | None) -> PriceBenchmark | None:
    return benchmark if benchmark is not None and benchmark.count >= MIN_SAMPLE else None


def likely_offer(
    want: Want, rent: PriceBenchmark | None, sale: PriceBenchmark | None
) -> Offer | None:
    """Which offer the amount reads as: the one whose median × size it is nearest to (in
    ratio); ``None`` without a budget, a size, or both medians."""
    rent, sale = _usable(rent), _usable(sale)
    if want.budget_home is None or not want.size_m2 or rent is None or sale is None:
        return None
    by_rent = log_ratio(want.budget_home, rent.median_m2 * want.size_m2)
    by_sale = log_ratio(want.budget_home, sale.median_m2 * want.size_m2)
    return "sale" if by_sale < by_rent else "rent"


def offer_question(
    want: Want,
    rent: PriceBenchmark | None,
    sale: PriceBenchmark | None,
    policy: Policy,
    home_currency: str,
) -> OfferQuestion | None:
    """A question when the offer is unsaid, or said but implausible for the amount."""
    if want.budget is None or want.budget_currency is None:
        return None
    rent, sale = _usable(rent), _usable(sale)
    likely = likely_offer(want, rent, sale)
    size = want.size_m2
    question = {
        "amount": want.budget,
        "currency": want.budget_currency,
        "likely": likely,
        "kind": want.kind,
        "city": want.city.value,
        "size_m2": size,
        "rent_expected": rent.median_m2 * size if rent and size else None,
        "sale_expected": sale.median_m2 * size if sale and size else None,
        "home_currency": home_currency,
        "rate": want.budget_home / want.budget if want.budget_home and want.budget else 1.0,
    }
    if want.offer_source == "assumed":
        return OfferQuestion.model_validate({**question, "reason": "unsaid"})
    if likely is None or likely == want.offer or want.budget_home is None or not size:
        return None
    assert rent is not None
    assert sale is not None
    if want.offer == "rent":
        doubtful = want.budget_home >= policy.offer_doubt_ratio * rent.median_m2 * size
    else:
        doubtful = want.budget_home * policy.offer_doubt_ratio <= sale.median_m2 * size
    if not doubtful:
        return None
    return OfferQuestion.model_validate({**question, "reason": "implausible", "said": want.offer})


def check_budget(
    want: Want, benchmark: PriceBenchmark | None, policy: Policy
) -> BudgetCheck | Note:
    """The budget of ``want`` against ``benchmark`` (its offer's median), or why not."""
    if want.budget_home is None or want.budget is None or want.budget_currency is None:
        return "no_budget"
    if not want.size_m2:
        return "no_size"
    benchmark = _usable(benchmark)
    if benchmark is None:
        return "no_data"
    expected = benchmark.median_m2 * want.size_m2
    ratio = want.budget_home / expected
    verdict: Verdict = "in_line"
    if ratio < policy.low_ratio:
        verdict = "low"
    elif ratio > policy.high_ratio:
        verdict = "high"
    return BudgetCheck(
        verdict=verdict,
        offer=want.offer,
        kind=want.kind,
        city=want.city.value,
        budget=want.budget,
        budget_currency=want.budget_currency,
        size_m2=want.size_m2,
        implied_m2=want.budget_home / want.size_m2,
        median_m2=benchmark.median_m2,
        expected=expected,
        ratio=ratio,
        count=benchmark.count,
        currency=benchmark.currency,
        rate=want.budget_home / want.budget,
    )


def check_market(
    want: Want,
    rent: PriceBenchmark | None,
    sale: PriceBenchmark | None,
    policy: Policy,
    home_currency: str,
) -> MarketCheck:
    """The market check of ``want`` (whose offer is already decided) given both medians."""
    question = offer_question(want, rent, sale, policy, home_currency)
    checked = check_budget(want, rent if want.offer == "rent" else sale, policy)
    if isinstance(checked, BudgetCheck):
        return MarketCheck(offer=want.offer, budget=checked, question=question)
    return MarketCheck(offer=want.offer, question=question, note=checked)
