"""Pre-send checks on claimed sends, set-based: consent, suppression, channel gates (push-marketing
consent, cross-border transfer), profiling opt-out, the call whitelist, minors, address, quiet
hours (with the legal sending window of marketing SMS and calls)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audience.reach import gate_open
from compliance.check import minimum_age
from compliance.config import load_config
from compliance.gates import Gate, channel_gates
from compliance.sending_window import quiet_periods
from db.among import among
from models.spec import CampaignSpec
from models.tables import Customer
from policy.call_whitelist import allowed
from policy.consent import has_consent, not_suppressed, profiling_refused
from policy.quiet_hours import next_allowed
from policy.subscription_quota import WECHAT_CHANNELS, available
from sending.claim import Claimed
from sending.recipients import Recipient, load_recipients


@dataclass
class Screened:
    """Claimed sends sorted into what may go now and what may not (with the reason)."""

    ready: list[tuple[Claimed, Recipient]] = field(default_factory=list)
    suppressed: list[tuple[Claimed, str]] = field(default_factory=list)
    failed: list[tuple[Claimed, str]] = field(default_factory=list)
    deferred: list[tuple[Claimed, datetime]] = field(default_factory=list)


def _blocked(
    session: Session,
    claimed: Sequence[Claimed],
    at: datetime,
    min_age: int,
    gates: Sequence[Gate],
) -> dict[int, str]:
    """planned send id → reason, for customers who may no longer be contacted on that channel
    (a closed channel gate first, then consent, suppression, profiling, allow-list, age)."""
    reasons: dict[tuple[int, str], str] = {}
    for channel in {c.channel for c in claimed}:
        ids = [c.customer_id for c in claimed if c.channel == channel]
        own = [g for g in gates if g.channel == channel]
        rows = session.execute(
            select(
                Customer.id,
                has_consent(Customer.id, channel),
                not_suppressed(channel),
                profiling_refused(Customer.id),
                allowed(channel),
                Customer.birth_year,
                *(gate_open(g) for g in own),
            ).where(among(session, Customer.id, ids))
        ).all()
        for cid, consented, clear, no_profiling, listed, birth_year, *open_ in rows:
            closed = next(
                (g.reason for g, through in zip(own, open_, strict=True) if not through), None
            )
            if closed:
                reasons[(cid, channel)] = closed
            elif not consented:
                reasons[(cid, channel)] = "consent_revoked"
            elif not clear:
                reasons[(cid, channel)] = "suppressed"
            elif no_profiling:
                reasons[(cid, channel)] = "profiling_opt_out"
            elif not listed:
                reasons[(cid, channel)] = "not_whitelisted"
            elif birth_year is not None and at.year - birth_year < min_age:
                reasons[(cid, channel)] = "minor"
    return {
        c.id: reasons[(c.customer_id, c.channel)]
        for c in claimed
        if (c.customer_id, c.channel) in reasons
    }


def screen(
    session: Session, claimed: Sequence[Claimed], spec: CampaignSpec, at: datetime
) -> Screened:
    """Re-check at send time everything that can have changed since planning."""
    out = Screened()
    config = load_config()
    blocked = _blocked(session, claimed, at, minimum_age(config), channel_gates(spec, config))
    quota = available(
        session,
        [
            (c.customer_id, c.channel, c.template)
            for c in claimed
            if c.channel in WECHAT_CHANNELS and c.id not in blocked and not c.reserved
        ],
    )
    recipients = load_recipients(
        session, [(c.customer_id, c.channel) for c in claimed if c.id not in blocked]
    )
    quiet = {channel: quiet_periods(spec, channel) for channel in {c.channel for c in claimed}}
    for c in claimed:
        if c.id in blocked:
            out.suppressed.append((c, blocked[c.id]))
            continue
        recipient = recipients.get((c.customer_id, c.channel))
        if recipient is None:
            out.suppressed.append((c, "erased"))
        elif (
            c.channel in WECHAT_CHANNELS
            and not c.reserved
            and (c.customer_id, c.channel, c.template) not in quota
        ):
            out.suppressed.append((c, "no_subscription"))
        elif not recipient.address:
            out.failed.append((c, "no_address"))
        elif (allowed := next_allowed(at, recipient.timezone, quiet[c.channel])) != at:
            out.deferred.append((c, allowed))
        else:
            out.ready.append((c, recipient))
    return out
