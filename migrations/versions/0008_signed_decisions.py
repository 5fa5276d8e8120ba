"""enrolled keys and used statements: decisions are signed by enrolled people

`person_keys` holds each enrolled person's Ed25519 public key (private keys stay with the
people); `used_statements` the nonce of every signed statement that counted, so none counts
twice.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("enrolled_by", sa.String(length=100), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_person_keys")),
    )
    op.create_index(op.f("ix_person_keys_person"), "person_keys", ["person"], unique=False)
    op.create_table(
        "used_statements",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("person", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("use", sa.String(length=200), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_used_statements")),
    )


def downgrade() -> None:
    op.drop_table("used_statements")
    op.drop_index(op.f("ix_person_keys_person"), table_name="person_keys")
    op.drop_table("person_keys")
