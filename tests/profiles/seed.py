"""Small, explicit data sets for the research and planning tests (ids chosen by the test)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from models.spec import CampaignSpec
from models.tables import BehaviorEvent, Campaign, ConsentEvent, Customer, CustomerTag, Order

D = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def customer(
    session: Session,
    cid: int,
    *,
    registered_days: float | None = 400,
    tz: str = "Asia/Shanghai",
    **fields: object,
) -> None:
    registered = None if registered_days is None else D - timedelta(days=registered_days)
    session.add(
        Customer(id=cid, external_id=f"c{cid}", timezone=tz, registered_at=registered, **fields)
    )
    session.flush()


def order(
    session: Session,
    cid: int,
    days_ago: float,
    amount: str,
    category: str | None = None,
    at: datetime | None = None,
) -> None:
    when = at if at is not None else D - timedelta(days=days_ago)
    n = session.info.setdefault("orders", 0) + 1
    session.info["orders"] = n
    session.add(
        Order(
            external_id=f"o{cid}-{n}",
            customer_id=cid,
            ordered_at=when,
            amount=Decimal(amount),
            category=category,
        )
    )


def event(session: Session, cid: int, kind: str, at: datetime, channel: str | None = None) -> None:
    session.add(BehaviorEvent(customer_id=cid, event_type=kind, occurred_at=at, channel=channel))


def consent(
    session: Session, cid: int, channel: str, granted: bool = True, at: datetime | None = None
) -> None:
    session.add(
        ConsentEvent(
            customer_id=cid,
            channel=channel,
            granted=granted,
            source="test",
            recorded_at=at or D - timedelta(days=1),
        )
    )
    session.flush()


def tag(session: Session, cid: int, name: str) -> None:
    session.add(CustomerTag(customer_id=cid, tag=name, source="manual"))


def campaign(session: Session, campaign_id: str, spec: CampaignSpec) -> None:
    session.add(
        Campaign(
            id=campaign_id,
            name=spec.name,
            objective=spec.objective,
            owner=spec.owner,
            requested_by="test",
            priority=spec.priority,
            spec=spec.model_dump(mode="json", by_alias=True),
            phase="research",
            budget_limit=spec.budget.limit,
            created_at=D,
            updated_at=D,
        )
    )
    session.flush()


def make_spec(
    audience: Mapping[str, object] | None = None,
    channels: Sequence[Mapping[str, object]] | None = None,
    **fields: object,
) -> CampaignSpec:
    """A valid spec; tests override what they exercise."""
    raw: dict[str, object] = {
        "name": "test",
        "objective": "reactivate",
        "owner": "ops",
        "audience": audience or {"profile": {"field": "timezone", "op": "ne", "value": "-"}},
        "holdout_percent": 10,
        "channels": channels or [{"channel": "sms", "template": "t1", "body": "hi"}],
        "send_window": {
            "start": (D + timedelta(days=1)).isoformat(),
            "end": (D + timedelta(days=2)).isoformat(),
        },
        "budget": {"limit": "1000"},
    }
    raw.update(fields)
    return CampaignSpec.model_validate(raw)
