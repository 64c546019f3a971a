"""The market a deployment serves: its country, home currency and exchange rates. Pure data.

Rates are quoted as units of the home currency per unit of another currency (for a Mexican
market ``{"USD": 18.0}`` means one dollar is 18 pesos). Every conversion goes through the home
currency, so any two known currencies convert into each other.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from realty.errors import RealtyError

# The currency each country's market quotes in; a country not listed cannot be a market.
HOME_CURRENCIES: Final[Mapping[str, str]] = MappingProxyType({"MX": "MXN", "US": "USD"})

# The rates a market uses unless the deployment sets REALTY_EXCHANGE_RATES: Banco de México's
# FIX rate rounded (about 18.0 MXN per USD and 19.5 MXN per EUR in late 2026), and for a US
# market the same rates seen from the dollar.
DEFAULT_RATES_DATE: Final = dt.date(2026, 11, 30)
DEFAULT_RATES: Final[Mapping[str, Mapping[str, float]]] = MappingProxyType(
    {
        "MX": MappingProxyType({"USD": 18.0, "EUR": 19.5}),
        "US": MappingProxyType({"MXN": 1 / 18.0, "EUR": 19.5 / 18.0}),
    }
)


class UnknownCurrencyError(RealtyError, ValueError):
    """A currency the market has no rate for."""

    def __init__(self, currency: str) -> None:
        super().__init__(f"no exchange rate for {currency!r}")
        self.currency = currency


class Market:
    """Country, home currency and rates to it, as of ``rates_date``. Immutable.

    Args:
        country: ISO code of the market's country (``MX`` or ``US``).
        rates: Units of the home currency per unit of each other currency.
        rates_date: When the rates were taken (shown next to converted figures).

    Raises:
        ValueError: an unknown country, or a rate that is not a positive number.
    """

    __slots__ = ("_country", "_home", "_rates", "_rates_date")

    def __init__(
        self, country: str, rates: Mapping[str, float], rates_date: dt.date = DEFAULT_RATES_DATE
    ) -> None:
        country = country.upper()
        if country not in HOME_CURRENCIES:
            raise ValueError(f"no market for country {country!r} (known: MX, US)")
        home = HOME_CURRENCIES[country]
        table = {home: 1.0}
        for code, rate in rates.items():
            if not (rate > 0 and rate < float("inf")):
                raise ValueError(f"the rate of {code} must be a positive number, not {rate!r}")
            if code.upper() != home:
                table[code.upper()] = float(rate)
        self._country = country
        self._home = home
        self._rates: Mapping[str, float] = MappingProxyType(table)
        self._rates_date = rates_date

    @classmethod
    def default(cls, country: str = "MX") -> Market:
        """The market of ``country`` with the packaged default rates."""
        return cls(country, DEFAULT_RATES[country.upper()], DEFAULT_RATES_DATE)

    @property
    def country(self) -> str:
        """The market's ISO country code."""
        return self._country

    @property
    def home_currency(self) -> str:
        """The currency figures are compared in (``MXN`` for Mexico, ``USD`` for the US)."""
        return self._home

    @property
    def foreign_currency(self) -> str:
        """The other currency prospects of this market quote in most (USD for MX, MXN for US)."""
        return "USD" if self._home != "USD" else "MXN"

    @property
    def rates(self) -> Mapping[str, float]:
        """Units of the home currency per unit of each known currency (home: 1)."""
        return self._rates

    @property
    def rates_date(self) -> dt.date:
        """When the rates were taken."""
        return self._rates_date

    def knows(self, currency: str) -> bool:
        """Whether ``currency`` converts."""
        return currency.upper() in self._rates

    def convert(self, amount: float, source: str, target: str) -> float:
        """``amount`` of ``source`` in ``target``.

        Raises:
            UnknownCurrencyError: either currency has no rate.
        """
        source, target = source.upper(), target.upper()
        if source == target:
            return amount
        for code in (source, target):
            if code not in self._rates:
                raise UnknownCurrencyError(code)
        return amount * self._rates[source] / self._rates[target]

    def to_home(self, amount: float, currency: str) -> float:
        """``amount`` of ``currency`` in the home currency."""
        return self.convert(amount, currency, self._home)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Market) and (
            self._country,
            dict(self._rates),
            self._rates_date,
        ) == (other._country, dict(other._rates), other._rates_date)

    def __hash__(self) -> int:
        return hash((self._country, tuple(sorted(self._rates.items())), self._rates_date))

    def __repr__(self) -> str:
        rates = ", ".join(f"{k}={v:g}" for k, v in sorted(self._rates.items()) if k != self._home)
        return f"Market({self._country}, {self._home}; {rates} on {self._rates_date})"
