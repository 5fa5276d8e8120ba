"""WeChat subscribe messages spend the customer's subscription quota (CN-20): one unit per send,
given back when the send did not go out, ended by WeChat's 43101."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from channels.base import Outcome, SendResult
from policy.frequency_cap import release_contacts
from policy.subscription_quota import WECHAT_CHANNELS, Pair, consume, exhaust, release
from sending.checks import Screened
from sending.claim import Claimed
from sending.recipients import Recipient


def _pair(claim: Claimed) -> Pair:
    return (claim.customer_id, claim.channel, claim.template)


def wechat_pairs(claims: Iterable[Claimed]) -> list[Pair]:
    return [_pair(c) for c in claims if c.channel in WECHAT_CHANNELS]


def take_quota(session: Session, screened: Screened, at: datetime) -> None:
    """Each ready WeChat send takes a unit (a re-claimed one holds its own); one left without
    (another worker or an earlier send of this batch took the last) is suppressed and its
    contact slot freed."""
    got = consume(session, wechat_pairs(c for c, _ in screened.ready if not c.reserved), at)
    kept: list[tuple[Claimed, Recipient]] = []
    lost: list[Claimed] = []
    for c, r in screened.ready:
        if c.channel in WECHAT_CHANNELS and not c.reserved:
            if _pair(c) not in got:
                lost.append(c)
                continue
            got.discard(_pair(c))
        kept.append((c, r))
    if lost:
        release_contacts(session, [c.id for c in lost])
        screened.suppressed += [(c, "no_subscription") for c in lost]
        screened.ready = kept


def settle_quota(
    session: Session, results: Sequence[tuple[Claimed, SendResult]], at: datetime
) -> None:
    """A WeChat send that did not go out gives its unit back; 43101 ends the quota."""
    unsent = [
        (c, r) for c, r in results if c.channel in WECHAT_CHANNELS and r.outcome != Outcome.SENT
    ]
    ended = [c for c, r in unsent if r.outcome == Outcome.OPTED_OUT and r.error_code == "43101"]
    release(session, [_pair(c) for c, _ in unsent if c not in ended], at)
    for c in ended:
        exhaust(
            session,
            customer_id=c.customer_id,
            channel=c.channel,
            template=c.template,
            at=at,
            reason="provider_43101",
        )


def quota_ended(claim: Claimed, code: str) -> bool:
    """43101 on WeChat means this template's subscription is used up, not a channel opt-out."""
    return claim.channel in WECHAT_CHANNELS and code == "43101"
