"""rate_budget_use and rate_budget_blocks: platform budgets shared by every worker

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 19:48:28.351902
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rate_budget_blocks",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_budget_blocks")),
    )
    op.create_table(
        "rate_budget_use",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name=op.f("pk_rate_budget_use")),
    )


def downgrade() -> None:
    op.drop_table("rate_budget_use")
    op.drop_table("rate_budget_blocks")
