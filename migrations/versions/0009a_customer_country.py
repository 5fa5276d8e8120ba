"""customers.country: where a customer lives, so rules apply per customer by country

ISO 3166 alpha-2, derived at import from the phone's country code or the address; NULL when
neither tells (the compliance configuration's default jurisdiction then applies).

Revision ID: 0009a
Revises: 0008
Create Date: 2026-12-03 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009a"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("customers", sa.Column("country", sa.String(length=2), nullable=True))


def downgrade() -> None:
    op.drop_column("customers", "country")
