"""AWS compatibility: access keys, SNS topics, Rekognition jobs, SQS ingest dead letters

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aws_access_keys",
        sa.Column("access_key_id", sa.String(length=32), nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=False),
        sa.Column("api_key_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["api_key_id"], ["api_keys.id"]),
        sa.PrimaryKeyConstraint("access_key_id"),
    )
    op.create_index(
        "ix_aws_access_keys_api_key_id", "aws_access_keys", ["api_key_id"], unique=False
    )
    op.create_table(
        "sns_topics",
        sa.Column("arn", sa.String(length=300), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("arn"),
    )
    op.create_table(
        "rekognition_jobs",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("asset_id", sa.String(length=32), nullable=False),
        sa.Column("owner_key_id", sa.String(length=32), nullable=False),
        sa.Column("client_request_token", sa.String(length=64), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("job_tag", sa.String(length=256), nullable=True),
        sa.Column("min_confidence", sa.Float(), nullable=False),
        sa.Column("video", sa.JSON(), nullable=False),
        sa.Column("sns_topic_arn", sa.String(length=300), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.PrimaryKeyConstraint("job_id"),
    )
    op.create_index("ix_rekognition_jobs_asset_id", "rekognition_jobs", ["asset_id"], unique=False)
    op.create_index(
        "ux_rekognition_jobs_owner_token",
        "rekognition_jobs",
        ["owner_key_id", "client_request_token"],
        unique=True,
    )
    op.create_table(
        "ingest_dead_letters",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("queue_url", sa.String(length=2000), nullable=False),
        sa.Column("message_id", sa.String(length=128), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("receive_count", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("ingest_dead_letters")
    op.drop_index("ux_rekognition_jobs_owner_token", table_name="rekognition_jobs")
    op.drop_index("ix_rekognition_jobs_asset_id", table_name="rekognition_jobs")
    op.drop_table("rekognition_jobs")
    op.drop_table("sns_topics")
    op.drop_index("ix_aws_access_keys_api_key_id", table_name="aws_access_keys")
    op.drop_table("aws_access_keys")
