"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 11:43:59.863013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("campaign_id", sa.String(length=80), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("objective", sa.String(length=16), nullable=False),
        sa.Column("owner", sa.String(length=100), nullable=False),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("phase", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("budget_limit", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("spent", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "channel_holds",
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "channel", name=op.f("pk_channel_holds")),
    )
    op.create_table(
        "customer_profiles",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=True),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("r_score", sa.Integer(), nullable=True),
        sa.Column("f_score", sa.Integer(), nullable=True),
        sa.Column("m_score", sa.Integer(), nullable=True),
        sa.Column("segment", sa.String(length=32), nullable=True),
        sa.Column("lifecycle", sa.String(length=16), nullable=False),
        sa.Column("best_hour", sa.Integer(), nullable=True),
        sa.Column("preferred_channel", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_profiles")),
    )
    op.create_table(
        "customer_tags",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("tag", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "tag", name=op.f("pk_customer_tags")),
    )
    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.create_index("ix_customer_tags_tag", ["tag"], unique=False)

    op.create_table(
        "customers",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("name_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("email_enc", sa.LargeBinary(), nullable=True),
        sa.Column("address_enc", sa.LargeBinary(), nullable=True),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("email_index", sa.String(length=64), nullable=True),
        sa.Column("device_id", sa.String(length=128), nullable=True),
        sa.Column("wechat_openid", sa.String(length=128), nullable=True),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("birth_year", sa.Integer(), nullable=True),
        sa.Column("city", sa.String(length=64), nullable=True),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("member_level", sa.String(length=32), nullable=True),
        sa.Column("home_store", sa.String(length=64), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("external_id", name=op.f("uq_customers_external_id")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customers_device_id"), ["device_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_email_index"), ["email_index"], unique=False)
        batch_op.create_index(batch_op.f("ix_customers_phone_index"), ["phone_index"], unique=False)
        batch_op.create_index("ix_customers_wechat_openid", ["wechat_openid"], unique=False)

    op.create_table(
        "import_runs",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("flagged", sa.Integer(), nullable=False),
        sa.Column("merged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_runs")),
    )
    op.create_table(
        "message_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("dedupe_key", sa.String(length=64), nullable=False),
        sa.Column("event_type", sa.String(length=24), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=80), nullable=True),
        sa.Column(
            "planned_send_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_events")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_message_events_dedupe_key")),
    )
    with op.batch_alter_table("message_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_message_events_customer", ["customer_id", "occurred_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_message_events_planned_send_id"), ["planned_send_id"], unique=False
        )
        batch_op.create_index(
            "ix_message_events_summary", ["campaign_id", "channel", "event_type"], unique=False
        )

    op.create_table(
        "sandbox_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("address_enc", sa.LargeBinary(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_sandbox_outbox_idempotency_key")),
    )
    with op.batch_alter_table("sandbox_outbox", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_outbox_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "subscription_quota_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("change", sa.Integer(), nullable=True),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_quota_events")),
        sa.UniqueConstraint("source_key", name=op.f("uq_subscription_quota_events_source_key")),
    )
    with op.batch_alter_table("subscription_quota_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subscription_quota_events_pair",
            ["customer_id", "channel", "template", "at"],
            unique=False,
        )

    op.create_table(
        "suppressions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("address_index", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppressions")),
    )
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_suppressions_address_index"), ["address_index"], unique=False
        )

    op.create_table(
        "user_roles",
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("granted_by", sa.String(length=100), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("user", "role", name=op.f("pk_user_roles")),
    )
    op.create_table(
        "approvals",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=False),
        sa.Column("approver", sa.String(length=100), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_approvals_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
        sa.UniqueConstraint(
            "campaign_id", "approver", "decision", name=op.f("uq_approvals_campaign_id")
        ),
    )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approvals_campaign_id"), ["campaign_id"], unique=False)

    op.create_table(
        "audience_members",
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("holdout", sa.Boolean(), nullable=False),
        sa.Column("segment", sa.String(length=32), nullable=True),
        sa.Column("excluded_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_audience_members_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_audience_members")),
    )
    op.create_table(
        "behavior_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_behavior_events_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_behavior_events")),
    )
    with op.batch_alter_table("behavior_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_behavior_customer_time", ["customer_id", "occurred_at"], unique=False
        )
        batch_op.create_index("ix_behavior_type_time", ["event_type", "occurred_at"], unique=False)

    op.create_table(
        "broadcast_lines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("line", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("planned_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_broadcast_lines_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_lines")),
        sa.UniqueConstraint("campaign_id", "line", name=op.f("uq_broadcast_lines_campaign_id")),
    )
    op.create_table(
        "broadcast_results",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("line", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "impressions", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("clicks", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("visits", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("leads", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("revenue", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_broadcast_results_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_results")),
        sa.UniqueConstraint(
            "campaign_id", "line", "day", name=op.f("uq_broadcast_results_campaign_id")
        ),
    )
    op.create_table(
        "campaign_reports",
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_reports_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "kind", name=op.f("pk_campaign_reports")),
    )
    op.create_table(
        "compliance_findings",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("rule_id", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("blocked", sa.Text(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_compliance_findings_campaign_id_campaigns"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_findings")),
    )
    with op.batch_alter_table("compliance_findings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compliance_findings_campaign_id"), ["campaign_id"], unique=False
        )

    op.create_table(
        "consent_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("wording_version", sa.String(length=32), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_consent_events_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_events")),
    )
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consent_events_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(
            "ix_consent_events_lookup", ["customer_id", "channel", "purpose", "id"], unique=False
        )

    op.create_table(
        "customer_aliases",
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_aliases_customer_id_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_customer_aliases_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("external_id", name=op.f("pk_customer_aliases")),
    )
    with op.batch_alter_table("customer_aliases", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_aliases_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "customer_merges",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "survivor_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "merged_customer_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        ),
        sa.Column("merged_external_id", sa.String(length=64), nullable=False),
        sa.Column("matched_on", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("merged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_customer_merges_run_id_import_runs")
        ),
        sa.ForeignKeyConstraint(
            ["survivor_id"], ["customers.id"], name=op.f("fk_customer_merges_survivor_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_merges")),
    )
    with op.batch_alter_table("customer_merges", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_merges_survivor_id"), ["survivor_id"], unique=False
        )

    op.create_table(
        "import_flags",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("code", sa.String(length=48), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_import_flags_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_import_flags_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_flags")),
        sa.UniqueConstraint("kind", "record_key", "code", name=op.f("uq_import_flags_kind")),
    )
    with op.batch_alter_table("import_flags", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_flags_customer_id"), ["customer_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_import_flags_run_id"), ["run_id"], unique=False)

    op.create_table(
        "imported_event_keys",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("run_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["import_runs.id"], name=op.f("fk_imported_event_keys_run_id_import_runs")
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_imported_event_keys")),
    )
    op.create_table(
        "orders",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("ordered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=True),
        sa.Column("store", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_orders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
        sa.UniqueConstraint("external_id", name=op.f("uq_orders_external_id")),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index(
            "ix_orders_customer_time", ["customer_id", "ordered_at"], unique=False
        )

    op.create_table(
        "planned_sends",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaigns.id"], name=op.f("fk_planned_sends_campaign_id_campaigns")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_planned_sends")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_planned_sends_idempotency_key")),
    )
    with op.batch_alter_table("planned_sends", schema=None) as batch_op:
        batch_op.create_index("ix_planned_sends_customer", ["customer_id"], unique=False)
        batch_op.create_index(
            "ix_planned_sends_due", ["campaign_id", "status", "scheduled_at"], unique=False
        )

    op.create_table(
        "subscription_quota",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "remaining >= 0", name=op.f("ck_subscription_quota_remaining_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_subscription_quota_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint(
            "customer_id", "channel", "template", name=op.f("pk_subscription_quota")
        ),
    )
    op.create_table(
        "contact_ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column(
            "planned_send_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contact_ledger_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["planned_send_id"],
            ["planned_sends.id"],
            name=op.f("fk_contact_ledger_planned_send_id_planned_sends"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_ledger")),
        sa.UniqueConstraint("planned_send_id", name=op.f("uq_contact_ledger_planned_send_id")),
    )
    with op.batch_alter_table("contact_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_contact_ledger_customer_at", ["customer_id", "at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column(
            "planned_send_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("campaign_id", sa.String(length=80), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("cost", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["planned_send_id"],
            ["planned_sends.id"],
            name=op.f("fk_deliveries_planned_send_id_planned_sends"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("planned_send_id", name=op.f("uq_deliveries_planned_send_id")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deliveries_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            "ix_deliveries_customer_time", ["customer_id", "sent_at"], unique=False
        )
        batch_op.create_index(
            "ix_deliveries_provider_message_id", ["provider_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_provider_message_id")
        batch_op.drop_index("ix_deliveries_customer_time")
        batch_op.drop_index(batch_op.f("ix_deliveries_campaign_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("contact_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_ledger_customer_at")

    op.drop_table("contact_ledger")
    op.drop_table("subscription_quota")
    with op.batch_alter_table("planned_sends", schema=None) as batch_op:
        batch_op.drop_index("ix_planned_sends_due")
        batch_op.drop_index("ix_planned_sends_customer")

    op.drop_table("planned_sends")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_customer_time")

    op.drop_table("orders")
    op.drop_table("imported_event_keys")
    with op.batch_alter_table("import_flags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_flags_run_id"))
        batch_op.drop_index(batch_op.f("ix_import_flags_customer_id"))

    op.drop_table("import_flags")
    with op.batch_alter_table("customer_merges", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_merges_survivor_id"))

    op.drop_table("customer_merges")
    with op.batch_alter_table("customer_aliases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_aliases_customer_id"))

    op.drop_table("customer_aliases")
    with op.batch_alter_table("consent_events", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_events_lookup")
        batch_op.drop_index(batch_op.f("ix_consent_events_customer_id"))

    op.drop_table("consent_events")
    with op.batch_alter_table("compliance_findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compliance_findings_campaign_id"))

    op.drop_table("compliance_findings")
    op.drop_table("campaign_reports")
    op.drop_table("broadcast_results")
    op.drop_table("broadcast_lines")
    with op.batch_alter_table("behavior_events", schema=None) as batch_op:
        batch_op.drop_index("ix_behavior_type_time")
        batch_op.drop_index("ix_behavior_customer_time")

    op.drop_table("behavior_events")
    op.drop_table("audience_members")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approvals_campaign_id"))

    op.drop_table("approvals")
    op.drop_table("user_roles")
    with op.batch_alter_table("suppressions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suppressions_address_index"))

    op.drop_table("suppressions")
    with op.batch_alter_table("subscription_quota_events", schema=None) as batch_op:
        batch_op.drop_index("ix_subscription_quota_events_pair")

    op.drop_table("subscription_quota_events")
    with op.batch_alter_table("sandbox_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_outbox_campaign_id"))

    op.drop_table("sandbox_outbox")
    with op.batch_alter_table("message_events", schema=None) as batch_op:
        batch_op.drop_index("ix_message_events_summary")
        batch_op.drop_index(batch_op.f("ix_message_events_planned_send_id"))
        batch_op.drop_index("ix_message_events_customer")

    op.drop_table("message_events")
    op.drop_table("import_runs")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_wechat_openid")
        batch_op.drop_index(batch_op.f("ix_customers_phone_index"))
        batch_op.drop_index(batch_op.f("ix_customers_email_index"))
        batch_op.drop_index(batch_op.f("ix_customers_device_id"))

    op.drop_table("customers")
    with op.batch_alter_table("customer_tags", schema=None) as batch_op:
        batch_op.drop_index("ix_customer_tags_tag")

    op.drop_table("customer_tags")
    op.drop_table("customer_profiles")
    op.drop_table("channel_holds")
    op.drop_table("campaigns")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_campaign_id"))

    op.drop_table("audit_log")
