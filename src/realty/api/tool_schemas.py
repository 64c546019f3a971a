"""Bodies of the simulation and knowledge-base endpoints (``XCreate`` in, ``XPublic`` out).

Ranges are checked once, by the domain (:mod:`realty.domain.finance`); these models only
check shapes, so a value out of range gets the domain's own message in a 422 problem.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from realty.domain.brief import Language
from realty.domain.finance import (
    Amount,
    Fee,
    LeaseResult,
    Percent,
    PurchaseResult,
    RentMonths,
)

_IN = ConfigDict(extra="forbid", frozen=True)
Currency = Field(default="MXN", pattern=r"^[A-Z]{3}$", description="ISO 4217 code.")


class _Term(BaseModel):
    model_config = _IN

    term_years: int | None = Field(default=None, description="1–40; or give term_months.")
    term_months: int | None = Field(default=None, description="12–480; or give term_years.")

    def months(self, default: int | None = None) -> int | None:
        """The term in months (``default`` when neither is given)."""
        if self.term_months is not None:
            return self.term_months
        if self.term_years is not None:
            return self.term_years * 12
        return default

    @model_validator(mode="after")
    def _one_term(self) -> _Term:
        if self.term_years is not None and self.term_months is not None:
            raise ValueError("give term_years or term_months, not both")
        return self


class PurchaseSimulationCreate(_Term):
    """A purchase financed with a fixed-rate loan."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "price": 4_500_000,
                    "down_payment_percent": 20,
                    "term_years": 15,
                    "annual_rate": 11,
                    "currency": "MXN",
                    "language": "es",
                }
            ]
        },
    )

    price: float = Field(description="The property's price (> 0).")
    down_payment_percent: float | None = Field(
        default=None, description="Down payment as a percentage of the price (0–100)."
    )
    down_payment_amount: float | None = Field(
        default=None, description="Down payment as an amount (0–price); or give the percent."
    )
    annual_rate: float = Field(description="Nominal annual interest rate, percent (0–100).")
    currency: str = Currency
    language: Language = Field(default="en", description="Language of `text` and of errors.")

    @model_validator(mode="after")
    def _one_down_payment(self) -> PurchaseSimulationCreate:
        given = (self.down_payment_percent is not None) + (self.down_payment_amount is not None)
        if given != 1:
            raise ValueError("give exactly one of down_payment_percent and down_payment_amount")
        if self.months() is None:
            raise ValueError("give term_years or term_months")
        return self

    def down_payment(self) -> Percent | Amount:
        """The down payment as the domain takes it."""
        if self.down_payment_percent is not None:
            return Percent(self.down_payment_percent)
        return Amount(self.down_payment_amount or 0.0)


class PurchaseSimulationPublic(BaseModel):
    """A purchase simulation: amounts rounded to cents, in ``currency``."""

    currency: str
    price: float
    down_payment: float
    financed: float
    term_months: int
    annual_rate: float
    monthly_payment: float = Field(description="Principal and interest; no insurance or fees.")
    total_of_payments: float
    total_interest: float
    total_paid: float = Field(description="Down payment plus every monthly payment.")
    text: str = Field(description="The figures in words, in the requested language.")

    @classmethod
    def of(cls, result: PurchaseResult, text: str) -> PurchaseSimulationPublic:
        """The response for ``result``."""
        inputs = result.inputs
        return cls(
            currency=inputs.currency,
            price=inputs.price,
            down_payment=result.down_payment,
            financed=result.financed,
            term_months=inputs.term_months,
            annual_rate=inputs.annual_rate,
            monthly_payment=result.monthly_payment,
            total_of_payments=result.total_of_payments,
            total_interest=result.total_interest,
            total_paid=result.total_paid,
            text=text,
        )


class FeeCreate(BaseModel):
    """A fee as months of rent, a percentage of the first year's rent, or an amount."""

    model_config = _IN

    unit: Literal["months", "percent", "amount"]
    value: float

    def fee(self) -> Fee:
        """The fee as the domain takes it."""
        if self.unit == "months":
            return RentMonths(self.value)
        if self.unit == "percent":
            return Percent(self.value)
        return Amount(self.value)


class LeaseSimulationCreate(_Term):
    """The cost of a lease: what moving in takes and what each year costs."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={
            "examples": [
                {
                    "monthly_rent": 45_000,
                    "term_years": 3,
                    "deposit_months": 2,
                    "broker_fee": {"unit": "months", "value": 1},
                    "vat_percent": 16,
                    "annual_increase": 4.5,
                    "language": "es",
                }
            ]
        },
    )

    monthly_rent: float = Field(description="Rent per month before VAT (> 0).")
    deposit_months: float = Field(default=1, description="Security deposit, months (0–24).")
    advance_months: float = Field(default=1, description="Rent paid in advance, months (0–24).")
    broker_fee: FeeCreate | None = Field(default=None, description="Paid by the tenant, if any.")
    guarantee: FeeCreate | None = Field(
        default=None, description="Cost of a guarantee: póliza jurídica, bond, surety."
    )
    other_fees: float = Field(default=0, description="Other one-off costs at signing (≥ 0).")
    monthly_maintenance: float = Field(default=0, description="Maintenance/CAM per month (≥ 0).")
    vat_percent: float = Field(default=0, description="VAT on rent and maintenance (0–100).")
    annual_increase: float = Field(default=0, description="Yearly rent increase, percent.")
    currency: str = Currency
    language: Language = Field(default="en", description="Language of `text` and of errors.")


class CostItemPublic(BaseModel):
    """One line of the move-in cost."""

    key: Literal[
        "deposit", "advance_rent", "broker_fee", "guarantee", "other_fees", "maintenance", "vat"
    ]
    amount: float


class LeaseSimulationPublic(BaseModel):
    """A lease simulation: amounts rounded to cents, in ``currency``."""

    currency: str
    monthly_rent: float
    term_months: int
    move_in: list[CostItemPublic]
    move_in_cost: float
    yearly_costs: list[float] = Field(description="Each year of the term; fees in the first.")
    first_year_cost: float
    total_cost: float = Field(description="The whole term, without the refundable deposit.")
    refundable_deposit: float
    text: str = Field(description="The figures in words, in the requested language.")

    @classmethod
    def of(cls, result: LeaseResult, text: str) -> LeaseSimulationPublic:
        """The response for ``result``."""
        inputs = result.inputs
        return cls(
            currency=inputs.currency,
            monthly_rent=inputs.monthly_rent,
            term_months=inputs.term_months,
            move_in=[CostItemPublic(key=i.key, amount=i.amount) for i in result.move_in],
            move_in_cost=result.move_in_cost,
            yearly_costs=list(result.yearly_costs),
            first_year_cost=result.first_year_cost,
            total_cost=result.total_cost,
            refundable_deposit=result.refundable,
            text=text,
        )


class QuestionCreate(BaseModel):
    """A question for the knowledge base."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [{"question": "¿Qué es el plazo forzoso?"}]},
    )

    question: str = Field(min_length=1, max_length=1000)
    language: Language | None = Field(
        default=None, description="Guides and answer language; default: the question's."
    )


class SourcePublic(BaseModel):
    """A guide section an answer comes from."""

    doc: str
    title: str
    section: str
    score: float


class AnswerPublic(BaseModel):
    """An answer from the guides, or an honest "I don't know" (`confident: false`)."""

    answer: str = Field(description="Sentences of the best section, or the refusal.")
    sources: list[SourcePublic] = Field(description="Best first; empty when not confident.")
    confident: bool
    language: Language
