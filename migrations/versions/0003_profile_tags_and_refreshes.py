"""profile data tags as columns; profile refreshes recorded once; no per-event run check

A refresh rewrote some four million tag rows for a million customers; as profile columns the
data tags come with the profile row. customer_tags keeps the manual tags. A profile's as-of
time moves to profile_refreshes, so a refresh rewrites only the profiles whose values moved.
imported_event_keys.run_id is provenance; its foreign key cost a check per imported event.

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

TAGS = ("tag_age", "tag_power", "tag_category", "tag_channel", "tag_active")
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FK_EVENT_KEY_RUN = "fk_imported_event_keys_run_id_import_runs"


def upgrade() -> None:
    op.create_table(
        "profile_refreshes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("profiles", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_profile_refreshes")),
    )
    op.execute(
        "INSERT INTO profile_refreshes (as_of, profiles, changed, refreshed_at) "
        "SELECT max(as_of), count(*), count(*), max(as_of) FROM customer_profiles "
        "HAVING count(*) > 0"
    )
    with op.batch_alter_table("customer_profiles", schema=None) as batch_op:
        batch_op.drop_column("as_of")
        for name in TAGS:
            batch_op.add_column(sa.Column(name, sa.String(length=64), nullable=True))
    op.execute("DELETE FROM customer_tags WHERE source = 'data'")
    with op.batch_alter_table("imported_event_keys", schema=None) as batch_op:
        batch_op.drop_constraint(FK_EVENT_KEY_RUN, type_="foreignkey")


def downgrade() -> None:
    """Profiles take the latest refresh's time; data tags come back as rows at the next
    refresh by the code of that revision."""
    with op.batch_alter_table("customer_profiles", schema=None) as batch_op:
        for name in TAGS:
            batch_op.drop_column(name)
        batch_op.add_column(sa.Column("as_of", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE customer_profiles SET as_of = (SELECT max(as_of) FROM profile_refreshes)")
    with op.batch_alter_table("customer_profiles", schema=None) as batch_op:
        batch_op.alter_column("as_of", existing_type=sa.DateTime(timezone=True), nullable=False)
    op.drop_table("profile_refreshes")
    with op.batch_alter_table("imported_event_keys", schema=None) as batch_op:
        batch_op.create_foreign_key(FK_EVENT_KEY_RUN, "import_runs", ["run_id"], ["id"])
