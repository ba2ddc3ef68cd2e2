"""The scheduler's state of each job: its webhook trigger token and the last due time dealt
with (design doc §5.4).

Revision ID: 0003_schedules
Revises: 0002_metrics
Create Date: 2026-11-28 11:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0003_schedules"
down_revision: str | None = "0002_metrics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A frozen copy of the timestamp type in `store/tables.py`.
TIMESTAMP = sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "job_schedules",
        sa.Column("job_id", sa.String(length=64), nullable=False),
        sa.Column("trigger_token", sa.String(length=64), nullable=False),
        sa.Column("last_due_at", TIMESTAMP, nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["jobs.job_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id"),
        sa.UniqueConstraint("trigger_token"),
    )


def downgrade() -> None:
    op.drop_table("job_schedules")
