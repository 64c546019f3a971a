"""the intent, its confidence and the sentiment of each user message

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_COLUMNS = (
    ("intent", sa.String(16)),
    ("intent_confidence", sa.Float()),
    ("sentiment", sa.Float()),
)


def upgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        for name, _ in reversed(_COLUMNS):
            batch.drop_column(name)
