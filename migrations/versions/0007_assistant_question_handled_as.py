"""how the editors handled a logged assistant question: taught, another authority's, ignored

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("assistant_question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_as", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assistant_question", schema=None) as batch_op:
        batch_op.drop_column("handled_as")
