"""track API intake: sources with their keys; behavior_events gain source, event id, received
time (indexed, for readers of recent events), properties and encrypted PII

Revision ID: 0011a
Revises: 0010
Create Date: 2026-12-03 19:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AT = sa.DateTime(timezone=True)

revision: str = "0011a"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "track_sources",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("auth", sa.String(length=8), nullable=False),
        sa.Column("secret_enc", sa.LargeBinary(), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", AT, nullable=False),
        sa.Column("revoked_by", sa.String(length=100), nullable=True),
        sa.Column("revoked_at", AT, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_track_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_track_sources_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_track_sources_token_hash")),
    )
    with op.batch_alter_table("behavior_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_id", ID, nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("received_at", AT, nullable=True))
        batch_op.add_column(sa.Column("properties", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("pii_enc", sa.LargeBinary(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_behavior_events_source_id"), ["source_id", "external_id"]
        )
        batch_op.create_index("ix_behavior_received", ["received_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("behavior_events", schema=None) as batch_op:
        batch_op.drop_index("ix_behavior_received")
        batch_op.drop_constraint(batch_op.f("uq_behavior_events_source_id"), type_="unique")
        batch_op.drop_column("pii_enc")
        batch_op.drop_column("properties")
        batch_op.drop_column("received_at")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source_id")
    op.drop_table("track_sources")
