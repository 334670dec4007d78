"""videos: timestamped moderation of video assets; archive area for decided originals

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "videos",
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("job_status", sa.String(length=16), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=False),
        sa.Column("video_metadata", sa.JSON(), nullable=False),
        sa.Column("frame_labels", sa.JSON(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("frames_decoded", sa.Integer(), nullable=False),
        sa.Column("frames_analyzed", sa.Integer(), nullable=False),
        sa.Column("decoded_until_ms", sa.Integer(), nullable=True),
        sa.Column("thumbnails", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.PrimaryKeyConstraint("asset_id"),
        sa.UniqueConstraint("job_id", name="ux_videos_job_id"),
    )
    with op.batch_alter_table("assets") as batch:
        batch.add_column(
            sa.Column("media_type", sa.String(length=16), nullable=False, server_default="image")
        )
        batch.add_column(sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("archived_from", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("decided_at")
        batch.drop_column("archived_from")
        batch.drop_column("archived_at")
        batch.drop_column("media_type")
    op.drop_table("videos")
