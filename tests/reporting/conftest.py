"""A PostgreSQL database with campaigns whose sends, receipts and orders are written directly,
so the report's numbers are known in advance; and the CLI run against it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from db.engine import make_engine, session_scope
from models.engagement_tables import MessageEvent
from models.tables import AudienceMember, Campaign, Customer, Delivery, Order, PlannedSend
from tests.campaigns import spec_at
from tests.conftest import ROOT, create_database, drop_database, migrate

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
EMAIL = {
    "channel": "email",
    "template": "t-mail",
    "priority": 1,
    "subject": "【广告】会员日",
    "body": "{{ honorific }}您好，礼券{{ end_time }}前有效。退订：{{ unsubscribe_url }}",
}
SMS = {
    "channel": "sms",
    "template": "SMS_1",
    "priority": 2,
    "body": "{{ honorific }}，会员日礼券已到账。拒收请回复R",
}
# 30 treated (15 email at 0.002, 15 SMS at 0.045), 10 in the holdout; 6 treated and 1 held-out
# customer buy within the attribution window.
UNIT = {"email": Decimal("0.002"), "sms": Decimal("0.045")}


@pytest.fixture(scope="module")
def report_db() -> Iterator[tuple[str, Engine]]:
    url = create_database("omni_rep")
    migrate(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    drop_database(url)


def make_campaign(
    engine: Engine,
    *,
    phase: str = "sending",
    name: str = "春季焕新",
    kpi: dict[str, float] | None = None,
    budget: str = "50",
) -> str:
    """A campaign with 30 sends over an hour (NOW+5m … NOW+63m), receipts, opens, clicks and
    orders; returns its id."""
    campaign_id = f"rep-{uuid.uuid4().hex[:8]}"
    spec = spec_at(
        NOW,
        channels=[EMAIL, SMS],
        budget={"limit": budget},
        kpi=kpi or {"reach_rate": 0.99, "conversion_rate": 0.5, "roi": 1.0},
    )
    with session_scope(engine) as s:
        s.add(
            Campaign(
                id=campaign_id,
                name=name,
                objective=spec.objective,
                owner="王芳",
                requested_by="王芳",
                spec=spec.model_dump(mode="json"),
                phase=phase,
                budget_limit=Decimal(budget),
                created_at=NOW,
                updated_at=NOW,
            )
        )
        people = [Customer(external_id=f"{campaign_id}-{n}") for n in range(40)]
        s.add_all(people)
        s.flush()
        for n, person in enumerate(people):
            s.add(AudienceMember(campaign_id=campaign_id, customer_id=person.id, holdout=n >= 30))
            if n >= 30:
                continue
            channel = "email" if n < 15 else "sms"
            sent_at = NOW + timedelta(minutes=5 + 2 * n)
            send = PlannedSend(
                campaign_id=campaign_id,
                customer_id=person.id,
                channel=channel,
                template="t",
                scheduled_at=sent_at,
                unit_cost=UNIT[channel],
                status="sent",
                idempotency_key=f"{campaign_id}:{n}",
            )
            s.add(send)
            s.flush()
            s.add(
                Delivery(
                    planned_send_id=send.id,
                    campaign_id=campaign_id,
                    customer_id=person.id,
                    channel=channel,
                    template="t",
                    outcome="sent",
                    cost=UNIT[channel],
                    sent_at=sent_at,
                )
            )
            for kind in _events(n):
                s.add(
                    MessageEvent(
                        dedupe_key=f"{campaign_id}:{n}:{kind}",
                        event_type=kind,
                        channel=channel,
                        provider="test",
                        campaign_id=campaign_id,
                        planned_send_id=send.id,
                        customer_id=person.id,
                        occurred_at=sent_at,
                        received_at=sent_at,
                    )
                )
        for n in (0, 3, 16, 20, 24, 29, 35):
            s.add(
                Order(
                    external_id=f"{campaign_id}-o{n}",
                    customer_id=people[n].id,
                    ordered_at=NOW + timedelta(hours=3),
                    amount=Decimal("99.50"),
                )
            )
    return campaign_id


def _events(n: int) -> list[str]:
    """Email has no delivery receipts: 8 opened, 4 of them clicked; SMS: 12 delivered."""
    if n < 15:
        return ["opened", "clicked"] if n < 4 else ["opened"] if n < 8 else []
    return ["delivered"] if n < 27 else []


def cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DATABASE_URL=url, COLUMNS="200")
    return subprocess.run(
        [sys.executable, str(ROOT / "starter.py"), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def expected_channels() -> dict[str, dict[str, Any]]:
    return {
        "email": {"sent": 15, "delivered": 0, "opened": 8, "clicked": 4, "conversions": 2},
        "sms": {"sent": 15, "delivered": 12, "opened": 0, "clicked": 0, "conversions": 4},
    }
