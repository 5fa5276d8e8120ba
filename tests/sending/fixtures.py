"""Building a campaign with planned sends directly in the database, for send-engine tests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import Engine, insert, select

from channels.base import OutboundMessage, Outcome, SendResult
from db.engine import session_scope
from models.spec import CampaignSpec
from models.tables import Campaign, ConsentEvent, Customer, PlannedSend
from privacy.blind_index import blind_index
from privacy.cipher import encrypt


def make_campaign(
    engine: Engine,
    at: datetime,
    customers: int = 10,
    budget: str = "100",
    unit_cost: str = "0.05",
    quiet: tuple[time, time] | None = None,
    channel: str = "sms",
) -> tuple[str, list[int]]:
    cid = f"eng-{uuid.uuid4().hex[:8]}"
    spec = CampaignSpec.model_validate(
        {
            "name": cid,
            "objective": "inform",
            "owner": "o",
            "audience": {"consent": channel},
            "channels": [
                {"channel": channel, "template": "t1", "body": "{{ honorific }}，您好。拒收请回复R"}
            ],
            "send_window": {"start": at - timedelta(hours=1), "end": at + timedelta(hours=3)},
            "quiet_hours": None if quiet is None else {"start": quiet[0], "end": quiet[1]},
            "budget": {"limit": budget},
        }
    )
    with session_scope(engine) as session:
        session.add(
            Campaign(
                id=cid,
                name=cid,
                objective="inform",
                owner="o",
                requested_by="r",
                priority=5,
                spec=spec.model_dump(mode="json", by_alias=True),
                phase="sending",
                budget_limit=Decimal(budget),
                created_at=at,
                updated_at=at,
            )
        )
        rows = []
        for i in range(customers):
            phone = f"139{uuid.uuid4().int % 10**8:08d}"
            rows.append(
                {
                    "external_id": f"{cid}-{i}",
                    "name_enc": encrypt("李雷", "name"),
                    "phone_enc": encrypt(phone, "phone"),
                    "phone_index": blind_index("phone", phone),
                    "gender": "M",
                    "timezone": "Asia/Shanghai",
                }
            )
        session.execute(insert(Customer), rows)
        ids = list(
            session.execute(
                select(Customer.id)
                .where(Customer.external_id.like(f"{cid}-%"))
                .order_by(Customer.id)
            ).scalars()
        )
        session.execute(
            insert(ConsentEvent),
            [
                {
                    "customer_id": c,
                    "channel": channel,
                    "purpose": purpose,
                    "granted": True,
                    "source": "test",
                    "recorded_at": at - timedelta(days=1),
                }
                for c in ids
                for purpose in ("marketing", "push_marketing")[: 2 if channel == "app_push" else 1]
            ],
        )
        session.execute(
            insert(PlannedSend),
            [
                {
                    "campaign_id": cid,
                    "customer_id": c,
                    "channel": channel,
                    "template": "t1",
                    "scheduled_at": at - timedelta(minutes=1),
                    "unit_cost": Decimal(unit_cost),
                    "idempotency_key": f"{cid}:{c}:{channel}:1",
                    "status": "planned",
                }
                for c in ids
            ],
        )
    return cid, ids


@dataclass
class ScriptedProvider:
    """A provider double: answers from a script, then SENT; records accepted keys like a
    provider that dedupes on the idempotency key."""

    name: str = "sms"
    script: list[Outcome] = field(default_factory=list)
    accepted: dict[str, int] = field(default_factory=dict)
    calls: int = 0

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        self.calls += 1
        outcome = self.script.pop(0) if self.script else Outcome.SENT
        out = []
        for m in messages:
            if outcome == Outcome.SENT:
                self.accepted[m.idempotency_key] = self.accepted.get(m.idempotency_key, 0) + 1
            out.append(
                SendResult(
                    m.idempotency_key,
                    outcome,
                    error_code=None if outcome == Outcome.SENT else f"E-{outcome.value}",
                    retry_after=1 if outcome == Outcome.RATE_LIMITED else None,
                )
            )
        return out
