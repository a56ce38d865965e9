"""index the state of posts still due, so the engine's by-state gauge reads only that index

`queue.counts_by_state` (every heartbeat, every 10 s) groups the rows with a `due_at` by state.
The `due_at` index finds those rows but holds no state, so every one of them was read from the
table: with a million posts scheduled ahead that took 2.7-4 s on SQLite, inline on the one
event loop of `masthead serve`, and a 0.4 s parallel sequential scan on PostgreSQL (bench
part 5). This partial index covers the query: 85-140 ms and 115-180 ms there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 22:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_posts_due_state",
            ["state"],
            unique=False,
            postgresql_where=sa.text("due_at IS NOT NULL"),
            sqlite_where=sa.text("due_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_posts_due_state",
            postgresql_where=sa.text("due_at IS NOT NULL"),
            sqlite_where=sa.text("due_at IS NOT NULL"),
        )
