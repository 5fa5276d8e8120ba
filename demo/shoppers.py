"""Simulated shoppers for the demo: some customers buy after the message, fewer in the holdout.

Only the demo uses this, so that the review has conversions to attribute; it is deterministic
and labels every order it makes (store 'demo-simulated').
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.tables import AudienceMember, Delivery, Order


def simulate_purchases(
    session: Session,
    campaign_id: str,
    seed: int = 7,
    treated_rate: float = 0.12,
    holdout_rate: float = 0.04,
) -> int:
    rng = random.Random(f"{seed}:{campaign_id}")
    now = datetime.now(UTC)
    sent = set(
        session.execute(
            select(Delivery.customer_id).where(
                Delivery.campaign_id == campaign_id, Delivery.outcome == "sent"
            )
        ).scalars()
    )
    holdout = set(
        session.execute(
            select(AudienceMember.customer_id).where(
                AudienceMember.campaign_id == campaign_id, AudienceMember.holdout.is_(True)
            )
        ).scalars()
    )
    rows = []
    for cid in sorted(sent | holdout):
        if rng.random() < (treated_rate if cid in sent else holdout_rate):
            rows.append(
                {
                    "external_id": f"SIM-{campaign_id}-{cid}",
                    "customer_id": cid,
                    "ordered_at": now - timedelta(seconds=rng.randint(1, 20)),
                    "amount": Decimal(rng.randint(120, 1600)) + Decimal("0.50"),
                    "category": rng.choice(["服饰", "美妆", "鞋包"]),
                    "store": "demo-simulated",
                }
            )
    if rows:
        session.execute(insert(Order), rows)
    return len(rows)
