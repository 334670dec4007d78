"""model_version as text: seven detectors' names and versions outgrow 200 characters

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.alter_column(
            "model_version", existing_type=sa.String(200), type_=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("assets") as batch:
        batch.alter_column(
            "model_version", existing_type=sa.Text(), type_=sa.String(200), existing_nullable=False
        )
