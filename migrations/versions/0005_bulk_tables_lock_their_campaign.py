"""audience members and planned sends: no per-row foreign key to campaigns

A campaign's audience (a million rows) and its planned sends are written by one statement
each; a foreign key checked and locked the same campaign row once per row, a third of each
write. The writers lock the campaign once instead (db.campaigns.lock_campaign); campaigns are
never deleted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:20:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BULK = ("audience_members", "planned_sends")


def upgrade() -> None:
    for table in BULK:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_campaign_id_campaigns", type_="foreignkey")


def downgrade() -> None:
    for table in BULK:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                f"fk_{table}_campaign_id_campaigns", "campaigns", ["campaign_id"], ["id"]
            )
