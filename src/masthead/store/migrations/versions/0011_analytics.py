"""analytics: metrics checks per published post and checkpoint, and the snapshots they took

Checks are claimed in batches like posts (partial index on `due_at` of open checks).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from masthead.store.types import JSONType, UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = sa.text("due_at IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "analytics_checks",
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("checkpoint", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("deadline", UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_analytics_checks_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", "checkpoint", name=op.f("pk_analytics_checks")),
    )
    op.create_index(
        "ix_analytics_checks_due",
        "analytics_checks",
        ["due_at"],
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )
    op.create_table(
        "analytics_snapshots",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("checkpoint", sa.Integer(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("metrics", JSONType, nullable=False),
        sa.Column("raw", JSONType, nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_analytics_snapshots_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_analytics_snapshots")),
    )
    op.create_index("ix_analytics_snapshots_post", "analytics_snapshots", ["post_id", "fetched_at"])


def downgrade() -> None:
    op.drop_index("ix_analytics_snapshots_post", table_name="analytics_snapshots")
    op.drop_table("analytics_snapshots")
    op.drop_index("ix_analytics_checks_due", table_name="analytics_checks")
    op.drop_table("analytics_checks")
