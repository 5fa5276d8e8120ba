"""index of erased customers by retailer id

An import checks every customer row against the erased customers (their data is not taken in
again); a partial index holds just those few, so the check no longer probes the whole table.

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

ERASED = sa.text("erased_at IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_customers_erased", "customers", ["external_id"], unique=False,
                    postgresql_where=ERASED, sqlite_where=ERASED)


def downgrade() -> None:
    op.drop_index("ix_customers_erased", table_name="customers")
