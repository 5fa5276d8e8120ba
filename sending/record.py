"""Recording send outcomes: made sends, statuses, retries with backoff, refunds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from channels.base import Outcome, SendResult
from db.upsert import insert_ignore, update_by_id
from models.tables import Delivery, PlannedSend
from sending.claim import Claimed

MAX_ATTEMPTS = 6
UNCLAIMED = PlannedSend.attempts - 1  # a halted send was never offered: not an attempt


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff (30 s, 60 s, 120 s …, at most 30 min) or the provider's Retry-After."""
    base = min(30 * 2 ** max(attempts - 1, 0), 1800)
    return timedelta(seconds=max(base, retry_after or 0))


def set_status(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk update of planned sends by primary key, grouped into few statements."""
    update_by_id(session, PlannedSend.__table__, rows)


@dataclass
class Recorded:
    """What recording a batch of answers produced."""

    counts: dict[str, int] = field(
        default_factory=lambda: {"sent": 0, "failed": 0, "suppressed": 0, "retry": 0}
    )
    refund: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)  # of the sends made
    unsent: list[int] = field(default_factory=list)  # planned send ids that did not go out
    opted_out: list[tuple[Claimed, str]] = field(default_factory=list)  # with provider code


def _retry(claim: Claimed, result: SendResult) -> bool:
    retryable = result.outcome in (Outcome.RETRYABLE, Outcome.RATE_LIMITED)
    return retryable and claim.attempts < MAX_ATTEMPTS


def record_results(
    session: Session, campaign_id: str, at: datetime, sent: Sequence[tuple[Claimed, SendResult]]
) -> Recorded:
    """Store every provider answer: made sends, final statuses, retries with backoff."""
    deliveries: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    out = Recorded()
    for claim, result in sent:
        if result.outcome == Outcome.HALTED:
            out.refund += claim.unit_cost
            out.unsent.append(claim.id)
            updates.append({"id": claim.id, "status": "planned", "attempts": UNCLAIMED})
            continue
        if result.outcome == Outcome.SENT:
            out.counts["sent"] += 1
            out.cost += claim.unit_cost
            updates.append({"id": claim.id, "status": "sent", "reason": None})
            deliveries.append(_delivery(campaign_id, claim, result, at, claim.unit_cost))
            continue
        out.refund += claim.unit_cost
        out.unsent.append(claim.id)
        if _retry(claim, result):
            out.counts["retry"] += 1
            when = at + backoff(claim.attempts, result.retry_after)
            updates.append(
                {
                    "id": claim.id,
                    "status": "planned",
                    "reason": result.error_code,
                    "scheduled_at": when,
                }
            )
            continue
        if result.outcome == Outcome.OPTED_OUT:
            out.counts["suppressed"] += 1
            out.opted_out.append((claim, result.error_code or "opted_out"))
            updates.append({"id": claim.id, "status": "suppressed", "reason": "provider_opt_out"})
        else:
            out.counts["failed"] += 1
            reason = result.error_code or result.outcome.value
            updates.append({"id": claim.id, "status": "failed", "reason": reason[:64]})
        deliveries.append(_delivery(campaign_id, claim, result, at, Decimal(0)))
    set_status(session, updates)
    insert_ignore(session, Delivery.__table__, deliveries, ["planned_send_id"])
    return out


def _delivery(
    campaign_id: str, claim: Claimed, result: SendResult, at: datetime, cost: Decimal
) -> dict[str, Any]:
    return {
        "planned_send_id": claim.id,
        "campaign_id": campaign_id,
        "customer_id": claim.customer_id,
        "channel": claim.channel,
        "template": claim.template,
        "outcome": result.outcome.value,
        "provider_message_id": result.provider_message_id,
        "error_code": result.error_code,
        "cost": cost,
        "sent_at": at,
    }
