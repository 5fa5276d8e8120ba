"""impact assessments, the call whitelist and call evidence

`impact_assessments` holds the approved personal-information impact assessments campaigns cite
(CN-27); `call_whitelist` the numbers marketing calls may go to and `call_evidence` one row per
reported call (CN-11).

Revision ID: 0009b
Revises: 0009a
Create Date: 2026-12-03 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009b"
down_revision: str | None = "0009a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "impact_assessments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_impact_assessments")),
    )
    op.create_table(
        "call_whitelist",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("consent_event_id", ID, nullable=False),
        sa.Column("added_by", sa.String(length=100), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_whitelist")),
        sa.UniqueConstraint("phone_index", name=op.f("uq_call_whitelist_phone_index")),
    )
    op.create_table(
        "call_evidence",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("planned_send_id", ID, nullable=False),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("customer_id", ID, nullable=False),
        sa.Column("caller", sa.String(length=32), nullable=True),
        sa.Column("callee_enc", sa.LargeBinary(), nullable=True),
        sa.Column("consent_event_id", ID, nullable=True),
        sa.Column("recording_ref", sa.String(length=256), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_evidence")),
        sa.UniqueConstraint("planned_send_id", name=op.f("uq_call_evidence_planned_send_id")),
    )
    op.create_index("ix_call_evidence_called_at", "call_evidence", ["called_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_call_evidence_called_at", table_name="call_evidence")
    op.drop_table("call_evidence")
    op.drop_table("call_whitelist")
    op.drop_table("impact_assessments")
