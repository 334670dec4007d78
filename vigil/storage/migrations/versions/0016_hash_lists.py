"""hash lists: PDQ hashes with each asset, named lists of hashes, a change counter

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.add_column(sa.Column("pdq", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("pdq_quality", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("pdq_content", sa.String(length=64), nullable=True))
    lists = op.create_table(
        "hash_lists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("builtin", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "hash_list_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("pdq", sa.String(length=64), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("source_asset_id", sa.String(length=32), nullable=True),
        sa.Column("added_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["list_id"], ["hash_lists.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_hash_list_items_list_pdq", "hash_list_items", ["list_id", "pdq"], unique=True
    )
    op.create_index("ix_hash_list_items_pdq", "hash_list_items", ["pdq"])
    state = op.create_table(
        "hash_list_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("removals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.bulk_insert(state, [{"id": 1, "version": 0, "removals": 0}])
    # The built-in lists people's decisions fill; their action and distance follow settings.
    now = datetime.now(UTC)
    builtin = {"label": "Known Content", "builtin": True, "created_by": "system"}
    op.bulk_insert(
        lists,
        [
            {
                "name": "rejected",
                "action": "block",
                "distance": 31,
                "description": "PDQ hashes of assets a person rejected.",
                "created_at": now,
                "updated_at": now,
                **builtin,
            },
            {
                "name": "approved",
                "action": "allow",
                "distance": 10,
                "description": "PDQ hashes of assets a person approved after an automatic "
                "block; a copy is exempt from the overturned category only.",
                "created_at": now,
                "updated_at": now,
                **builtin,
            },
        ],
    )


def downgrade() -> None:
    op.drop_table("hash_list_state")
    op.drop_index("ix_hash_list_items_pdq", table_name="hash_list_items")
    op.drop_index("ux_hash_list_items_list_pdq", table_name="hash_list_items")
    op.drop_table("hash_list_items")
    op.drop_table("hash_lists")
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("pdq_content")
        batch.drop_column("pdq_quality")
        batch.drop_column("pdq")
