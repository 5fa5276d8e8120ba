"""Retention (CN-29, PIPL Art 47): what is past its period is deleted without anyone asking.

Per kind of data (periods in settings, `retention_*`):
* customers inactive for N years (no registration, order, behaviour event or consent decision
  since) are erased exactly as `forget` erases them (crypto-shredding; the phone and email
  blind indexes stay as suppression tokens, so a re-import stays suppressed);
* behaviour events older than their period are deleted;
* message bodies (the copies of sent messages) older than their period are blanked;
* call evidence older than its period (30 days at least, CN-11) is deleted.
Each purge is one audit entry with its counts (an erased customer has their own `erasure`
entry too). Running it again at the same moment finds nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, exists, or_, select, update
from sqlalchemy.orm import Session

from audit.log import append as audit
from models.compliance_tables import CallEvidence
from models.tables import BehaviorEvent, ConsentEvent, Customer, Order, SandboxOutbox
from optout.erasure import forget
from privacy.cipher import encrypt
from settings import Settings

ACTOR = "retention"
KINDS = ("customers", "behaviour_events", "message_bodies", "call_evidence")
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept."""

    customer_years: int
    events_days: int
    bodies_days: int
    call_evidence_days: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetentionPolicy:
        return cls(
            settings.retention_customer_years,
            settings.retention_events_days,
            settings.retention_bodies_days,
            settings.retention_call_evidence_days,
        )

    def periods(self) -> dict[str, timedelta]:
        return {
            "customers": timedelta(days=self.customer_years * DAYS_PER_YEAR),
            "behaviour_events": timedelta(days=self.events_days),
            "message_bodies": timedelta(days=self.bodies_days),
            "call_evidence": timedelta(days=self.call_evidence_days),
        }


# (customer column, date column) of every record that shows a customer is active
ACTIVITY = (
    (Order.customer_id, Order.ordered_at),
    (BehaviorEvent.customer_id, BehaviorEvent.occurred_at),
    (ConsentEvent.customer_id, ConsentEvent.recorded_at),
)


def inactive_customers(session: Session, cutoff: datetime) -> list[int]:
    """Customers not yet erased with nothing dated at or after `cutoff` and something before
    (a customer with no date at all is never taken for inactive)."""
    since = [exists().where(who == Customer.id, when >= cutoff) for who, when in ACTIVITY]
    before = [exists().where(who == Customer.id, when < cutoff) for who, when in ACTIVITY]
    query = (
        select(Customer.id)
        .where(
            Customer.erased_at.is_(None),
            or_(Customer.registered_at.is_(None), Customer.registered_at < cutoff),
            *(~s for s in since),
            or_(Customer.registered_at < cutoff, *before),
        )
        .order_by(Customer.id)
    )
    return list(session.execute(query).scalars())


def _count(result: Any) -> int:
    return cast(CursorResult[Any], result).rowcount


def purge_kind(session: Session, kind: str, cutoff: datetime, at: datetime) -> int:
    """Remove one kind of data older than `cutoff`; how many rows (customers) it removed."""
    if kind == "customers":
        return sum(
            not forget(session, cid, actor=ACTOR, at=at).already_erased
            for cid in inactive_customers(session, cutoff)
        )
    if kind == "behaviour_events":
        return _count(
            session.execute(delete(BehaviorEvent).where(BehaviorEvent.occurred_at < cutoff))
        )
    if kind == "message_bodies":
        return _count(
            session.execute(
                update(SandboxOutbox)
                .where(
                    SandboxOutbox.received_at < cutoff,
                    or_(SandboxOutbox.body != "", SandboxOutbox.subject.is_not(None)),
                )
                .values(body="", subject=None, address_enc=encrypt("", "address_outbox"))
            )
        )
    if kind == "call_evidence":
        return _count(session.execute(delete(CallEvidence).where(CallEvidence.called_at < cutoff)))
    raise ValueError(f"kind: unknown kind of data {kind!r} (one of {', '.join(KINDS)})")


def purge(session: Session, kind: str, policy: RetentionPolicy, at: datetime) -> int:
    """Purge one kind past its period as of `at`, recorded in the audit log."""
    period = policy.periods()[kind]
    cutoff = at - period
    purged = purge_kind(session, kind, cutoff, at)
    audit(
        session,
        at=at,
        actor=ACTOR,
        action="retention.purged",
        detail={"kind": kind, "older_than": cutoff.isoformat(), "purged": purged},
    )
    return purged
