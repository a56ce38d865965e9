"""comments: one row per platform comment (inbound and outbound, outbound ones also queued
for dispatch), when each published post is next polled for comments, and post items by
their platform id (comment webhooks name it)

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03 21:45:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from masthead.store.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

DUE = sa.text("due_at IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column(
            "account_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.Column("platform_comment_id", sa.String(length=300), nullable=True),
        sa.Column("is_author", sa.Boolean(), nullable=False),
        sa.Column("first_comment", sa.Boolean(), nullable=False),
        sa.Column("author_id", sa.String(length=300), nullable=True),
        sa.Column("author_username", sa.String(length=300), nullable=True),
        sa.Column("author_name", sa.String(length=300), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error_code", sa.Integer(), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("due_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True),
        sa.Column("sending_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_comments_user_id_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_comments_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["post_id"], ["posts.id"], name=op.f("fk_comments_post_id_posts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["comments.id"],
            name=op.f("fk_comments_parent_id_comments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_comments")),
        sa.UniqueConstraint(
            "account_id",
            "platform_comment_id",
            name=op.f("uq_comments_account_id_platform_comment_id"),
        ),
    )
    op.create_index(op.f("ix_comments_parent_id"), "comments", ["parent_id"])
    op.create_index("ix_comments_user_created", "comments", ["user_id", "created_at"])
    op.create_index("ix_comments_post_created", "comments", ["post_id", "created_at"])
    op.create_index("ix_comments_created", "comments", ["created_at"])
    op.create_index(
        "ix_comments_due", "comments", ["due_at"], postgresql_where=DUE, sqlite_where=DUE
    )
    op.create_table(
        "comment_polls",
        sa.Column("post_id", sa.String(length=36), nullable=False),
        sa.Column("published_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_poll_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_polled_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["post_id"],
            ["posts.id"],
            name=op.f("fk_comment_polls_post_id_posts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("post_id", name=op.f("pk_comment_polls")),
    )
    op.create_index("ix_comment_polls_next", "comment_polls", ["next_poll_at"])
    # Posts published before comments existed are polled too, within the retention window
    # (the platforms with comments in this release).
    now = datetime.now(UTC)
    op.execute(
        sa.text(
            "INSERT INTO comment_polls (post_id, published_at, next_poll_at) "
            "SELECT id, finished_at, :now FROM posts WHERE state = 'published' "
            "AND platform IN ('instagram', 'facebook') AND finished_at > :since"
        ).bindparams(
            sa.bindparam("now", now, type_=UTCDateTime()),
            sa.bindparam("since", now - timedelta(days=45), type_=UTCDateTime()),
        )
    )
    # A comment webhook names the platform's post id.
    op.create_index("ix_post_items_remote_id", "post_items", ["remote_id"])


def downgrade() -> None:
    op.drop_index("ix_post_items_remote_id", table_name="post_items")
    op.drop_table("comment_polls")
    op.drop_table("comments")
