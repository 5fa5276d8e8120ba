"""Erasure ("forget me", PIPL art. 47): remove a customer's personal data, keep reports whole.

Crypto-shredding the row: every PII ciphertext, identifier and descriptive attribute is nulled,
tags and the derived profile are deleted, sandbox copies of sent messages are blanked. What
stays is the internal id, so orders, deliveries, audience rows and campaign reports still add
up (as anonymous counts), and the phone and email blind indexes, kept only as suppression rows
for every channel, so a later import of the same phone or email stays suppressed.

The customer's open planned sends, in any campaign, are closed (`suppressed`, reason `erased`,
as the send-time check would): left open, they count as planned to a suppressed address and
compliance rule CN-02 would stop every campaign the customer was planned in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.orm import Session

from audit.log import append as audit
from consent.call_whitelist import drop_number
from consent.customers import ERASED_PREFIX, erased_external_id
from models.ingest_tables import CustomerAlias, CustomerMerge, ImportFlag
from models.tables import (
    Base,
    BehaviorEvent,
    Customer,
    CustomerProfile,
    CustomerTag,
    PlannedSend,
    SandboxOutbox,
)
from optout.apply import EVERY_CHANNEL, UnknownCustomer, lock_customer, suppress
from privacy.cipher import encrypt

REASON = "erasure"
SEND_REASON = "erased"  # as sending.checks.screen names it
PERSONAL = (
    "name_enc",
    "phone_enc",
    "email_enc",
    "address_enc",
    "phone_index",
    "email_index",
    "device_id",
    "wechat_openid",
    "gender",
    "birth_year",
    "city",
    "district",
    "member_level",
    "home_store",
    "registered_at",
)


@dataclass(frozen=True)
class ErasureReport:
    customer_id: int
    already_erased: bool
    suppressions_added: int = 0
    tags_deleted: int = 0
    profile_deleted: int = 0
    aliases_deleted: int = 0
    outbox_blanked: int = 0
    sends_closed: int = 0
    events_blanked: int = 0


def _has_personal_data(session: Session, customer: Customer) -> bool:
    if any(getattr(customer, column) is not None for column in PERSONAL):
        return True
    tags = (
        select(func.count()).select_from(CustomerTag).where(CustomerTag.customer_id == customer.id)
    )
    return bool(session.execute(tags).scalar_one()) or (
        session.get(CustomerProfile, customer.id) is not None
    )


def _delete(session: Session, table: type[Base], column: Any, customer_id: int) -> int:
    result = session.execute(delete(table).where(column == customer_id))
    return cast(CursorResult[Any], result).rowcount


def forget(session: Session, customer_id: int, *, actor: str, at: datetime) -> ErasureReport:
    """Erase one customer; running it again finds nothing to do (`already_erased`)."""
    lock_customer(session, customer_id)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise UnknownCustomer(f"no customer with id {customer_id}")
    if customer.erased_at is not None and not _has_personal_data(session, customer):
        return ErasureReport(customer_id, already_erased=True)
    suppressed = sum(
        suppress(session, address_index=index, channel=EVERY_CHANNEL, reason=REASON, at=at)
        for index in (customer.phone_index, customer.email_index)
        if index
    )
    if customer.phone_index:  # no marketing call to the number, and no copy of it left
        drop_number(session, customer.phone_index, by=actor, at=at, reason=REASON)
    external_id = customer.external_id
    if not external_id.startswith(ERASED_PREFIX):
        external_id = erased_external_id(external_id)
    session.execute(
        update(Customer)
        .where(Customer.id == customer_id)
        .values(
            {column: None for column in PERSONAL}
            | {"external_id": external_id, "erased_at": customer.erased_at or at}
        )
    )
    outbox = cast(
        CursorResult[Any],
        session.execute(
            update(SandboxOutbox)
            .where(SandboxOutbox.customer_id == customer_id)
            .values(body="", subject=None, address_enc=encrypt("", "address_outbox"))
        ),
    ).rowcount
    closed = cast(
        CursorResult[Any],
        session.execute(
            update(PlannedSend)
            .where(PlannedSend.customer_id == customer_id, PlannedSend.status == "planned")
            .values(status="suppressed", reason=SEND_REASON)
        ),
    ).rowcount
    events = cast(
        CursorResult[Any],
        session.execute(  # PII a track API event carried (its other properties hold none)
            update(BehaviorEvent)
            .where(BehaviorEvent.customer_id == customer_id, BehaviorEvent.pii_enc.is_not(None))
            .values(pii_enc=None)
        ),
    ).rowcount
    session.execute(
        update(CustomerMerge)
        .where(CustomerMerge.survivor_id == customer_id)
        .values(merged_external_id=REASON)
    )
    report = ErasureReport(
        customer_id,
        already_erased=False,
        suppressions_added=suppressed,
        tags_deleted=_delete(session, CustomerTag, CustomerTag.customer_id, customer_id),
        profile_deleted=_delete(session, CustomerProfile, CustomerProfile.customer_id, customer_id),
        aliases_deleted=_delete(session, CustomerAlias, CustomerAlias.customer_id, customer_id),
        outbox_blanked=outbox,
        sends_closed=closed,
        events_blanked=events,
    )
    _delete(session, ImportFlag, ImportFlag.customer_id, customer_id)
    audit(
        session,
        at=at,
        actor=actor,
        action="erasure",
        detail={
            "customer_id": customer_id,
            "suppressions_added": suppressed,
            "tags_deleted": report.tags_deleted,
            "profile_deleted": report.profile_deleted,
            "aliases_deleted": report.aliases_deleted,
            "outbox_blanked": outbox,
            "sends_closed": closed,
            "events_blanked": events,
        },
    )
    session.expire(customer)
    return report
