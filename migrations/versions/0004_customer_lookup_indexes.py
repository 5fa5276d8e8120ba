"""customer lookup indexes: hash indexes for equality-only keys, erased customers by retailer id

Blind indexes (phone, email) and device ids are only ever looked up by equality. On PostgreSQL
their B-tree indexes held every 64-character key in a deep tree that each imported customer
entered at a random leaf; hash indexes keep a 4-byte hash code per row in one bucket. SQLite
has no hash indexes and keeps its B-trees. An import also checks every customer row against
the erased customers (their data is not taken in again): a partial index holds just those few.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 20:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EQUALITY_KEYS = ("phone_index", "email_index", "device_id")
ERASED = sa.text("erased_at IS NOT NULL")


def _rebuild(using: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in EQUALITY_KEYS:
        op.drop_index(f"ix_customers_{column}", table_name="customers")
        op.create_index(
            f"ix_customers_{column}", "customers", [column], unique=False, postgresql_using=using
        )


def upgrade() -> None:
    _rebuild("hash")
    op.create_index(
        "ix_customers_erased",
        "customers",
        ["external_id"],
        unique=False,
        postgresql_where=ERASED,
        sqlite_where=ERASED,
    )


def downgrade() -> None:
    op.drop_index("ix_customers_erased", table_name="customers")
    _rebuild("btree")
