"""WeChat subscribe events (accept, reject) turned into the subscribe-message quota (CN-20).

The quota itself is a send rule (policy.subscription_quota); what a user's answer on the prompt
does to it is engagement coming back, so it is applied here, where the events are handled.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from engagement.events import EventType, NewEvent, dedupe_key
from policy.subscription_quota import MAX_TEMPLATE, WECHAT_CHANNELS, exhaust, grant


def apply_subscribe_events(session: Session, events: Iterable[NewEvent], at: datetime) -> int:
    """Apply accept/reject events to the quota, once per push item; returns how many changed
    it. Templates no send could use (empty, too long) are skipped."""
    applied = 0
    for e in events:
        template = str(e.detail.get("template_id", ""))
        if (
            e.customer_id is None
            or e.channel not in WECHAT_CHANNELS
            or not template
            or len(template) > MAX_TEMPLATE
        ):
            continue
        who = (e.customer_id, e.channel, template)
        key = dedupe_key(*e.key_parts)
        if e.event_type is EventType.SUBSCRIBE_ACCEPTED:
            applied += grant(
                session, customer_id=who[0], channel=who[1], template=who[2], at=at, source_key=key
            )
        elif e.event_type is EventType.SUBSCRIBE_REJECTED:
            applied += exhaust(
                session,
                customer_id=who[0],
                channel=who[1],
                template=who[2],
                at=at,
                reason="reject",
                source_key=key,
            )
    return applied
