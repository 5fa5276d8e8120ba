"""Stored reports (plan, review) as JSON rows, one per campaign and kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from models.tables import CampaignReport


def save_report(
    session: Session, campaign_id: str, kind: str, body: dict[str, Any], at: datetime
) -> None:
    row = session.get(CampaignReport, (campaign_id, kind))
    if row is None:
        session.add(CampaignReport(campaign_id=campaign_id, kind=kind, body=body, created_at=at))
    else:
        row.body, row.created_at = body, at


def load_report(session: Session, campaign_id: str, kind: str) -> dict[str, Any] | None:
    row = session.get(CampaignReport, (campaign_id, kind))
    return None if row is None else row.body
