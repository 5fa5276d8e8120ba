"""Re-subscribing by keyword (START / UNSTOP / YES, INT-09): the customer's own active opt-in.

It records a marketing grant for the channel and lifts that channel's suppression of the
customer's address. Rows for every channel (`*`: erasure, or an all-channel opt-out) stay.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, delete
from sqlalchemy.orm import Session

from audit.log import append as audit
from consent.ledger import current_consents, record_consent
from models.tables import Customer, Suppression
from optout.apply import UnknownCustomer, lock_customer
from policy.consent import ADDRESS_INDEX, MARKETING


def opt_in(
    session: Session,
    *,
    customer_id: int,
    channel: str,
    source: str,
    wording_version: str,
    at: datetime,
    actor: str,
) -> int:
    """Grant marketing on `channel` again; returns changes made (0: already subscribed)."""
    lock_customer(session, customer_id)
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise UnknownCustomer(f"no customer with id {customer_id}")
    if customer.erased_at is not None:
        return 0
    changes = 0
    column = ADDRESS_INDEX.get(channel)
    index = getattr(customer, column.key) if column is not None else None
    if index:
        lifted = session.execute(
            delete(Suppression).where(
                Suppression.address_index == index, Suppression.channel == channel
            )
        )
        changes += cast(CursorResult[Any], lifted).rowcount
    if current_consents(session, customer_id).get((channel, MARKETING)) is not True:
        record_consent(
            session,
            customer_id=customer_id,
            channel=channel,
            purpose=MARKETING,
            granted=True,
            source=source,
            wording_version=wording_version,
            at=at,
        )
        changes += 1
    if changes:
        audit(
            session,
            at=at,
            actor=actor,
            action="opt_in",
            detail={
                "customer_id": customer_id,
                "channel": channel,
                "source": source,
            },
        )
    return changes
