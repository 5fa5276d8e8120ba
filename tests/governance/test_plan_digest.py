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
from models.spec import CampaignSpec
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


def test_the_fingerprint_changes_with_a_journey_steps_copy(engine: Engine) -> None:
    steps = [
        {"id": "first", "send": {"body": "春季新品到店。拒收请回复R"}, "next": "later"},
        {"id": "later", "wait": "2d", "next": "remind"},
        {"id": "remind", "send": {"variants": [{"id": "A"}, {"id": "B", "body": "礼券已到账"}]}},
    ]
    base = spec_at(NOW).model_dump(mode="json", by_alias=True)
    journey = CampaignSpec.model_validate(base | {"steps": steps}).model_dump(
        mode="json", by_alias=True
    )
    later_copy, variant_copy = copy.deepcopy(journey), copy.deepcopy(journey)
    later_copy["steps"][0]["send"]["body"] = "春季新品已到店。拒收请回复R"
    variant_copy["steps"][2]["send"]["variants"][1]["body"] = "礼券到账了"
    digests = {digest_of(engine, d) for d in (base, journey, later_copy, variant_copy)}
    assert len(digests) == 4
