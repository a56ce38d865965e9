"""api_rate_counters count per user, not per API key

A user with two keys had twice the contract's rate (issue 20). The counters hold only the
current and previous minute, so the table is made again rather than converted: at worst a
client gets one fresh minute at the moment of the upgrade.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _counters(owner: sa.Column[object]) -> None:
    op.create_table(
        "api_rate_counters",
        owner,
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            owner.name, "route", "window_start", name=op.f("pk_api_rate_counters")
        ),
    )


def upgrade() -> None:
    op.drop_table("api_rate_counters")
    _counters(sa.Column("user_id", sa.String(length=36), nullable=False))


def downgrade() -> None:
    op.drop_table("api_rate_counters")
    _counters(sa.Column("key_id", sa.BigInteger(), nullable=False))
