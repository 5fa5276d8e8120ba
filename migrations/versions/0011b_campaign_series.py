"""recurring campaigns: series, signed decisions on each version, the ledger of runs

Revision ID: 0011b
Revises: 0011a
Create Date: 2026-12-03 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = sa.DateTime(timezone=True)
MONEY = sa.Numeric(14, 4)

revision: str = "0011b"
down_revision: str | None = "0011a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_series",
        sa.Column("id", sa.String(length=48), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("cron", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("approved_fingerprint", sa.String(length=16), nullable=True),
        sa.Column("run_budget", MONEY, nullable=False),
        sa.Column("total_budget", MONEY, nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("updated_at", AT, nullable=False),
        sa.Column("deleted_at", AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_series")),
    )
    op.create_table(
        "series_decisions",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("series_id", sa.String(length=48), nullable=False),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("approver", sa.String(length=100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("decided_at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["campaign_series.id"],
            name=op.f("fk_series_decisions_series_id_campaign_series"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series_decisions")),
        sa.UniqueConstraint(
            "series_id", "fingerprint", "approver", name=op.f("uq_series_decisions_series_id")
        ),
    )
    op.create_index(
        op.f("ix_series_decisions_series_id"), "series_decisions", ["series_id"], unique=False
    )
    op.create_table(
        "series_runs",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("series_id", sa.String(length=48), nullable=False),
        sa.Column("scheduled_at", AT, nullable=False),
        sa.Column("campaign_id", sa.String(length=80), nullable=True),
        sa.Column("fingerprint", sa.String(length=16), nullable=False),
        sa.Column("budget", MONEY, nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", AT, nullable=False),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["campaign_series.id"],
            name=op.f("fk_series_runs_series_id_campaign_series"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series_runs")),
        sa.UniqueConstraint("series_id", "scheduled_at", name=op.f("uq_series_runs_series_id")),
    )
    op.create_index(op.f("ix_series_runs_series_id"), "series_runs", ["series_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_series_runs_series_id"), table_name="series_runs")
    op.drop_table("series_runs")
    op.drop_index(op.f("ix_series_decisions_series_id"), table_name="series_decisions")
    op.drop_table("series_decisions")
    op.drop_table("campaign_series")
