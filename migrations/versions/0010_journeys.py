"""journeys: customer positions, step visits, A/B winners; planned sends name step and variant

Revision ID: 0010
Revises: 0009b
Create Date: 2026-12-03 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = sa.DateTime(timezone=True)

revision: str = "0010"
down_revision: str | None = "0009b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("planned_sends", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("variant", sa.String(length=16), nullable=True))
    op.create_table(
        "journey_positions",
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("due_at", AT, nullable=True),
        sa.Column("entered_at", AT, nullable=False),
        sa.Column("step_at", AT, nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id"),
    )
    op.create_index(
        "ix_journey_positions_due", "journey_positions", ["campaign_id", "state", "due_at"]
    )
    op.create_table(
        "journey_visits",
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("entered_at", AT, nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.PrimaryKeyConstraint("campaign_id", "step", "customer_id"),
    )
    op.create_table(
        "journey_winners",
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("step", sa.String(length=32), nullable=False),
        sa.Column("variant", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("decided_at", AT, nullable=False),
        sa.Column("rates", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "step"),
    )


def downgrade() -> None:
    op.drop_table("journey_winners")
    op.drop_table("journey_visits")
    op.drop_index("ix_journey_positions_due", table_name="journey_positions")
    op.drop_table("journey_positions")
    with op.batch_alter_table("planned_sends", schema=None) as batch_op:
        batch_op.drop_column("variant")
        batch_op.drop_column("step")
