"""moderation steps

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("moderation_steps", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        # Cloudinary strings (aws_rek:explicit_nudity:0.7|manual) outgrow 16 characters.
        batch_op.alter_column(
            "moderation_mode",
            existing_type=sa.String(length=16),
            type_=sa.String(length=500),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("assets", schema=None) as batch_op:
        batch_op.alter_column(
            "moderation_mode",
            existing_type=sa.String(length=500),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch_op.drop_column("moderation_steps")
