"""What the database says happened to a campaign's sends: the source the workflow's status
counters settle on after a retry and at every phase's end, so `status` and the report agree."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models.contracts import SendCounts
from models.tables import Delivery
from reporting.review import channel_counts


def send_counts(session: Session, campaign_id: str) -> SendCounts:
    counts = SendCounts()
    for line in channel_counts(session, campaign_id).values():
        counts.sent += line["sent"]
        counts.failed += line["failed"]
        counts.suppressed += line["suppressed"]
        counts.cancelled += line["cancelled"]
        for reason, n in line["suppressed_by"].items():
            counts.suppressed_by[reason] = counts.suppressed_by.get(reason, 0) + n
    spent = session.execute(
        select(func.sum(Delivery.cost)).where(Delivery.campaign_id == campaign_id)
    ).scalar_one()
    counts.spent = Decimal(spent or 0)
    return counts
