"""The outbound call whitelist (CN-11): the numbers marketing calls may go to.

A number is added only while a customer with that number currently consents to marketing calls
and it is not on the do-not-call (suppression) list; the entry keeps that consent's ledger id,
which every call's evidence cites. Numbers are stored encrypted with a blind index, like every
other phone number. A refusal during a call takes the number off (`drop_number`). Every change
is in the audit log, with the number masked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from audit.log import append as audit
from models.compliance_tables import CallWhitelistEntry
from models.tables import ConsentEvent, Customer
from policy.call_whitelist import CALL_CHANNEL
from policy.consent import MARKETING, not_suppressed
from privacy.blind_index import blind_index, normalize_phone
from privacy.cipher import decrypt, encrypt
from privacy.masking import mask_phone

MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
FIELD = "phone"  # the field name bound into the ciphertext, as on the customer row


class WhitelistRefused(ValueError):
    """The number cannot go on the whitelist; the message names the number (masked) and why."""


@dataclass(frozen=True)
class WhitelistedNumber:
    phone: str  # masked
    consent_event_id: int
    added_by: str
    added_at: datetime


def _normalized(phone: str) -> str:
    number = normalize_phone(phone.strip())
    if not MAINLAND_MOBILE.match(number):
        raise WhitelistRefused(f"phone: {mask_phone(phone)!r} is not a mainland mobile number")
    return number


def _consent_id(session: Session, index: str) -> int | None:
    """The ledger id of the current call consent of a contactable customer with this number."""
    customers = session.execute(
        select(Customer.id).where(Customer.phone_index == index, not_suppressed(CALL_CHANNEL))
    ).scalars()
    for customer_id in customers:
        newest = session.execute(
            select(ConsentEvent.id, ConsentEvent.granted)
            .where(
                ConsentEvent.customer_id == customer_id,
                ConsentEvent.channel == CALL_CHANNEL,
                ConsentEvent.purpose == MARKETING,
            )
            .order_by(ConsentEvent.id.desc())
            .limit(1)
        ).first()
        if newest is not None and newest.granted:
            return int(newest.id)
    return None


def add_number(session: Session, phone: str, *, by: str, at: datetime) -> bool:
    """Whitelist a consenting number; False if it is there already."""
    number = _normalized(phone)
    index = blind_index("phone", number)
    assert index is not None
    if session.execute(
        select(CallWhitelistEntry.id).where(CallWhitelistEntry.phone_index == index)
    ).first():
        return False
    consent_id = _consent_id(session, index)
    if consent_id is None:
        raise WhitelistRefused(
            f"phone: {mask_phone(number)} has no customer with current consent to marketing "
            "calls (or it is on the do-not-call list)"
        )
    session.add(
        CallWhitelistEntry(
            phone_enc=encrypt(number, FIELD),
            phone_index=index,
            consent_event_id=consent_id,
            added_by=by,
            added_at=at,
        )
    )
    audit(
        session,
        at=at,
        actor=by,
        action="call_whitelist.added",
        detail={"phone": mask_phone(number), "consent_event_id": consent_id},
    )
    return True


def drop_number(session: Session, index: str, *, by: str, at: datetime, reason: str) -> bool:
    """Take a number (by blind index) off the whitelist; False if it was not on it."""
    entry = session.execute(
        select(CallWhitelistEntry).where(CallWhitelistEntry.phone_index == index)
    ).scalar_one_or_none()
    if entry is None:
        return False
    masked = mask_phone(decrypt(entry.phone_enc, FIELD))
    session.execute(delete(CallWhitelistEntry).where(CallWhitelistEntry.id == entry.id))
    audit(
        session,
        at=at,
        actor=by,
        action="call_whitelist.removed",
        detail={"phone": masked, "reason": reason},
    )
    return True


def remove_number(session: Session, phone: str, *, by: str, at: datetime) -> bool:
    """An operator takes a number off the whitelist."""
    index = blind_index("phone", _normalized(phone))
    assert index is not None
    return drop_number(session, index, by=by, at=at, reason="operator")


def list_numbers(session: Session) -> list[WhitelistedNumber]:
    """Every whitelisted number, masked, oldest first."""
    rows = session.execute(select(CallWhitelistEntry).order_by(CallWhitelistEntry.id)).scalars()
    return [
        WhitelistedNumber(
            phone=mask_phone(decrypt(r.phone_enc, FIELD)),
            consent_event_id=r.consent_event_id,
            added_by=r.added_by,
            added_at=r.added_at,
        )
        for r in rows
    ]
