"""The fingerprint an approver signs covers what they approve, not only counts and costs."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from db.engine import session_scope
from governance.plan_digest import plan_digest
from models.tables import Campaign
from tests.campaigns import spec_at

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def digest_of(engine: Engine, spec: dict[str, Any]) -> str:
    cid = f"dg-{uuid.uuid4().hex[:8]}"
    with session_scope(engine) as s:
        s.add(
            Campaign(
                id=cid,
                name="x",
                objective="inform",
                owner="o",
                requested_by="r",
                priority=5,
                spec=spec,
                phase="awaiting_approval",
                budget_limit=Decimal(1000),
                created_at=NOW,
                updated_at=NOW,
            )
        )
    with session_scope(engine) as s:
        return plan_digest(s, cid)


def test_the_fingerprint_changes_with_body_audience_holdout_and_window(engine: Engine) -> None:
    base = spec_at(NOW).model_dump(mode="json", by_alias=True)
    variants = [copy.deepcopy(base) for _ in range(4)]
    variants[0]["channels"][0]["body"] += "（改）"
    variants[1]["audience"] = {"consent": "sms"}
    variants[2]["holdout_percent"] = 20
    variants[3]["send_window"]["end"] = "2026-12-01T09:00:00+00:00"
    digests = {digest_of(engine, v) for v in variants}
    assert len(digests | {digest_of(engine, base)}) == 5
    assert digest_of(engine, copy.deepcopy(base)) == digest_of(engine, base)
