"""SQLAlchemy 2 tables. PII columns hold ciphertext (`*_enc`) and keyed hashes (`*_index`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(14, 4)
DEFAULT_ZONE = "Asia/Shanghai"  # a customer's time zone when the retailer gave none


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every model maps one table (none maps a join), so `Model.__table__` is typed as the Table
    # the bulk helpers take, not SQLAlchemy's general FromClause.
    __table__: ClassVar[Table]


class Customer(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    email_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    address_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str | None] = mapped_column(String(64))
    email_index: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(128))
    wechat_openid: Mapped[str | None] = mapped_column(String(128))
    gender: Mapped[str | None] = mapped_column(String(8))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    city: Mapped[str | None] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64))
    member_level: Mapped[str | None] = mapped_column(String(32))
    home_store: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_ZONE)
    # ISO 3166 alpha-2, from the phone's country code or the address (ingest.country); None:
    # unknown, the compliance configuration's default jurisdiction applies
    country: Mapped[str | None] = mapped_column(String(2))
    registered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Blind indexes and device ids are only ever looked up by equality: on PostgreSQL a hash
    # index keeps a 4-byte hash code per row, not the 64-character key, and an insert lands in
    # one bucket instead of a random leaf of a deep tree. The few erased customers by retailer
    # id have an index of their own: an import checks each row against them.
    __table_args__ = (
        *(
            Index(f"ix_customers_{c}", c, postgresql_using="hash")
            for c in ("phone_index", "email_index", "device_id")
        ),
        Index(
            "ix_customers_erased",
            "external_id",
            postgresql_where=text("erased_at IS NOT NULL"),
            sqlite_where=text("erased_at IS NOT NULL"),
        ),
    )


class ConsentEvent(Base):
    """Append-only consent ledger; the current state is the latest event per key."""

    __tablename__ = "consent_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(16), default="marketing")
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(64))
    wording_version: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_consent_events_lookup", "customer_id", "channel", "purpose", "id"),)


class Suppression(Base):
    """Addresses that must never be contacted again (opt-outs that outlive erasure)."""

    __tablename__ = "suppressions"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    address_index: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    # Written only by imports, which hold the customer-import lock (ingest/run.py) instead of a
    # per-row foreign key check: no merge deletes a customer while they run.
    customer_id: Mapped[int] = mapped_column(Id)
    ordered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    category: Mapped[str | None] = mapped_column(String(64))
    store: Mapped[str | None] = mapped_column(String(64))
    __table_args__ = (Index("ix_orders_customer_time", "customer_id", "ordered_at"),)


class BehaviorEvent(Base):
    __tablename__ = "behavior_events"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    customer_id: Mapped[int] = mapped_column(Id)  # as orders.customer_id: no per-row FK check
    event_type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str | None] = mapped_column(String(32))
    # Events from the track API (track/): the source that sent it and the source's event id
    # (unique together: a re-sent event is a duplicate), when it was received (the start of the
    # storing transaction: a reader of recent events keeps a window of the longest one), its
    # properties without PII, and the PII ones encrypted. File imports leave these empty.
    source_id: Mapped[int | None] = mapped_column(Id)
    external_id: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    properties: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    pii_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    __table_args__ = (
        Index("ix_behavior_customer_time", "customer_id", "occurred_at"),
        Index("ix_behavior_type_time", "event_type", "occurred_at"),
        Index("ix_behavior_received", "received_at"),
        UniqueConstraint("source_id", "external_id"),
    )


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    objective: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(100))
    requested_by: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    phase: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    budget_limit: Mapped[Decimal] = mapped_column(Money)
    spent: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # "pause" or "cancel" while an operator has stopped sending: send passes stop at once
    send_halt: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AudienceMember(Base):
    __tablename__ = "audience_members"
    # Bulk, derived rows: no per-row FK checks. The writer locks its campaign once
    # (db.campaigns.lock_campaign); a merge moves them off a deleted customer (ingest/repoint.py).
    campaign_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    customer_id: Mapped[int] = mapped_column(Id, primary_key=True)
    holdout: Mapped[bool] = mapped_column(Boolean)
    segment: Mapped[str | None] = mapped_column(String(32))
    excluded_reason: Mapped[str | None] = mapped_column(String(64))


class PlannedSend(Base):
    """One planned contact: who, which channel, when. Status moves planned → sending → final."""

    __tablename__ = "planned_sends"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    # Bulk rows: no per-row FK checks; the planner locks the campaign once (lock_campaign).
    campaign_id: Mapped[str] = mapped_column(String(80))
    customer_id: Mapped[int] = mapped_column(Id)
    channel: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(64))
    scheduled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    unit_cost: Mapped[Decimal] = mapped_column(Money)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    reason: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # A journey's send step and A/B variant (none for a one-step campaign): they pick the copy.
    step: Mapped[str | None] = mapped_column(String(32))
    variant: Mapped[str | None] = mapped_column(String(16))
    __table_args__ = (
        Index("ix_planned_sends_due", "campaign_id", "status", "scheduled_at", "id"),
        Index("ix_planned_sends_customer", "customer_id"),
    )


class Delivery(Base):
    """A made send: the provider's final answer, one row per idempotency key."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    planned_send_id: Mapped[int] = mapped_column(ForeignKey("planned_sends.id"), unique=True)
    campaign_id: Mapped[str] = mapped_column(String(80), index=True)
    customer_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    channel: Mapped[str] = mapped_column(String(32))
    template: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    error_code: Mapped[str | None] = mapped_column(String(64))
    cost: Mapped[Decimal] = mapped_column(Money)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (Index("ix_deliveries_customer_time", "customer_id", "sent_at"),)


class SandboxOutbox(Base):
    """Every message the sandbox channel was given; unique key = a provider that dedupes."""

    __tablename__ = "sandbox_outbox"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    campaign_id: Mapped[str] = mapped_column(String(80), index=True)
    customer_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    channel: Mapped[str] = mapped_column(String(32))
    address_enc: Mapped[bytes] = mapped_column(LargeBinary)
    subject: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Approval(Base):
    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    approver: Mapped[str] = mapped_column(String(100))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    __table_args__ = (UniqueConstraint("campaign_id", "approver", "decision"),)


class ComplianceFinding(Base):
    __tablename__ = "compliance_findings"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), index=True)
    rule_id: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str | None] = mapped_column(Text)
    blocked: Mapped[str | None] = mapped_column(Text)
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CampaignReport(Base):
    __tablename__ = "campaign_reports"
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Append-only, hash-chained: each entry carries the hash of the one before."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(48))
    campaign_id: Mapped[str | None] = mapped_column(String(80), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class CustomerProfile(Base):
    """Derived per-customer facts (RFM, lifecycle, best hour, tags), refreshed set-based in SQL."""

    __tablename__ = "customer_profiles"
    customer_id: Mapped[int] = mapped_column(Id, primary_key=True)  # derived: no FK check
    recency_days: Mapped[int | None] = mapped_column(Integer)
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    monetary: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    r_score: Mapped[int | None] = mapped_column(Integer)
    f_score: Mapped[int | None] = mapped_column(Integer)
    m_score: Mapped[int | None] = mapped_column(Integer)
    segment: Mapped[str | None] = mapped_column(String(32))
    lifecycle: Mapped[str] = mapped_column(String(16))
    best_hour: Mapped[int | None] = mapped_column(Integer)
    preferred_channel: Mapped[str | None] = mapped_column(String(32))
    # Data tags (profiles/tags.py), one column per kind, each the whole tag text.
    tag_age: Mapped[str | None] = mapped_column(String(64))
    tag_power: Mapped[str | None] = mapped_column(String(64))
    tag_category: Mapped[str | None] = mapped_column(String(64))
    tag_channel: Mapped[str | None] = mapped_column(String(64))
    tag_active: Mapped[str | None] = mapped_column(String(64))


class ProfileRefresh(Base):
    """One refresh of every profile: as of when, and how many profiles it changed. Profiles are
    as of the latest one (a refresh rewrites only the rows whose values moved)."""

    __tablename__ = "profile_refreshes"
    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    as_of: Mapped[datetime] = mapped_column(UtcDateTime)
    profiles: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CustomerTag(Base):
    """Manual tags, imported with the customer; data tags live on the profile."""

    __tablename__ = "customer_tags"
    customer_id: Mapped[int] = mapped_column(Id, primary_key=True)  # derived: no FK check
    tag: Mapped[str] = mapped_column(String(64), primary_key=True)
    source: Mapped[str] = mapped_column(String(16), default="manual")
    __table_args__ = (Index("ix_customer_tags_tag", "tag"),)
