"""Record consent decisions and read the current state, which the newest event decides.

The ledger is append-only: a change of mind is a new event, never an edit, so the history of
what a customer agreed to, when, where and under which wording stays provable (PIPL art. 14,
CN-25). A grant given by a pre-ticked box or bundled with other terms is not consent and is
refused here rather than stored as if it were. So is a grant dated in the future or not after
an opt-out already recorded: appended, it would be the newest event and silently undo that
opt-out.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.consent_terms import CHANNELS, CLOCK_SKEW, INVALID_CONSENT_SOURCES, PURPOSES
from models.tables import ConsentEvent, Customer
from policy.consent import latest_consent_ids


class InvalidConsent(ValueError):
    """A consent event that cannot be recorded; the message names the field and value."""


def _check(
    customer_id: int,
    channel: str,
    purpose: str,
    granted: bool,
    source: str,
    pre_ticked: bool,
    bundled: bool,
) -> None:
    if channel not in CHANNELS:
        raise InvalidConsent(f"channel: unknown channel {channel!r} (one of {sorted(CHANNELS)})")
    if purpose not in PURPOSES:
        raise InvalidConsent(f"purpose: unknown purpose {purpose!r} (one of {sorted(PURPOSES)})")
    if not source.strip():
        raise InvalidConsent("source: where the consent was given is required")
    if granted and (pre_ticked or bundled or source.strip().lower() in INVALID_CONSENT_SOURCES):
        how = "bundled" if bundled or source.strip().lower() == "bundled" else "pre-ticked"
        raise InvalidConsent(
            f"granted: a {how} grant is not valid consent (CN-25) for customer {customer_id}, "
            f"channel {channel}, purpose {purpose}; ask the customer to opt in actively"
        )


def _check_grant_time(
    session: Session, customer_id: int, channel: str, purpose: str, at: datetime
) -> None:
    """The newest event decides, whatever its date: a grant must not be able to jump ahead of
    an opt-out recorded at or after its time, nor be dated ahead of the clock."""
    if at > datetime.now(UTC) + CLOCK_SKEW:
        raise InvalidConsent(f"at: a grant dated {at.isoformat()} is in the future")
    revoked = session.execute(
        select(func.max(ConsentEvent.recorded_at)).where(
            ConsentEvent.customer_id == customer_id,
            ConsentEvent.channel == channel,
            ConsentEvent.purpose == purpose,
            ConsentEvent.granted.is_(False),
        )
    ).scalar_one()
    if revoked is not None and revoked >= at:
        raise InvalidConsent(
            f"at: a grant dated {at.isoformat()} for customer {customer_id}, channel {channel}, "
            f"purpose {purpose} would override the opt-out recorded at {revoked.isoformat()}"
        )


def record_consent(
    session: Session,
    *,
    customer_id: int,
    channel: str,
    purpose: str,
    granted: bool,
    source: str,
    wording_version: str | None,
    at: datetime,
    pre_ticked: bool = False,
    bundled: bool = False,
) -> ConsentEvent:
    """Append one event; refuses grants that were pre-ticked or bundled, are dated in the
    future, or are not after the key's latest opt-out (InvalidConsent)."""
    _check(customer_id, channel, purpose, granted, source, pre_ticked, bundled)
    if session.get(Customer, customer_id) is None:
        raise InvalidConsent(f"customer_id: no customer with id {customer_id}")
    if granted:
        _check_grant_time(session, customer_id, channel, purpose, at)
    event = ConsentEvent(
        customer_id=customer_id,
        channel=channel,
        purpose=purpose,
        granted=granted,
        source=source.strip(),
        wording_version=wording_version,
        recorded_at=at,
    )
    session.add(event)
    session.flush()
    return event


def current_consents(session: Session, customer_id: int) -> dict[tuple[str, str], bool]:
    """(channel, purpose) → granted, from the newest event of each key."""
    latest = latest_consent_ids().where(ConsentEvent.customer_id == customer_id)
    rows = session.execute(
        select(ConsentEvent.channel, ConsentEvent.purpose, ConsentEvent.granted).where(
            ConsentEvent.id.in_(latest)
        )
    ).all()
    return {(channel, purpose): granted for channel, purpose, granted in rows}
