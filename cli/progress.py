"""What `watch` shows beside the workflow's status, read from the database: counts per
channel, the send rate, the next send, the expected finish and who must approve by when."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.campaigns import get_campaign
from governance.approvals import approvals_needed
from models.spec import ApprovalPolicy
from models.tables import Approval, Campaign, Delivery, PlannedSend

RATE_WINDOW = timedelta(minutes=1)  # the send rate is what was made in the last minute
PENDING = ("planned", "sending")
SHOWN = ("planned", "pending", "sent", "failed", "suppressed", "cancelled")


def campaign_progress(session: Session, campaign_id: str, now: datetime) -> dict[str, Any]:
    """The database's view of a campaign's progress at `now` (JSON-ready)."""
    campaign = get_campaign(session, campaign_id)
    channels = _channels(session, campaign_id)
    pending = sum(line["pending"] for line in channels.values())
    made = session.execute(
        select(func.count())
        .select_from(Delivery)
        .where(Delivery.campaign_id == campaign_id, Delivery.sent_at > now - RATE_WINDOW)
    ).scalar_one()
    rate = made / RATE_WINDOW.total_seconds()
    next_at, last_at = session.execute(
        select(func.min(PlannedSend.scheduled_at), func.max(PlannedSend.scheduled_at)).where(
            PlannedSend.campaign_id == campaign_id, PlannedSend.status.in_(PENDING)
        )
    ).one()
    return {
        "campaign_id": campaign.id,
        "name": campaign.name,
        "phase": campaign.phase,
        "detail": campaign.detail or "",
        "channels": channels,
        "pending": pending,
        "rate_per_second": round(rate, 2),
        "next_send_at": next_at.isoformat() if next_at else None,
        "expected_finish_at": _finish(now, pending, rate, last_at),
        "approval": _approval(session, campaign),
    }


def _channels(session: Session, campaign_id: str) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(PlannedSend.channel, PlannedSend.status, func.count())
        .where(PlannedSend.campaign_id == campaign_id)
        .group_by(PlannedSend.channel, PlannedSend.status)
    ).all()
    out: dict[str, dict[str, int]] = {}
    for channel, status, n in rows:
        line = out.setdefault(channel, dict.fromkeys(SHOWN, 0))
        line["planned"] += n
        line["pending" if status in PENDING else status] += n
    return dict(sorted(out.items()))


def _finish(now: datetime, pending: int, rate: float, last_at: datetime | None) -> str | None:
    """When the last pending send should be made: not before it is due, and not sooner than
    the current rate can make the sends left (None when nothing is left)."""
    if not pending or last_at is None:
        return None
    at = max(last_at, now)
    if rate > 0:
        at = max(at, now + timedelta(seconds=pending / rate))
    return at.isoformat()


def _approval(session: Session, campaign: Campaign) -> dict[str, Any] | None:
    """Who may still approve and by when, while the campaign waits for approval."""
    if campaign.phase != "awaiting_approval":
        return None
    policy = ApprovalPolicy.model_validate(campaign.spec.get("approval") or {})
    since = campaign.updated_at  # the phase was entered then: the deadline runs from there
    approved = (
        session.execute(
            select(Approval.approver)
            .where(
                Approval.campaign_id == campaign.id,
                Approval.decision == "approved",
                Approval.decided_at >= since,
            )
            .order_by(Approval.decided_at)
        )
        .scalars()
        .all()
    )
    needed = approvals_needed(campaign.budget_limit)
    return {
        "approvers": list(policy.approvers),
        "requested_by": campaign.requested_by,
        "approved_by": list(approved),
        "approvals_needed": needed,
        "deadline": (since + policy.deadline).isoformat(),
    }
