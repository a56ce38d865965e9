"""media blobs, variants, user media and presigned uploads

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 19:01:37.420163
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import masthead.store.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_blobs",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("duration", sa.Float(), nullable=True),
        sa.Column("frame_rate", sa.Float(), nullable=True),
        sa.Column("frames", sa.Integer(), nullable=True),
        sa.Column("video_codec", sa.String(length=64), nullable=True),
        sa.Column("audio_codec", sa.String(length=64), nullable=True),
        sa.Column("created_at", masthead.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_media_blobs")),
    )
    op.create_table(
        "media",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", masthead.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"], ["media_blobs.sha256"], name=op.f("fk_media_sha256_media_blobs")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_media_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media")),
    )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_sha256"), ["sha256"], unique=False)
        batch_op.create_index("ix_media_user_source", ["user_id", "source_digest"], unique=False)

    op.create_table(
        "media_variants",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("recipe", sa.String(length=64), nullable=False),
        sa.Column("variant_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["sha256"],
            ["media_blobs.sha256"],
            name=op.f("fk_media_variants_sha256_media_blobs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["variant_sha256"],
            ["media_blobs.sha256"],
            name=op.f("fk_media_variants_variant_sha256_media_blobs"),
        ),
        sa.PrimaryKeyConstraint("sha256", "recipe", name=op.f("pk_media_variants")),
    )
    op.create_table(
        "media_uploads",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("expires_at", masthead.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", masthead.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("media_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", masthead.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_media_uploads_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_media_uploads_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_uploads")),
    )
    with op.batch_alter_table("media_uploads", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_uploads_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media_uploads", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_uploads_user_id"))

    op.drop_table("media_uploads")
    op.drop_table("media_variants")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_index("ix_media_user_source")
        batch_op.drop_index(batch_op.f("ix_media_sha256"))

    op.drop_table("media")
    op.drop_table("media_blobs")
