"""A listing of the catalog: a property on offer for rent (a monthly price) or for sale (a total
price). Pure data: no I/O.

Amenities use the keys of the field registry (``realty/data/fields.yaml``), so a brief's extra
``parking_spaces: 6`` and a listing's ``parking_spaces: 8`` speak of the same thing.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from realty.domain.brief import City, PropertyKind

Offer = Literal["rent", "sale"]
OFFERS: tuple[Offer, ...] = get_args(Offer)

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Amenities(BaseModel):
    """What a listing has, under the field registry's keys; ``None`` means not stated."""

    model_config = _FROZEN

    parking_spaces: int | None = Field(default=None, ge=0, le=100_000)
    loading_docks: int | None = Field(default=None, ge=0, le=10_000)
    ceiling_height: float | None = Field(default=None, gt=0, le=100, description="metres")
    power_kva: float | None = Field(default=None, gt=0, le=1_000_000)
    three_phase_power: bool | None = None
    furnished: bool | None = None
    security_24h: bool | None = None
    elevator: bool | None = None
    air_conditioning: bool | None = None
    pets_allowed: bool | None = None
    bedrooms: int | None = Field(default=None, ge=0, le=1000)
    bathrooms: int | None = Field(default=None, ge=0, le=1000)

    def stated(self) -> dict[str, int | float | bool]:
        """The amenities that are stated, by key."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


AMENITY_KEYS: tuple[str, ...] = tuple(Amenities.model_fields)


class Listing(BaseModel):
    """One property on offer.

    ``price`` is per month for ``rent`` and the total for ``sale``, in ``currency``. ``city``
    is the gazetteer's city (its coordinates are the city's); ``lat``/``lon`` are the
    property's own. ``source`` is ``synthetic`` for the generated catalog or the name of the
    file a listing was imported from.
    """

    model_config = _FROZEN

    id: str = Field(min_length=1, max_length=64)
    property_type: PropertyKind
    city: City
    zone: str | None = Field(default=None, max_length=128)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    size_m2: float = Field(gt=0, le=10_000_000)
    price: float = Field(gt=0)
    currency: str = Field(min_length=3, max_length=3)
    offer: Offer
    amenities: Amenities = Amenities()
    available_from: dt.date | None = None
    source: str = Field(default="synthetic", min_length=1, max_length=128)
    title: str = Field(default="", max_length=200)

    @property
    def price_per_m2(self) -> float:
        """Price per square metre (per month for rent), in the listing's currency."""
        return self.price / self.size_m2
