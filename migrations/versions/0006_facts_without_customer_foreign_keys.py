"""orders and behavior events: no per-row foreign key to customers

Millions of them arrive by import only; the foreign key checked and key-share locked a
customer row for every one, a quarter to a third of their database time. Imports hold the
customer-import lock instead (ingest/run.py): customer imports, whose merges are the only
deletes of customers, take it alone, the others share it, so no row can point at a customer
a merge removed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 22:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = ("orders", "behavior_events")


def upgrade() -> None:
    for table in FACTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_customer_id_customers", type_="foreignkey")


def downgrade() -> None:
    for table in FACTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                f"fk_{table}_customer_id_customers", "customers", ["customer_id"], ["id"]
            )
