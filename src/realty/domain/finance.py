"""Financing and lease-cost arithmetic: pure functions over validated, typed inputs.

A purchase is simulated with the standard (French) amortisation: a fixed monthly payment

    M = P · r / (1 − (1 + r)^−n)

for an amount financed ``P``, a monthly rate ``r`` (the annual rate / 12) and ``n`` monthly
payments; at 0 % it is simply ``P / n``. A lease adds up what is paid at signing (deposit,
rent in advance, fees) and what is paid each year (rent, maintenance, VAT, with an optional
yearly increase such as Mexico's INPC adjustment).

Inputs are checked when they are built: every broken range is reported at once in a
:class:`SimulationInputError` whose problems carry a message in Spanish and in English.
No I/O happens here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from realty.domain.brief import Language
from realty.errors import InputError

MIN_TERM_MONTHS = 12
MAX_TERM_MONTHS = 480
MAX_DEPOSIT_MONTHS = 24.0
MAX_FEE_MONTHS = 24.0
DEFAULT_CURRENCY = "MXN"

ProblemCode = Literal["not_positive", "negative", "out_of_range", "exceeds_price"]


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One invalid input: which one, why, and a message for the prospect in both languages."""

    field: str
    code: ProblemCode
    es: str
    en: str

    def message(self, language: Language) -> str:
        """The message in ``language``."""
        return self.es if language == "es" else self.en


class SimulationInputError(InputError):
    """Inputs outside their ranges; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[InputProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{p.field}: {p.en}" for p in self.problems))

    def messages(self, language: Language) -> list[str]:
        """Every problem's message in ``language``."""
        return [p.message(language) for p in self.problems]


# ---- amounts that are given relative to something else ----


@dataclass(frozen=True, slots=True)
class Percent:
    """A percentage, 0–100 (of the price for a down payment, of the first year's rent for a
    fee)."""

    value: float


@dataclass(frozen=True, slots=True)
class Amount:
    """A fixed amount of money in the simulation's currency."""

    value: float


@dataclass(frozen=True, slots=True)
class RentMonths:
    """A number of months of rent ("one month of rent as commission")."""

    value: float


DownPayment = Percent | Amount
Fee = Percent | Amount | RentMonths


class _Checks:
    """Collects problems so that every broken input is reported in one error."""

    def __init__(self) -> None:
        self.problems: list[InputProblem] = []

    def positive(self, name: str, value: float, es: str, en: str) -> None:
        if not (value > 0 and math.isfinite(value)):
            self.problems.append(
                InputProblem(
                    name,
                    "not_positive",
                    f"{es} debe ser mayor que cero.",
                    f"The {en} must be greater than zero.",
                )
            )

    def between(self, name: str, value: float, low: float, high: float, es: str, en: str) -> None:
        if not low <= value <= high:
            self.problems.append(
                InputProblem(
                    name,
                    "out_of_range",
                    f"{es} debe estar entre {_plain(low)} y {_plain(high)}.",
                    f"The {en} must be between {_plain(low)} and {_plain(high)}.",
                )
            )

    def term(self, months: int) -> None:
        if not MIN_TERM_MONTHS <= months <= MAX_TERM_MONTHS:
            self.problems.append(
                InputProblem(
                    "term_months",
                    "out_of_range",
                    "El plazo debe ser de 1 a 40 años (12 a 480 meses).",
                    "The term must be 1 to 40 years (12 to 480 months).",
                )
            )

    def fee(self, name: str, fee: Fee | None, es: str, en: str) -> None:
        if fee is None:
            return
        if isinstance(fee, Percent):
            self.between(name, fee.value, 0, 100, f"{es} (porcentaje)", f"{en} percentage")
        elif isinstance(fee, RentMonths):
            self.between(name, fee.value, 0, MAX_FEE_MONTHS, f"{es} (meses)", f"{en} in months")
        elif not (fee.value >= 0 and math.isfinite(fee.value)):
            self.problems.append(
                InputProblem(
                    name,
                    "negative",
                    f"{es} no puede ser negativo.",
                    f"The {en} cannot be negative.",
                )
            )

    def raise_if_any(self) -> None:
        if self.problems:
            raise SimulationInputError(self.problems)


def _plain(value: float) -> str:
    return f"{value:g}"


def _cents(value: float) -> float:
    return round(value + 0.0, 2)


# ---- purchase ----


@dataclass(frozen=True, slots=True)
class PurchaseInputs:
    """What a purchase simulation needs.

    Attributes:
        price: The property's price (> 0).
        down_payment: A :class:`Percent` of the price (0–100) or an :class:`Amount` (0–price).
        term_months: Number of monthly payments, 12–480 (1–40 years).
        annual_rate: Nominal annual interest rate in percent, 0–100.
        currency: ISO code of every amount.

    Raises:
        SimulationInputError: Any input out of its range (all of them are listed).
    """

    price: float
    down_payment: DownPayment
    term_months: int
    annual_rate: float
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        checks = _Checks()
        checks.positive("price", self.price, "El precio", "price")
        if isinstance(self.down_payment, Percent):
            checks.between(
                "down_payment", self.down_payment.value, 0, 100, "El enganche (%)", "down payment %"
            )
        elif not (self.down_payment.value >= 0 and math.isfinite(self.down_payment.value)):
            checks.problems.append(
                InputProblem(
                    "down_payment",
                    "negative",
                    "El enganche no puede ser negativo.",
                    "The down payment cannot be negative.",
                )
            )
        elif self.price > 0 and self.down_payment.value > self.price:
            checks.problems.append(
                InputProblem(
                    "down_payment",
                    "exceeds_price",
                    "El enganche no puede ser mayor que el precio.",
                    "The down payment cannot exceed the price.",
                )
            )
        checks.term(self.term_months)
        checks.between(
            "annual_rate", self.annual_rate, 0, 100, "La tasa anual (%)", "annual rate (%)"
        )
        checks.raise_if_any()

    @property
    def down_payment_amount(self) -> float:
        """The down payment in money."""
        if isinstance(self.down_payment, Percent):
            return self.price * self.down_payment.value / 100
        return self.down_payment.value


@dataclass(frozen=True, slots=True)
class PurchaseResult:
    """A purchase simulation, every amount rounded to cents.

    Attributes:
        inputs: What was simulated.
        down_payment: The down payment in money.
        financed: The amount borrowed (price − down payment).
        monthly_payment: The fixed monthly payment (principal and interest; no insurance,
            fees or taxes).
        total_of_payments: ``monthly_payment × term_months``.
        total_interest: ``total_of_payments − financed``.
        total_paid: ``down_payment + total_of_payments``.
    """

    inputs: PurchaseInputs
    down_payment: float
    financed: float
    monthly_payment: float
    total_of_payments: float
    total_interest: float
    total_paid: float


def monthly_payment(principal: float, annual_rate: float, months: int) -> float:
    """The fixed payment that repays ``principal`` in ``months`` at ``annual_rate`` percent.

    Unrounded; ``annual_rate`` 0 gives ``principal / months``.

    >>> round(monthly_payment(100_000, 12, 12), 2)
    8884.88
    """
    if months <= 0:
        raise ValueError("months must be positive")
    if principal == 0:
        return 0.0
    rate = annual_rate / 100 / 12
    if rate == 0:
        return principal / months
    return principal * rate / (1 - (1 + rate) ** -months)


def simulate_purchase(inputs: PurchaseInputs) -> PurchaseResult:
    """Monthly payment, totals and interest of a purchase financed with a fixed-rate loan."""
    down = inputs.down_payment_amount
    financed = inputs.price - down
    payment = monthly_payment(financed, inputs.annual_rate, inputs.term_months)
    total_payments = payment * inputs.term_months
    return PurchaseResult(
        inputs=inputs,
        down_payment=_cents(down),
        financed=_cents(financed),
        monthly_payment=_cents(payment),
        total_of_payments=_cents(total_payments),
        total_interest=_cents(total_payments - financed),
        total_paid=_cents(down + total_payments),
    )


# ---- lease ----

CostKey = Literal[
    "deposit", "advance_rent", "broker_fee", "guarantee", "other_fees", "maintenance", "vat"
]


@dataclass(frozen=True, slots=True)
class LeaseInputs:
    """What a lease-cost simulation needs.

    Attributes:
        monthly_rent: Rent per month before VAT (> 0).
        term_months: Length of the lease, 12–480 months (1–40 years).
        deposit_months: Months of rent held as a security deposit (0–24); refundable, so it
            counts in the move-in cost but not in the yearly cost.
        advance_months: Months of rent paid in advance at signing (0–24; usually the first).
        broker_fee: Commission paid by the tenant, if any: :class:`RentMonths`, a
            :class:`Percent` of the first year's rent or an :class:`Amount`.
        guarantee: Cost of the guarantee (a póliza jurídica, a bond, a surety), same forms.
        other_fees: Any other one-off cost at signing (contract drafting, investigation).
        monthly_maintenance: Maintenance or CAM charge per month before VAT (≥ 0).
        vat_percent: VAT on rent and maintenance, 0–100 (16 in Mexico on commercial rent;
            0 when the figures already include it or do not bear it).
        annual_increase: Yearly rent increase in percent, 0–100 (for example the INPC).
        currency: ISO code of every amount.

    Raises:
        SimulationInputError: Any input out of its range (all of them are listed).
    """

    monthly_rent: float
    term_months: int
    deposit_months: float = 1.0
    advance_months: float = 1.0
    broker_fee: Fee | None = None
    guarantee: Fee | None = None
    other_fees: float = 0.0
    monthly_maintenance: float = 0.0
    vat_percent: float = 0.0
    annual_increase: float = 0.0
    currency: str = DEFAULT_CURRENCY

    def __post_init__(self) -> None:
        checks = _Checks()
        checks.positive("monthly_rent", self.monthly_rent, "La renta mensual", "monthly rent")
        checks.term(self.term_months)
        checks.between(
            "deposit_months",
            self.deposit_months,
            0,
            MAX_DEPOSIT_MONTHS,
            "El depósito (meses)",
            "deposit in months",
        )
        checks.between(
            "advance_months",
            self.advance_months,
            0,
            MAX_DEPOSIT_MONTHS,
            "La renta por adelantado (meses)",
            "rent in advance in months",
        )
        checks.fee("broker_fee", self.broker_fee, "La comisión", "broker fee")
        checks.fee("guarantee", self.guarantee, "El costo de la garantía", "guarantee cost")
        checks.fee("other_fees", Amount(self.other_fees), "Otros gastos", "other fees")
        checks.fee(
            "monthly_maintenance",
            Amount(self.monthly_maintenance),
            "El mantenimiento",
            "maintenance",
        )
        checks.between("vat_percent", self.vat_percent, 0, 100, "El IVA (%)", "VAT (%)")
        checks.between(
            "annual_increase",
            self.annual_increase,
            0,
            100,
            "El incremento anual (%)",
            "annual increase (%)",
        )
        checks.raise_if_any()

    def fee_amount(self, fee: Fee | None) -> float:
        """A fee in money: months of rent, a percentage of the first year's rent, or as is."""
        if fee is None:
            return 0.0
        if isinstance(fee, RentMonths):
            return fee.value * self.monthly_rent
        if isinstance(fee, Percent):
            return fee.value / 100 * 12 * self.monthly_rent
        return fee.value


@dataclass(frozen=True, slots=True)
class CostItem:
    """One line of a cost breakdown."""

    key: CostKey
    amount: float


@dataclass(frozen=True, slots=True)
class LeaseResult:
    """A lease-cost simulation, every amount rounded to cents.

    Attributes:
        inputs: What was simulated.
        move_in: What is paid at signing, line by line (only non-zero lines).
        move_in_cost: Their sum.
        yearly_costs: What each year of the term costs (rent, maintenance and VAT, with the
            yearly increase; the one-off fees in the first year; the refundable deposit left
            out). A last partial year counts only its months.
        total_cost: The sum of ``yearly_costs``: the lease's cost over its whole term.
        refundable: The deposit, returned at the end if the premises are handed back as
            agreed.
    """

    inputs: LeaseInputs
    move_in: tuple[CostItem, ...]
    move_in_cost: float
    yearly_costs: tuple[float, ...]
    total_cost: float
    refundable: float = 0.0

    @property
    def first_year_cost(self) -> float:
        """What the first year costs (fees included, deposit excluded)."""
        return self.yearly_costs[0]


def _year_running_cost(inputs: LeaseInputs, year: int, months: int) -> float:
    """Rent, maintenance and VAT of ``months`` months in year ``year`` (0-based)."""
    rent = inputs.monthly_rent * (1 + inputs.annual_increase / 100) ** year
    monthly = (rent + inputs.monthly_maintenance) * (1 + inputs.vat_percent / 100)
    return monthly * months


def simulate_lease(inputs: LeaseInputs) -> LeaseResult:
    """Move-in cost, cost per year and over the term of a lease."""
    vat = inputs.vat_percent / 100
    deposit = inputs.deposit_months * inputs.monthly_rent
    advance = inputs.advance_months * inputs.monthly_rent
    maintenance = inputs.advance_months * inputs.monthly_maintenance
    broker = inputs.fee_amount(inputs.broker_fee)
    guarantee = inputs.fee_amount(inputs.guarantee)
    # VAT is charged on the rent and maintenance paid in advance; the deposit is not a
    # payment for a service and fees are quoted as the tenant pays them.
    lines: list[tuple[CostKey, float]] = [
        ("deposit", deposit),
        ("advance_rent", advance),
        ("maintenance", maintenance),
        ("broker_fee", broker),
        ("guarantee", guarantee),
        ("other_fees", inputs.other_fees),
        ("vat", (advance + maintenance) * vat),
    ]
    move_in = tuple(CostItem(key, _cents(value)) for key, value in lines if value > 0)
    one_off = broker + guarantee + inputs.other_fees
    years: list[float] = []
    remaining = inputs.term_months
    year = 0
    while remaining > 0:
        months = min(12, remaining)
        cost = _year_running_cost(inputs, year, months) + (one_off if year == 0 else 0.0)
        years.append(_cents(cost))
        remaining -= months
        year += 1
    return LeaseResult(
        inputs=inputs,
        move_in=move_in,
        move_in_cost=_cents(sum(item.amount for item in move_in)),
        yearly_costs=tuple(years),
        total_cost=_cents(sum(years)),
        refundable=_cents(deposit),
    )
