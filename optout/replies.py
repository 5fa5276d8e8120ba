"""Acting on inbound SMS replies: the phone's blind index finds the customers, the keyword
decides. An opt-out from a number no customer holds (yet) still suppresses that number, so a
later import of it stays suppressed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import append as audit
from models.tables import Customer
from optout.apply import opt_out, suppress
from optout.inbound import Reply
from optout.keywords import Intent, intent
from optout.resubscribe import opt_in
from privacy.blind_index import blind_index

CHANNEL = "sms"


def apply_reply(session: Session, reply: Reply, *, provider: str, at: datetime) -> int:
    """Apply one reply; returns changes made (0 for ordinary text or a redelivery)."""
    wanted = intent(reply.text)
    index = blind_index("phone", reply.phone)
    if wanted is None or index is None:
        return 0
    source, actor = f"sms_reply:{provider}", "customer:sms_reply"
    customers = (
        session.execute(
            select(Customer.id).where(Customer.phone_index == index, Customer.erased_at.is_(None))
        )
        .scalars()
        .all()
    )
    if wanted is Intent.OPT_IN:
        return sum(
            opt_in(
                session,
                customer_id=cid,
                channel=CHANNEL,
                source=source,
                wording_version="sms-keyword-opt-in",
                at=at,
                actor=actor,
            )
            for cid in customers
        )
    changes = sum(
        opt_out(session, customer_id=cid, channel=CHANNEL, source=source, at=at, actor=actor)
        for cid in customers
    )
    if not customers and suppress(
        session, address_index=index, channel=CHANNEL, reason=source, at=at
    ):
        audit(
            session,
            at=at,
            actor=actor,
            action="opt_out",
            detail={
                "customer_id": None,
                "channel": CHANNEL,
                "source": source,
                "revoked": [],
                "suppressions_added": 1,
            },
        )
        changes += 1
    return changes
