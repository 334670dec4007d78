"""review at scale: QA flag and machine action as columns, a review-due flag, window indexes

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

WAITING = "('review', 'pending')"
DERIVED = "('first_pass', 'qa')"


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.add_column(
            sa.Column("qa_sample", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("machine_action", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("review_due", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    _backfill()
    op.create_index("ix_assets_created_action", "assets", ["created_at", "machine_action"])
    op.create_index(
        "ix_assets_review_due",
        "assets",
        ["id"],
        sqlite_where=sa.text("review_due = 1"),
        postgresql_where=sa.text("review_due = true"),
    )
    waiting = sa.text("state != 'done'")
    op.create_index(
        "ix_review_items_waiting",
        "review_items",
        ["queue", "created_at", "id"],
        sqlite_where=waiting,
        postgresql_where=waiting,
    )
    op.create_index("ix_review_items_decided_at", "review_items", ["decided_at"])
    op.create_index("ix_review_decisions_created_at", "review_decisions", ["created_at"])
    # Filled by the dashboard as it counts each settled day: nothing to backfill.
    op.create_table(
        "machine_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def _backfill() -> None:
    """Copy the flag and action out of the decision JSON, then mark every asset the old
    scan would have acted on: the next queue read opens (or supersedes) its items, with the
    REVIEW_DOUBLE_CATEGORIES setting this migration cannot see."""
    if op.get_bind().dialect.name == "postgresql":
        flag = "COALESCE((decision->>'qa_sample')::boolean, false)"
        action = "decision->>'action'"
    else:
        flag = "COALESCE(json_extract(decision, '$.qa_sample') = 1, 0)"
        action = "json_extract(decision, '$.action')"
    op.execute(f"UPDATE assets SET qa_sample = {flag}, machine_action = {action}")
    op.execute(
        "UPDATE assets SET review_due = true WHERE "
        f"((status IN {WAITING} OR qa_sample) AND status NOT IN ('processing', 'failed') "
        "AND NOT EXISTS (SELECT 1 FROM review_items i WHERE i.asset_id = assets.id "
        f"AND i.queue IN {DERIVED})) "
        f"OR (status NOT IN {WAITING} AND EXISTS (SELECT 1 FROM review_items i "
        "WHERE i.asset_id = assets.id AND i.queue = 'first_pass' AND i.state != 'done'))"
    )


def downgrade() -> None:
    # 0017 derives items from the decision JSON on every read: nothing is lost here.
    op.drop_table("machine_days")
    op.drop_index("ix_review_decisions_created_at", table_name="review_decisions")
    op.drop_index("ix_review_items_decided_at", table_name="review_items")
    op.drop_index("ix_review_items_waiting", table_name="review_items")
    op.drop_index("ix_assets_review_due", table_name="assets")
    op.drop_index("ix_assets_created_action", table_name="assets")
    with op.batch_alter_table("assets") as batch:
        batch.drop_column("review_due")
        batch.drop_column("machine_action")
        batch.drop_column("qa_sample")
