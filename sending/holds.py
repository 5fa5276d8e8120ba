"""Channel holds: a channel that keeps failing for a campaign rests, with growing pauses."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import append
from models.cap_tables import ChannelHold
from observability.metrics import CHANNEL_ALERTS

FAILED_BATCHES_TO_HOLD = 3
BASE_HOLD = timedelta(minutes=2)


def held_channels(session: Session, campaign_id: str, at: datetime) -> set[str]:
    return set(
        session.execute(
            select(ChannelHold.channel).where(
                ChannelHold.campaign_id == campaign_id, ChannelHold.until > at
            )
        ).scalars()
    )


def hold_channel(
    session: Session, campaign_id: str, channel: str, at: datetime, reason: str
) -> datetime:
    """Hold the channel for this campaign (2, 4, 8 … minutes, at most an hour) and alert."""
    hold = session.get(ChannelHold, (campaign_id, channel))
    if hold is None:
        hold = ChannelHold(
            campaign_id=campaign_id, channel=channel, until=at, strikes=0, reason=reason
        )
        session.add(hold)
    hold.strikes += 1
    hold.until = at + min(BASE_HOLD * 2 ** (hold.strikes - 1), timedelta(hours=1))
    hold.reason = reason[:64]
    append(
        session,
        at=at,
        actor="send-engine",
        action="channel.held",
        campaign_id=campaign_id,
        detail={"channel": channel, "until": hold.until.isoformat(), "reason": reason},
    )
    CHANNEL_ALERTS.labels(channel=channel).inc()
    return hold.until
