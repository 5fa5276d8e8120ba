"""Helpers for campaign tests: specs relative to a clock, outbox and plan counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any, TypedDict

from sqlalchemy import Engine, func, select

from models.spec import CampaignSpec
from models.tables import PlannedSend, SandboxOutbox


class SendingKnobs(TypedDict, total=False):
    """The CampaignInput sending settings a test may set (slot_seconds is always 60)."""

    send_lanes: int
    send_max_items: int
    history_limit: int


def spec_at(now: datetime, **overrides: Any) -> CampaignSpec:
    doc: dict[str, Any] = {
        "name": "测试活动",
        "objective": "reactivate",
        "owner": "王芳",
        "audience": {"consent": "app_push"},
        "holdout_percent": 10,
        "channels": [
            {
                "channel": "app_push",
                "template": "t-push",
                "priority": 1,
                "body": "{{ honorific }}，{{ home_store }}会员日礼券已到账，{{ end_time }}前有效。",
            }
        ],
        "send_window": {"start": now + timedelta(minutes=2), "end": now + timedelta(minutes=20)},
        "quiet_hours": None,
        "budget": {"limit": 1000},
        "approval": {"deadline": "1h"},
        "review": {"delay": "3h", "attribution_window": "1d"},
    }
    doc.update(overrides)
    return CampaignSpec.model_validate(doc)


def new_id() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def outbox_count(engine: Engine, campaign_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count())
            .select_from(SandboxOutbox)
            .where(SandboxOutbox.campaign_id == campaign_id)
        ).scalar_one()


def send_statuses(engine: Engine, campaign_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(PlannedSend.status, func.count())
                .where(PlannedSend.campaign_id == campaign_id)
                .group_by(PlannedSend.status)
            ).all()
        )
