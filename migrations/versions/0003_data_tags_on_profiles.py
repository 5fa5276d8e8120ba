"""data tags on profiles: one column per kind instead of rows in customer_tags

A refresh rewrote some four million tag rows for a million customers; as profile columns the
data tags come with the profile row it writes anyway. customer_tags keeps the manual tags.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("tag_age", "tag_power", "tag_category", "tag_channel", "tag_active")


def upgrade() -> None:
    with op.batch_alter_table("customer_profiles", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=64), nullable=True))
    op.execute("DELETE FROM customer_tags WHERE source = 'data'")


def downgrade() -> None:
    """Data tags come back as rows at the next profile refresh."""
    with op.batch_alter_table("customer_profiles", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.drop_column(name)
