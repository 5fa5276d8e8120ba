"""campaigns carry a send halt

`campaigns.send_halt` (`pause` or `cancel`) is set by the workflow the moment an operator pauses
or cancels, read by every send pass before each provider call, so sends in flight stop within
seconds on any worker.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 19:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("send_halt", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("send_halt")
