"""Recording send outcomes: made sends, statuses, retries with backoff, refunds."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from channels.base import Outcome, SendResult
from db.upsert import insert_ignore
from models.tables import Delivery, PlannedSend
from sending.claim import Claimed

MAX_ATTEMPTS = 6


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """Exponential backoff (30 s, 60 s, 120 s …, at most 30 min) or the provider's Retry-After."""
    base = min(30 * 2 ** max(attempts - 1, 0), 1800)
    return timedelta(seconds=max(base, retry_after or 0))


def set_status(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Bulk update of planned sends by primary key."""
    if rows:
        session.execute(update(PlannedSend), list(rows))


def record_results(
    session: Session, campaign_id: str, at: datetime, sent: Sequence[tuple[Claimed, SendResult]]
) -> tuple[dict[str, int], Decimal]:
    """Store every provider answer; returns counts by final status and the amount to refund."""
    deliveries: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    counts = {"sent": 0, "failed": 0, "suppressed": 0, "retry": 0}
    refund = Decimal(0)
    for claim, result in sent:
        if result.outcome == Outcome.SENT:
            counts["sent"] += 1
            updates.append({"id": claim.id, "status": "sent", "reason": None})
            deliveries.append(_delivery(campaign_id, claim, result, at, claim.unit_cost))
            continue
        refund += claim.unit_cost
        if (
            result.outcome in (Outcome.RETRYABLE, Outcome.RATE_LIMITED)
            and claim.attempts < MAX_ATTEMPTS
        ):
            counts["retry"] += 1
            updates.append(
                {
                    "id": claim.id,
                    "status": "planned",
                    "reason": result.error_code,
                    "scheduled_at": at + backoff(claim.attempts, result.retry_after),
                }
            )
            continue
        status = "suppressed" if result.outcome == Outcome.OPTED_OUT else "failed"
        counts[status] += 1
        reason = (
            "provider_opt_out"
            if status == "suppressed"
            else (result.error_code or result.outcome.value)
        )
        updates.append({"id": claim.id, "status": status, "reason": reason})
        deliveries.append(_delivery(campaign_id, claim, result, at, Decimal(0)))
    set_status(session, updates)
    insert_ignore(session, Delivery.__table__, deliveries, ["planned_send_id"])
    return counts, refund


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
