"""The one way every source opts a customer out: links, one-click POSTs, SMS replies,
provider blacklist answers and the operator command all end here.

An opt-out appends a revocation (purpose marketing) to the consent ledger for the channel (or
every channel) and adds a suppression row for the channel's address blind index, so
`policy.consent.contactable` is false from the next send on, and an audit entry. It is
idempotent: a redelivered opt-out finds nothing left to change, writes nothing and returns 0.
"""

from __future__ import annotations

from datetime import datetime
from typing import get_args

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from audit.log import append as audit
from consent.ledger import current_consents
from models.audience import ChannelName
from models.tables import ConsentEvent, Customer, Suppression
from policy.consent import ADDRESS_INDEX, MARKETING

CHANNELS: tuple[str, ...] = get_args(ChannelName)
EVERY_CHANNEL = "*"  # a suppression row for all channels (policy.consent.not_suppressed)
_LOCK_NAMESPACE = 0x6F70 << 48


class UnknownCustomer(LookupError):
    """No customer with that id."""


def lock_customer(session: Session, customer_id: int) -> None:
    """Serialize opt-out work on one customer so concurrent redeliveries do not both write."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_NAMESPACE | customer_id}
        )


def suppress(
    session: Session, *, address_index: str, channel: str, reason: str, at: datetime
) -> bool:
    """Add (address, channel) to the suppression list unless it is already there."""
    exists = session.execute(
        select(Suppression.id)
        .where(Suppression.address_index == address_index, Suppression.channel == channel)
        .limit(1)
    ).first()
    if exists:
        return False
    session.add(
        Suppression(address_index=address_index, channel=channel, reason=reason[:64], created_at=at)
    )
    return True


def _address_indexes(customer: Customer, channel: str | None) -> list[tuple[str, str]]:
    """(blind index, suppression channel) pairs the opt-out must cover."""
    if channel is None:
        columns = {column.key for column in ADDRESS_INDEX.values()}
        pairs = [(getattr(customer, key), EVERY_CHANNEL) for key in sorted(columns)]
    else:
        column = ADDRESS_INDEX.get(channel)
        pairs = [] if column is None else [(getattr(customer, column.key), channel)]
    return [(index, ch) for index, ch in pairs if index]


def opt_out(
    session: Session,
    *,
    customer_id: int,
    channel: str | None,
    source: str,
    at: datetime,
    actor: str,
    campaign_id: str | None = None,
    reason: str | None = None,
) -> int:
    """Opt a customer out of marketing on one channel (None: every channel).

    Returns the number of changes made (ledger revocations plus suppression rows); 0 means the
    opt-out was already in effect. Erased customers are left alone: they cannot be contacted.
    """
    if channel is not None and channel not in CHANNELS:
        raise ValueError(f"channel: unknown channel {channel!r} (one of {list(CHANNELS)})")
    lock_customer(session, customer_id)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise UnknownCustomer(f"no customer with id {customer_id}")
    if customer.erased_at is not None:
        return 0
    state = current_consents(session, customer_id)
    revoke = [
        ch for ch in ([channel] if channel else CHANNELS) if state.get((ch, MARKETING)) is not False
    ]
    if revoke:
        session.execute(
            insert(ConsentEvent),
            [
                {
                    "customer_id": customer_id,
                    "channel": ch,
                    "purpose": MARKETING,
                    "granted": False,
                    "source": source[:64],
                    "wording_version": None,
                    "recorded_at": at,
                }
                for ch in revoke
            ],
        )
    suppressed = sum(
        suppress(session, address_index=index, channel=ch, reason=source, at=at)
        for index, ch in _address_indexes(customer, channel)
    )
    if revoke or suppressed:
        audit(
            session,
            at=at,
            actor=actor,
            action="opt_out",
            campaign_id=campaign_id,
            detail={
                "customer_id": customer_id,
                "channel": channel or EVERY_CHANNEL,
                "source": source,
                "revoked": revoke,
                "suppressions_added": suppressed,
            }
            | ({"reason": reason} if reason else {}),
        )
    session.flush()
    return len(revoke) + suppressed


def opt_out_from_provider(
    session: Session, *, customer_id: int, channel: str, provider_code: str, at: datetime
) -> int:
    """A provider said the recipient refused (Tencent 1015, WeChat 43101, …): opt out, CN-10."""
    return opt_out(
        session,
        customer_id=customer_id,
        channel=channel,
        source=f"provider:{provider_code}",
        at=at,
        actor=f"provider:{channel}",
    )
