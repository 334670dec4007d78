"""keys: expiry, last use, grants and rotation of API keys; expiry of AWS pairs; key audit

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
        # Existing keys get no grant: moderation=none needs one from now on (docs/upgrading.md).
        batch.add_column(
            sa.Column("grants", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch.add_column(sa.Column("previous_key_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("previous_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_api_keys_previous_key_hash", ["previous_key_hash"], unique=True)
    with op.batch_alter_table("aws_access_keys") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "api_key_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_api_key_events_key_id", "api_key_events", ["key_id"])


def downgrade() -> None:
    # 0016 knows no expiry: keys already expired would work again, so they are revoked, and
    # pairs a rotation replaced are deleted (their overlap ends now, as does an old API key
    # secret's with its column). Keys that expire later keep working, without an expiry.
    op.execute(
        "UPDATE api_keys SET revoked_at = expires_at WHERE revoked_at IS NULL "
        "AND expires_at IS NOT NULL AND expires_at <= CURRENT_TIMESTAMP"
    )
    op.execute("DELETE FROM aws_access_keys WHERE expires_at IS NOT NULL")
    op.drop_index("ix_api_key_events_key_id", table_name="api_key_events")
    op.drop_table("api_key_events")
    with op.batch_alter_table("aws_access_keys") as batch:
        batch.drop_column("expires_at")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_index("ix_api_keys_previous_key_hash")
        batch.drop_column("previous_expires_at")
        batch.drop_column("previous_key_hash")
        batch.drop_column("grants")
        batch.drop_column("last_used_at")
        batch.drop_column("expires_at")
