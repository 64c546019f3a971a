"""the listing catalog: listings with the indexes matching and the market check use

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from realty.store.tables import UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_PLACE = ("property_type", "offer", "country", "city")
_INDEXES = {
    "ix_listings_price": [*_PLACE, "price_usd"],
    "ix_listings_size": [*_PLACE, "size_m2"],
    "ix_listings_unit_price": [*_PLACE, "price_usd_m2"],
    "ix_listings_area": ["property_type", "offer", "lat", "lon"],
    "ix_listings_source": ["source"],
}


def upgrade() -> None:
    op.create_table(
        "listings",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("property_type", sa.String(16), nullable=False),
        sa.Column("offer", sa.String(4), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("city", sa.String(128), nullable=False),
        sa.Column("admin1", sa.String(128), nullable=True),
        sa.Column("city_lat", sa.Float(), nullable=False),
        sa.Column("city_lon", sa.Float(), nullable=False),
        sa.Column("zone", sa.String(128), nullable=True),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("size_m2", sa.Float(), nullable=False),
        sa.Column("price", sa.Float(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("price_usd", sa.Float(), nullable=False),
        sa.Column("price_usd_m2", sa.Float(), nullable=False),
        sa.Column("amenities", _JSON, nullable=False),
        sa.Column("available_from", sa.Date(), nullable=True),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_listings"),
    )
    for name, columns in _INDEXES.items():
        op.create_index(name, "listings", columns)


def downgrade() -> None:
    for name in reversed(_INDEXES):
        op.drop_index(name, table_name="listings")
    op.drop_table("listings")
