"""Replies to a simulation request, in Spanish or English, with formatted figures.

:class:`SimulationReplier` runs the simulation a :class:`SimulationRequest` describes and
writes the answer from the texts of ``data/finance.yaml``: amounts with thousands separators
and their currency (``$10,606.55 MXN``), every assumption said out loud, and a one-line
reminder that the figures are an estimate. Missing or invalid inputs get their questions or
their problems instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, assert_never

from realty.domain.brief import Language
from realty.domain.finance import (
    LeaseInputs,
    LeaseResult,
    Percent,
    PurchaseResult,
    simulate_lease,
    simulate_purchase,
)
from realty.pipeline.simulation import (
    FinanceVocabulary,
    InvalidInputs,
    LeaseRequest,
    MissingInputs,
    PurchaseRequest,
    SimulationOutcome,
    finance_vocabulary,
)


def format_number(value: float, decimals: int = 2) -> str:
    """Thousands commas; decimals only when there are cents (``1,500`` / ``1,500.50``)."""
    if not math.isfinite(value):
        return str(value)
    rounded = round(float(value), decimals)
    if rounded.is_integer():
        return f"{int(rounded):,}"
    return f"{rounded:,.{decimals}f}"


def format_money(value: float, currency: str) -> str:
    """An amount as written in Mexico and the US: ``$1,234,567.89 MXN``, ``€1,500 EUR``."""
    sign = {"MXN": "$", "USD": "$", "EUR": "€"}.get(currency, "")
    return f"{sign}{format_number(value)} {currency}".strip()


def format_percent(value: float) -> str:
    """A percentage as prospects write it: ``11%``, ``10.5%``."""
    return f"{round(value, 2):g}%"


def format_term(months: int, language: Language, texts: Mapping[str, Any]) -> str:
    """``10 años`` / ``18 months``: whole years when the term is a multiple of 12."""
    table = texts["term"][language]
    if months % 12 == 0:
        years = months // 12
        return str(table["year"] if years == 1 else table["years"].format(n=years))
    return str(table["month"] if months == 1 else table["months"].format(n=months))


class SimulationReplier:
    """Writes the chat answer to a simulation outcome."""

    def __init__(self, vocabulary: FinanceVocabulary | None = None) -> None:
        """Keep the reply texts (default: the packaged ``finance.yaml``)."""
        self._texts: Mapping[str, Any] = (vocabulary or finance_vocabulary()).texts

    def reply(self, outcome: SimulationOutcome, language: Language, *, first: bool = False) -> str:
        """The answer to ``outcome`` in ``language``.

        Args:
            outcome: What :class:`~realty.pipeline.simulation.SimulationReader` read.
            language: The reply language.
            first: The prospect just asked for the simulation: questions for missing inputs
                open with what they are for ("Happy to simulate the loan.").

        Returns:
            The figures with any assumptions and the estimate reminder, the questions for
            missing inputs, or the problems of invalid ones.
        """
        if isinstance(outcome, PurchaseRequest):
            body = self.purchase(simulate_purchase(outcome.inputs), language)
            return self._finish(body, outcome.assumed, outcome, language)
        if isinstance(outcome, LeaseRequest):
            body = self.lease(simulate_lease(outcome.inputs), language)
            return self._finish(body, outcome.assumed, outcome, language)
        if isinstance(outcome, MissingInputs):
            questions = list(outcome.questions(language))
            if first and outcome.kind is not None:  # what the questions are for
                questions.insert(0, str(self._texts["asking"][language][outcome.kind]))
            return " ".join(questions)
        if isinstance(outcome, InvalidInputs):
            return " ".join(outcome.messages(language))
        assert_never(outcome)

    def purchase(self, result: PurchaseResult, language: Language) -> str:
        """The purchase figures in words."""
        inputs = result.inputs
        money = _money(inputs.currency)
        down_percent = (
            inputs.down_payment.value
            if isinstance(inputs.down_payment, Percent)
            else 100 * result.down_payment / inputs.price
        )
        return str(self._texts["purchase"][language]).format(
            price=money(inputs.price),
            down=money(result.down_payment),
            down_percent=format_percent(round(down_percent, 1)),
            term=format_term(inputs.term_months, language, self._texts),
            rate=format_percent(inputs.annual_rate),
            financed=money(result.financed),
            payment=money(result.monthly_payment),
            total_payments=money(result.total_of_payments),
            interest=money(result.total_interest),
            total=money(result.total_paid),
        )

    def lease(self, result: LeaseResult, language: Language) -> str:
        """The lease figures in words."""
        inputs = result.inputs
        money = _money(inputs.currency)
        labels = self._texts["items"][language]
        items = ", ".join(labels[i.key].format(amount=money(i.amount)) for i in result.move_in)
        if inputs.vat_percent:
            vat_note = self._texts["vat_included"][language].format(
                vat=format_percent(inputs.vat_percent)
            )
        else:
            vat_note = self._texts["vat_excluded"][language]
        return str(self._texts["lease"][language]).format(
            rent=money(inputs.monthly_rent),
            move_in=money(result.move_in_cost),
            items=items,
            first_year=money(result.first_year_cost),
            term=format_term(inputs.term_months, language, self._texts),
            total=money(result.total_cost),
            vat_note=vat_note,
            deposit=money(result.refundable),
        )

    def _finish(
        self,
        body: str,
        assumed: tuple[str, ...],
        request: PurchaseRequest | LeaseRequest,
        language: Language,
    ) -> str:
        parts = [body]
        if assumed:
            table = self._texts["assumptions"][language]
            said = [
                table[name].format(value=self._value(name, request, language)) for name in assumed
            ]
            parts.append(self._texts["assumed"][language].format(items=_join(said, language)))
        parts.append(self._texts["disclaimer"][language])
        return " ".join(parts)

    def _value(self, name: str, request: PurchaseRequest | LeaseRequest, language: Language) -> str:
        inputs = request.inputs
        if name == "annual_rate" and isinstance(request, PurchaseRequest):
            return format_percent(request.inputs.annual_rate)
        if name == "currency":
            return inputs.currency
        if isinstance(inputs, LeaseInputs):
            if name == "term_months":
                return format_term(inputs.term_months, language, self._texts)
            months = inputs.deposit_months if name == "deposit_months" else inputs.advance_months
            return self._months(months, language)
        return name

    def _months(self, months: float, language: Language) -> str:
        table = self._texts["term"][language]
        if months == 1:
            return str(table["month"])
        return str(table["months"]).format(n=format_number(months))


def _money(currency: str) -> Any:
    return lambda value: format_money(value, currency)


def _join(items: list[str], language: Language) -> str:
    if len(items) < 2:
        return "".join(items)
    last = " y " if language == "es" else " and "
    return ", ".join(items[:-1]) + last + items[-1]
