"""sign-in events: every console sign-in attempt's outcome, and lockouts counted from them

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Starts empty: the lockouts 0018 kept in each process's memory are not carried over.
    op.create_table(
        "sign_in_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_sign_in_events_user_address_at", "sign_in_events", ["username", "address", "at"]
    )
    op.create_index("ix_sign_in_events_address_at", "sign_in_events", ["address", "at"])
    op.create_index("ix_sign_in_events_at", "sign_in_events", ["at"])


def downgrade() -> None:
    # 0018 keeps lockouts in memory: dropping the history loses only the audit rows.
    op.drop_index("ix_sign_in_events_at", table_name="sign_in_events")
    op.drop_index("ix_sign_in_events_address_at", table_name="sign_in_events")
    op.drop_index("ix_sign_in_events_user_address_at", table_name="sign_in_events")
    op.drop_table("sign_in_events")
