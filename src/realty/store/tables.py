"""The database tables (SQLAlchemy Core). Migrations in ``migrations/`` create exactly these.

```
conversations 1 ── * turns             (append-only log, ON DELETE CASCADE)
conversations 1 ── 0..1 leads          (ON DELETE SET NULL: a lead outlives its expired chat)
conversations 1 ── * idempotency_keys  (the Idempotency-Key that opened it, ON DELETE CASCADE)
listings                               (the catalog matching searches; no foreign keys)
```
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

from realty.store.base import CONTACT_MAX_CHARS


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
Id = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("channel_key", String(128), nullable=True),
    Column("state", Json, nullable=False),
    Column("version", Integer, nullable=False),
    Column("language", String(2), nullable=False),
    Column("turns", Integer, nullable=False),
    Column("complete", Boolean, nullable=False),
    # The user turn at which the brief was first complete (statistics).
    Column("completed_turn", Integer, nullable=True),
    # The brief's keys, " budget city " (statistics: fill rate per field).
    Column("filled", Text, nullable=False, server_default=""),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    UniqueConstraint("channel", "channel_key"),
    Index("ix_conversations_expires_at", "expires_at"),
    Index("ix_conversations_created_at", "created_at"),
)

turns = Table(
    "turns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column(
        "conversation_id",
        String(32),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),
    Column("turn", Integer, nullable=False),
    Column("kind", String(8), nullable=False),
    Column("client_message_id", String(128), nullable=True),
    Column("text", Text, nullable=False),
    Column("blocked", Boolean, nullable=False),
    Column("block_reason", String(32), nullable=True),
    Column("candidates", Json, nullable=False),
    Column("accepted", Json, nullable=False),
    Column("rejected", Json, nullable=False),
    Column("actions", Json, nullable=False),
    Column("reply", Text, nullable=False),
    Column("brief", Json, nullable=False),
    Column("llm_calls", Integer, nullable=False),
    Column("llm_ms", Float, nullable=False),
    Column("latency_ms", Float, nullable=False),
    # What the message wanted (pipeline/intent.py) and how it felt; NULL on other entries.
    Column("intent", String(16), nullable=True),
    Column("intent_confidence", Float, nullable=True),
    Column("sentiment", Float, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("conversation_id", "seq"),
    UniqueConstraint("conversation_id", "client_message_id"),
    Index("ix_turns_created_at", "created_at"),
)

leads = Table(
    "leads",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "conversation_id",
        String(32),
        ForeignKey("conversations.id", ondelete="SET NULL"),
        nullable=True,
        unique=True,
    ),
    Column("status", String(16), nullable=False),
    Column("brief", Json, nullable=False),
    Column("language", String(2), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("contact", String(CONTACT_MAX_CHARS), nullable=True),
    Column("city", String(128), nullable=True),
    Column("property_type", String(16), nullable=True),
    # The conversation's transcript, copied here when the conversation expires.
    Column("transcript", Json, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_leads_updated_at_id", "updated_at", "id"),
    Index("ix_leads_city", "city"),
    Index("ix_leads_property_type", "property_type"),
    Index("ix_leads_created_at", "created_at"),
)

# The Idempotency-Key a POST /v1/conversations came with: a repeat within its lifetime gets
# the same conversation. Only hashes and the sealed token are kept (services/opening.py).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("key_hash", String(64), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column(
        "conversation_id",
        String(32),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("sealed_token", String(256), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Index("ix_idempotency_keys_conversation_id", "conversation_id"),
    Index("ix_idempotency_keys_expires_at", "expires_at"),
)


# The catalog. ``price`` is per month for rent and the total for sale, in ``currency``;
# ``price_usd`` is the same in dollars at the rates of the write (``realty catalog reprice``
# rewrites it after the rates change) so that a budget in any currency is one indexed range,
# and ``price_usd_m2`` is it per m² (the market check's medians). ``city_lat``/``city_lon`` are
# the gazetteer's coordinates of the city, ``lat``/``lon`` the property's own.
listings = Table(
    "listings",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("property_type", String(16), nullable=False),
    Column("offer", String(4), nullable=False),
    Column("country", String(2), nullable=False),
    Column("city", String(128), nullable=False),
    Column("admin1", String(128), nullable=True),
    Column("city_lat", Float, nullable=False),
    Column("city_lon", Float, nullable=False),
    Column("zone", String(128), nullable=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("size_m2", Float, nullable=False),
    Column("price", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("price_usd", Float, nullable=False),
    Column("price_usd_m2", Float, nullable=False),
    Column("amenities", Json, nullable=False),
    Column("available_from", Date, nullable=True),
    Column("source", String(128), nullable=False),
    Column("title", String(200), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Matching in a city: type, offer and place by equality, then a range on the budget…
    Index("ix_listings_price", "property_type", "offer", "country", "city", "price_usd"),
    # …or on the size, whichever the planner finds narrower.
    Index("ix_listings_size", "property_type", "offer", "country", "city", "size_m2"),
    # The market check: a city's prices per m² in order (the median by offset).
    Index("ix_listings_unit_price", "property_type", "offer", "country", "city", "price_usd_m2"),
    # Nearby cities: a latitude band, then longitude, around the wanted city.
    Index("ix_listings_area", "property_type", "offer", "lat", "lon"),
    Index("ix_listings_source", "source"),
)
