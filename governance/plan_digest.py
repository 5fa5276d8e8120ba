"""A fingerprint of the plan and budget an approver saw: approvals are bound to it."""

from __future__ import annotations

import hashlib
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.campaigns import get_campaign
from models.tables import PlannedSend as PS


def plan_digest(session: Session, campaign_id: str) -> str:
    """sha256 over everything an approver approves: the spec as stored (audience filter,
    holdout, channels with their templates, subjects and bodies, send window, quiet hours,
    budget, steps), the budget limit, and per channel and template the planned count and cost."""
    campaign = get_campaign(session, campaign_id)
    lines = session.execute(
        select(PS.channel, PS.template, func.count(), func.sum(PS.unit_cost))
        .where(PS.campaign_id == campaign_id, PS.status != "cancelled")
        .group_by(PS.channel, PS.template)
        .order_by(PS.channel, PS.template)
    ).all()
    doc = {
        "budget": str(campaign.budget_limit),
        "spec": campaign.spec,
        "lines": [[ch, tpl, n, str(cost)] for ch, tpl, n, cost in lines],
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]
