"""Simulated clicks for the demo: some customers tap the link in the journey's first SMS.

Only the demo uses this, so that the journey's branch on "clicked" and the A/B test have
something to go on. Each click goes through the same handler as the tracking redirect
(engagement/handlers.apply_click). Variant B's copy draws more clicks, deterministically.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engagement.handlers import apply_click
from models.tables import PlannedSend

STORE = "https://shop.example.com/spring"
RATES = {"A": 0.15, "B": 0.30}


def simulate_clicks(session: Session, campaign_id: str, step: str, seed: int = 7) -> dict[str, int]:
    """Clicks per variant on the step's messages that were sent."""
    rng = random.Random(f"{seed}:{campaign_id}:{step}")
    now = datetime.now(UTC)
    sent = session.execute(
        select(PlannedSend.id, PlannedSend.variant)
        .where(
            PlannedSend.campaign_id == campaign_id,
            PlannedSend.step == step,
            PlannedSend.status == "sent",
        )
        .order_by(PlannedSend.id)
    ).all()
    clicks: dict[str, int] = {}
    for send_id, variant in sent:
        if rng.random() < RATES.get(variant or "", 0.2):
            apply_click(session, send_id, STORE, now)
            clicks[variant or "-"] = clicks.get(variant or "-", 0) + 1
    return clicks
