"""The calibration of the synthetic catalog (``realty/data/market_calibration.yaml``), typed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from realty.domain.brief import PROPERTY_KINDS, PropertyKind
from realty.domain.listing import Offer
from realty.errors import ConfigurationError

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class BasePrice(BaseModel):
    """A type's price level in a country's reference city: rent per m² per month and sale
    per m², in the country's currency; ``usd_share`` of its listings quoted in dollars."""

    model_config = _FROZEN

    rent: float = Field(gt=0)
    sale: float = Field(gt=0)
    usd_share: float = Field(default=0.0, ge=0, le=1)

    def per_m2(self, offer: Offer) -> float:
        """The level of ``offer``."""
        return self.rent if offer == "rent" else self.sale


class CountryCalibration(BaseModel):
    """One country's currency and base prices per type."""

    model_config = _FROZEN

    currency: str = Field(min_length=3, max_length=3)
    base: dict[PropertyKind, BasePrice]

    @model_validator(mode="after")
    def _every_kind(self) -> CountryCalibration:
        missing = [k for k in PROPERTY_KINDS if k not in self.base]
        if missing:
            raise ValueError(f"base prices missing for {', '.join(missing)}")
        return self


class CityCalibration(BaseModel):
    """A city's share of its country's listings and its price factor (per type, optionally)."""

    model_config = _FROZEN

    weight: float = Field(gt=0)
    factor: float = Field(gt=0)
    kinds: dict[PropertyKind, float] = Field(default_factory=dict)

    def factor_for(self, kind: PropertyKind) -> float:
        """The price factor of ``kind`` here."""
        return self.kinds.get(kind, self.factor)


class KindCalibration(BaseModel):
    """A type's share of the catalog, its sizes (log-normal, clipped) and share for rent."""

    model_config = _FROZEN

    share: float = Field(gt=0)
    median_m2: float = Field(gt=0)
    spread: float = Field(ge=0, le=3)
    min_m2: float = Field(gt=0)
    max_m2: float = Field(gt=0)
    rent_share: float = Field(ge=0, le=1)


class Calibration(BaseModel):
    """Everything the synthetic catalog is generated from."""

    model_config = _FROZEN

    countries: dict[str, CountryCalibration]
    cities: dict[str, dict[str, CityCalibration]]
    kinds: dict[PropertyKind, KindCalibration]
    price_spread: float = Field(ge=0, le=2)
    home_share: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _consistent(self) -> Calibration:
        missing = [k for k in PROPERTY_KINDS if k not in self.kinds]
        if missing:
            raise ValueError(f"kinds missing: {', '.join(missing)}")
        for country, cities in self.cities.items():
            if country not in self.countries:
                raise ValueError(f"cities of {country} but no base prices for it")
            if not cities:
                raise ValueError(f"no cities for {country}")
        return self


def load_calibration(path: Path | None = None) -> Calibration:
    """The calibration in ``path`` (default: the packaged ``market_calibration.yaml``).

    Raises:
        ConfigurationError: the file cannot be read or does not describe a calibration.
    """
    where = str(path) if path else "realty/data/market_calibration.yaml"
    try:
        if path is None:
            text = (
                resources.files("realty.data")
                .joinpath("market_calibration.yaml")
                .read_text("utf-8")
            )
        else:
            text = path.read_text("utf-8")
        data: Any = yaml.safe_load(text)
        return Calibration.model_validate(data)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigurationError(f"{where}: not a valid calibration: {exc}") from exc
