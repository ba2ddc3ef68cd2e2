"""Metric samples of runs and alert events (firings of alert rules, with their cooldown).

Revision ID: 0002_metrics
Revises: 0001
Create Date: 2026-11-28 11:22:19.978332
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002_metrics"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen copies of the types in `store/tables.py` (a migration must not change with them).
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_events",
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("alert_id", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", TIMESTAMP, nullable=False),
        sa.Column("resolved_at", TIMESTAMP, nullable=True),
        sa.Column("notified_at", TIMESTAMP, nullable=True),
        sa.Column("deliveries", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["alert_id"], ["alert_rules.alert_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("event_id"),
    )
    op.create_index("ix_alert_events_rule_subject", "alert_events", ["alert_id", "subject"])
    op.create_table(
        "metric_samples",
        sa.Column("sample_id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("execution_id", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", TIMESTAMP, nullable=False),
        sa.Column("elapsed_seconds", sa.Double(), nullable=False),
        sa.Column("records_read", sa.BigInteger(), nullable=False),
        sa.Column("records_written", sa.BigInteger(), nullable=False),
        sa.Column("records_filtered", sa.BigInteger(), nullable=False),
        sa.Column("records_failed", sa.BigInteger(), nullable=False),
        sa.Column("bytes_read", sa.BigInteger(), nullable=False),
        sa.Column("batches", sa.Double(), nullable=False),
        sa.Column("batch_seconds", sa.Double(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["execution_id"], ["executions.execution_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.job_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("sample_id"),
    )
    op.create_index("ix_metric_samples_execution_id", "metric_samples", ["execution_id"])
    op.create_index("ix_metric_samples_job_time", "metric_samples", ["job_id", "recorded_at"])


def downgrade() -> None:
    op.drop_table("metric_samples")
    op.drop_table("alert_events")
