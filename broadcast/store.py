"""The `broadcast_lines` table kept in step with the campaign's spec."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, exists, update
from sqlalchemy.orm import Session

from db.campaigns import get_campaign
from db.upsert import insert_ignore
from models.broadcast_lines import POPUP_FIELDS, BroadcastLine, lines_from_spec
from models.engagement_tables import BroadcastLineRow, BroadcastResult


def store_lines(session: Session, campaign_id: str, lines: Sequence[BroadcastLine]) -> None:
    """Make `broadcast_lines` match the spec: add or update its lines, drop lines the spec no
    longer has unless results were recorded for them."""
    rows = [
        {
            "campaign_id": campaign_id,
            "line": line.key,
            "channel": line.channel,
            "planned_cost": line.planned_cost,
            "detail": line.model_dump(mode="json", include=set(POPUP_FIELDS), exclude_none=True),
        }
        for line in lines
    ]
    t = BroadcastLineRow
    for row in rows:
        session.execute(
            update(t)
            .where(t.campaign_id == campaign_id, t.line == row["line"])
            .values(channel=row["channel"], planned_cost=row["planned_cost"], detail=row["detail"])
        )
    insert_ignore(session, t.__table__, rows, ["campaign_id", "line"])
    r = BroadcastResult
    session.execute(
        delete(t).where(
            t.campaign_id == campaign_id,
            t.line.not_in([row["line"] for row in rows]),
            ~exists().where(r.campaign_id == t.campaign_id, r.line == t.line),
        )
    )


def sync_lines(session: Session, campaign_id: str) -> list[BroadcastLine]:
    """Read the campaign's lines from its stored spec and store them; returns them."""
    lines = lines_from_spec(get_campaign(session, campaign_id).spec)
    store_lines(session, campaign_id, lines)
    return lines
