"""claim index in send order: (campaign, status, time, id)

A claim takes the next due sends ordered by time then id; with id in the index PostgreSQL walks
it in that order and stops at the batch size instead of sorting every due send per claim.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 16:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _due_index(columns: list[str]) -> None:
    with op.batch_alter_table("planned_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_planned_sends_due")
        batch_op.create_index("ix_planned_sends_due", columns, unique=False)


def upgrade() -> None:
    _due_index(["campaign_id", "status", "scheduled_at", "id"])


def downgrade() -> None:
    _due_index(["campaign_id", "status", "scheduled_at"])
