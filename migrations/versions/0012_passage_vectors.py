"""passage vectors

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 14:44:31.725129
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import servicepoint.core.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "passage_vector",
        sa.Column("model", sa.String(length=120), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", servicepoint.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("model", "digest", name=op.f("pk_passage_vector")),
    )


def downgrade() -> None:
    op.drop_table("passage_vector")
