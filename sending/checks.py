"""Pre-send checks on claimed sends, set-based: consent, suppression, channel gates (push-marketing
consent, cross-border transfer), profiling opt-out, the call whitelist, minors, address, quiet
hours (with the legal sending window of marketing SMS and calls)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, true
from sqlalchemy.orm import Session

from audience.reach import gate_open
from compliance.check import minimum_age
from compliance.config import load_config
from compliance.gates import Gate, channel_gates
from compliance.sending_window import quiet_periods
from db.among import among
from models.spec import CampaignSpec
from models.tables import Customer
from policy.call_whitelist import CALL_CHANNEL, whitelisted
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


def _gated(
    session: Session, gates: Sequence[Gate], channel: str, ids: list[int]
) -> dict[tuple[int, str], str]:
    """(customer, channel) → the reason of the first channel gate that stops them now."""
    out: dict[tuple[int, str], str] = {}
    for gate in (g for g in gates if g.channel == channel):
        stopped = session.execute(
            select(Customer.id).where(among(session, Customer.id, ids), ~gate_open(gate))
        ).scalars()
        for cid in stopped:
            out.setdefault((cid, channel), gate.reason)
    return out


def _blocked(
    session: Session,
    claimed: Sequence[Claimed],
    at: datetime,
    min_age: int,
    gates: Sequence[Gate],
) -> dict[int, str]:
    """planned send id → reason, for customers who may no longer be contacted on that channel."""
    reasons: dict[tuple[int, str], str] = {}
    for channel in {c.channel for c in claimed}:
        ids = [c.customer_id for c in claimed if c.channel == channel]
        reasons.update(_gated(session, gates, channel, ids))
        rows = session.execute(
            select(
                Customer.id,
                has_consent(Customer.id, channel),
                not_suppressed(channel),
                profiling_refused(Customer.id),
                whitelisted() if channel == CALL_CHANNEL else true(),
                Customer.birth_year,
            ).where(among(session, Customer.id, ids))
        ).all()
        for cid, consented, clear, no_profiling, listed, birth_year in rows:
            if (cid, channel) in reasons:
                continue
            if not consented:
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
    gates = channel_gates(spec, load_config())
    blocked = _blocked(session, claimed, at, minimum_age(), gates)
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
