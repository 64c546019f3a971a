"""The financing and lease arithmetic against worked examples computed by hand."""

from __future__ import annotations

import pytest

from realty.domain.finance import (
    Amount,
    CostItem,
    LeaseInputs,
    Percent,
    PurchaseInputs,
    RentMonths,
    SimulationInputError,
    monthly_payment,
    simulate_lease,
    simulate_purchase,
)


def test_one_year_loan_at_twelve_percent() -> None:
    """100,000 over 12 months at 12 % a year.

    r = 0.12 / 12 = 0.01; (1.01)^-12 = 0.887449; M = 100,000 · 0.01 / (1 − 0.887449)
    = 1,000 / 0.112551 = 8,884.88. Twelve payments: 106,618.55, so 6,618.55 of interest.
    """
    result = simulate_purchase(PurchaseInputs(100_000, Amount(0), 12, 12))
    assert result.monthly_payment == pytest.approx(8_884.88, abs=0.005)
    assert result.total_of_payments == pytest.approx(106_618.55, abs=0.01)
    assert result.total_interest == pytest.approx(6_618.55, abs=0.01)
    assert result.financed == 100_000
    assert result.total_paid == result.total_of_payments


def test_thirty_year_mortgage_matches_the_published_amortisation_table() -> None:
    """250,000 with 20 % down (50,000) leaves 200,000 at 6 % over 30 years.

    Every amortisation table gives 1,199.10 a month for 200,000 at 6 % over 360 months
    (r = 0.005; 1.005^360 = 6.022575; M = 200,000 · 0.005 · 6.022575 / 5.022575 = 1,199.10).
    """
    result = simulate_purchase(PurchaseInputs(250_000, Percent(20), 360, 6, "USD"))
    assert result.down_payment == 50_000
    assert result.financed == 200_000
    assert result.monthly_payment == pytest.approx(1_199.10, abs=0.005)
    assert result.total_of_payments == pytest.approx(431_676.38, abs=0.01)
    assert result.total_interest == pytest.approx(231_676.38, abs=0.01)
    assert result.total_paid == pytest.approx(481_676.38, abs=0.01)


def test_zero_rate_divides_the_amount_financed_evenly() -> None:
    """1,500,000 with 20 % down leaves 1,200,000; at 0 % over 10 years that is 1,200,000 / 120
    = 10,000 a month and no interest."""
    result = simulate_purchase(PurchaseInputs(1_500_000, Percent(20), 120, 0))
    assert result.monthly_payment == 10_000
    assert result.total_interest == 0
    assert result.total_paid == 1_500_000


def test_paying_everything_down_leaves_nothing_to_finance() -> None:
    result = simulate_purchase(PurchaseInputs(800_000, Percent(100), 120, 10))
    assert (result.financed, result.monthly_payment, result.total_interest) == (0, 0, 0)


def test_monthly_payment_refuses_a_zero_term() -> None:
    with pytest.raises(ValueError, match="months"):
        monthly_payment(1_000, 5, 0)


@pytest.mark.parametrize(
    ("inputs", "fields"),
    [
        (lambda: PurchaseInputs(0, Percent(20), 120, 10), ["price"]),
        (lambda: PurchaseInputs(1e6, Percent(120), 120, 10), ["down_payment"]),
        (lambda: PurchaseInputs(1e6, Amount(2e6), 120, 10), ["down_payment"]),
        (lambda: PurchaseInputs(1e6, Amount(-1), 120, 10), ["down_payment"]),
        (lambda: PurchaseInputs(1e6, Percent(20), 6, 10), ["term_months"]),
        (lambda: PurchaseInputs(1e6, Percent(20), 481, 10), ["term_months"]),
        (lambda: PurchaseInputs(1e6, Percent(20), 120, 101), ["annual_rate"]),
        (lambda: PurchaseInputs(1e6, Percent(20), 120, float("nan")), ["annual_rate"]),
        (lambda: PurchaseInputs(float("inf"), Percent(20), 120, 10), ["price"]),
        (lambda: PurchaseInputs(-5, Percent(20), 500, -1), ["price", "term_months", "annual_rate"]),
        (lambda: LeaseInputs(0, 12), ["monthly_rent"]),
        (lambda: LeaseInputs(10_000, 12, deposit_months=25), ["deposit_months"]),
        (lambda: LeaseInputs(10_000, 12, broker_fee=Percent(150)), ["broker_fee"]),
        (lambda: LeaseInputs(10_000, 12, guarantee=Amount(-3)), ["guarantee"]),
        (lambda: LeaseInputs(10_000, 12, vat_percent=-16), ["vat_percent"]),
        (lambda: LeaseInputs(10_000, 600), ["term_months"]),
    ],
)
def test_out_of_range_inputs_are_all_reported(inputs: object, fields: list[str]) -> None:
    with pytest.raises(SimulationInputError) as caught:
        inputs()  # type: ignore[operator]
    assert [p.field for p in caught.value.problems] == fields


def test_input_problems_speak_both_languages() -> None:
    with pytest.raises(SimulationInputError) as caught:
        PurchaseInputs(1e6, Percent(20), 600, 10)
    assert caught.value.messages("es") == ["El plazo debe ser de 1 a 40 años (12 a 480 meses)."]
    assert caught.value.messages("en") == ["The term must be 1 to 40 years (12 to 480 months)."]


def test_move_in_cost_of_a_lease_with_deposit_commission_and_vat() -> None:
    """Rent 45,000; two months of deposit (90,000), the first month in advance (45,000), one
    month of commission (45,000) and 16 % VAT on the rent paid in advance (7,200):
    90,000 + 45,000 + 45,000 + 7,200 = 187,200 to move in."""
    result = simulate_lease(
        LeaseInputs(45_000, 36, deposit_months=2, broker_fee=RentMonths(1), vat_percent=16)
    )
    assert result.move_in == (
        CostItem("deposit", 90_000),
        CostItem("advance_rent", 45_000),
        CostItem("broker_fee", 45_000),
        CostItem("vat", 7_200),
    )
    assert result.move_in_cost == 187_200
    assert result.refundable == 90_000


def test_yearly_costs_grow_with_the_annual_increase_and_leave_out_the_deposit() -> None:
    """Rent 20,000 + 2,000 maintenance, 16 % VAT, +5 % a year, a guarantee of 3.5 % of the
    first year's rent (0.035 · 240,000 = 8,400), 30 months.

    Year 1: 12 · 22,000 · 1.16 + 8,400 = 306,240 + 8,400 = 314,640.
    Year 2: rent 21,000: 12 · 23,000 · 1.16 = 320,160.
    Year 3 (6 months): rent 22,050: 6 · 24,050 · 1.16 = 167,388.
    Total 314,640 + 320,160 + 167,388 = 802,188.
    """
    result = simulate_lease(
        LeaseInputs(
            20_000,
            30,
            monthly_maintenance=2_000,
            vat_percent=16,
            annual_increase=5,
            guarantee=Percent(3.5),
        )
    )
    assert result.yearly_costs == pytest.approx((314_640, 320_160, 167_388))
    assert result.first_year_cost == pytest.approx(314_640)
    assert result.total_cost == pytest.approx(802_188)


def test_a_fixed_fee_and_no_deposit() -> None:
    result = simulate_lease(LeaseInputs(10_000, 12, deposit_months=0, other_fees=3_500))
    assert [i.key for i in result.move_in] == ["advance_rent", "other_fees"]
    assert result.move_in_cost == 13_500
    assert result.total_cost == 123_500
