"""statistics and lead filters: first completion turn, filled keys, lead city/type/transcript

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.add_column("conversations", sa.Column("completed_turn", sa.Integer(), nullable=True))
    op.add_column(
        "conversations", sa.Column("filled", sa.Text(), nullable=False, server_default="")
    )
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_index("ix_turns_created_at", "turns", ["created_at"])
    op.add_column("leads", sa.Column("city", sa.String(128), nullable=True))
    op.add_column("leads", sa.Column("property_type", sa.String(16), nullable=True))
    op.add_column("leads", sa.Column("transcript", _JSON, nullable=True))
    op.create_index("ix_leads_city", "leads", ["city"])
    op.create_index("ix_leads_property_type", "leads", ["property_type"])
    op.create_index("ix_leads_created_at", "leads", ["created_at"])
    _backfill(op.get_bind())


def _backfill(conn: sa.Connection) -> None:
    """Derive the new columns from what the rows already hold."""
    meta = sa.MetaData()
    conversations = sa.Table("conversations", meta, autoload_with=conn)
    turns = sa.Table("turns", meta, autoload_with=conn)
    leads = sa.Table("leads", meta, autoload_with=conn)
    for cid, state in conn.execute(sa.select(conversations.c.id, conversations.c.state)):
        keys = sorted(((_json(state).get("brief") or {}).get("slots") or {}).keys())
        filled = f" {' '.join(keys)} " if keys else ""
        conn.execute(conversations.update().where(conversations.c.id == cid).values(filled=filled))
    first: dict[str, int] = {}
    rows = conn.execute(sa.select(turns.c.conversation_id, turns.c.turn, turns.c.actions))
    for cid, turn, actions in rows:
        if "brief_completed" in (_json(actions) or []) and turn < first.get(cid, 2**31):
            first[cid] = turn
    for cid, turn in first.items():
        conn.execute(
            conversations.update().where(conversations.c.id == cid).values(completed_turn=turn)
        )
    for lead_id, brief in conn.execute(sa.select(leads.c.id, leads.c.brief)):
        fields = _json(brief).get("fields") or {}
        conn.execute(
            leads.update()
            .where(leads.c.id == lead_id)
            .values(
                city=(fields.get("city") or {}).get("value"),
                property_type=(fields.get("property_type") or {}).get("value"),
            )
        )


def _json(value: Any) -> Any:
    import json

    return json.loads(value) if isinstance(value, str) else (value or {})


def downgrade() -> None:
    op.drop_index("ix_leads_created_at", table_name="leads")
    op.drop_index("ix_leads_property_type", table_name="leads")
    op.drop_index("ix_leads_city", table_name="leads")
    with op.batch_alter_table("leads") as batch:
        batch.drop_column("transcript")
        batch.drop_column("property_type")
        batch.drop_column("city")
    op.drop_index("ix_turns_created_at", table_name="turns")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("filled")
        batch.drop_column("completed_turn")
