"""api_rate_counters: per-key request counts shared by all API processes on PostgreSQL

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 19:45:03.365941
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_rate_counters",
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "key_id", "route", "window_start", name=op.f("pk_api_rate_counters")
        ),
    )


def downgrade() -> None:
    op.drop_table("api_rate_counters")
