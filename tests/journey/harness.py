"""A journey run the way the campaign runs it, with the send engine simulated: customers seeded,
the campaign snapshotted and planned, customers entered, then sends marked made (or not) and
the journey advanced at chosen moments. Reads go through short transactions of their own: on
SQLite an open one would block the advance's writers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from engagement.events import EventType
from journey.advance import advance, enter
from journey.moves import Journey
from models.contracts import JourneyProgress
from models.engagement_tables import MessageEvent
from models.journey_tables import JourneyPosition as JP
from models.journey_tables import JourneyVisit as JV
from models.tables import ConsentEvent, Customer, Delivery
from models.tables import PlannedSend as PS
from planning.plan import make_plan
from tests.profiles.seed import D, campaign, make_spec

SMS: dict[str, object] = {"channel": "sms", "template": "t_sms", "body": "hi"}
EMAIL: dict[str, object] = {"channel": "email", "template": "t_mail", "subject": "s", "body": "hi"}
T0 = datetime(2026, 3, 3, 12, 0, tzinfo=UTC)  # when customers enter the journey


def people(
    session: Session,
    ids: Iterable[int],
    *,
    tz: str = "Asia/Shanghai",
    sms: bool = True,
    email: bool = False,
    **fields: object,
) -> None:
    """Customers reachable on sms (and email) with consent to both, in bulk."""
    ids = list(ids)
    session.execute(
        insert(Customer),
        [
            {
                "id": cid,
                "external_id": f"c{cid}",
                "timezone": tz,
                "registered_at": D - timedelta(days=400),
                "phone_enc": b"p" if sms else None,
                "email_enc": b"e" if email else None,
                **fields,
            }
            for cid in ids
        ],
    )
    session.execute(
        insert(ConsentEvent),
        [
            {
                "customer_id": cid,
                "channel": channel,
                "granted": True,
                "source": "test",
                "recorded_at": D - timedelta(days=1),
            }
            for cid in ids
            for channel in ("sms", "email")
        ],
    )


def launch(
    session: Session,
    campaign_id: str,
    steps: list[dict[str, Any]],
    channels: Sequence[dict[str, object]] = (SMS,),
    **fields: Any,
) -> Journey:
    """Register, snapshot and plan the campaign, and let its customers enter at T0."""
    spec = make_spec(channels=list(channels), holdout_percent=0, steps=steps, **fields)
    campaign(session, campaign_id, spec)
    take_snapshot(session, campaign_id, spec, D)
    make_plan(session, campaign_id, spec, D)
    bind = session.get_bind()
    journey = Journey(campaign_id, spec, T0, bind.dialect.name)
    enter(session, journey)
    session.commit()
    return journey


def step_on(engine: Engine, j: Journey, now: datetime) -> JourneyProgress:
    """One advance of the journey at `now`."""
    return advance(engine, replace(j, now=now, winners={}))


def mark(
    engine: Engine,
    campaign_id: str,
    step: str,
    status: str = "sent",
    customers: Iterable[int] | None = None,
    delivered_at: datetime | None = None,
) -> dict[int, int]:
    """The send engine's part: the step's planned sends (of `customers`) get `status`; with
    `delivered_at`, each gets its delivery row. Returns customer → planned send id."""
    own = [PS.campaign_id == campaign_id, PS.step == step, PS.status == "planned"]
    if customers is not None:
        own.append(PS.customer_id.in_(list(customers)))
    with engine.begin() as conn:
        rows = conn.execute(select(PS.id, PS.customer_id, PS.channel, PS.template).where(*own))
        found = {r.customer_id: r for r in rows}
        conn.execute(update(PS).where(*own).values(status=status))
        if delivered_at is not None and found:
            conn.execute(
                insert(Delivery),
                [
                    {
                        "planned_send_id": r.id,
                        "campaign_id": campaign_id,
                        "customer_id": r.customer_id,
                        "channel": r.channel,
                        "template": r.template,
                        "outcome": "sent",
                        "cost": Decimal(0),
                        "sent_at": delivered_at,
                    }
                    for r in found.values()
                ],
            )
    return {cid: r.id for cid, r in found.items()}


def message_events(
    engine: Engine,
    campaign_id: str,
    about: Iterable[tuple[int | None, int]],
    kind: EventType,
    at: datetime,
) -> None:
    """A `kind` event on each (planned send id, customer) of `about`."""
    rows: list[dict[str, object]] = [
        {
            "dedupe_key": f"{kind.value}-{planned_send_id}-{customer_id}",
            "event_type": kind.value,
            "channel": "sms",
            "provider": "test",
            "campaign_id": campaign_id,
            "planned_send_id": planned_send_id,
            "customer_id": customer_id,
            "occurred_at": at,
            "received_at": at,
            "detail": {},
        }
        for planned_send_id, customer_id in about
    ]
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(MessageEvent), rows)


def positions(engine: Engine, campaign_id: str) -> dict[int, tuple[str, str, datetime | None]]:
    """customer → (step, state, due_at)."""
    with engine.begin() as conn:
        rows = conn.execute(
            select(JP.customer_id, JP.step, JP.state, JP.due_at).where(
                JP.campaign_id == campaign_id
            )
        )
        return {r.customer_id: (r.step, r.state, r.due_at) for r in rows}


def visits(
    engine: Engine, campaign_id: str
) -> dict[tuple[int, str], tuple[int, str | None, str | None]]:
    """(customer, step) → (visits, variant, outcome)."""
    with engine.begin() as conn:
        rows = conn.execute(
            select(JV.customer_id, JV.step, JV.visits, JV.variant, JV.outcome).where(
                JV.campaign_id == campaign_id
            )
        )
        return {(r.customer_id, r.step): (r.visits, r.variant, r.outcome) for r in rows}


def sends(engine: Engine, campaign_id: str) -> dict[tuple[int, str], dict[str, Any]]:
    """(customer, step) → the planned send's columns."""
    with engine.begin() as conn:
        rows = conn.execute(select(PS.__table__).where(PS.campaign_id == campaign_id)).mappings()
        out: dict[tuple[int, str], dict[str, Any]] = {}
        for row in rows:
            cols = dict(row)
            key = (cols["customer_id"], cols["step"])
            assert key not in out, f"two sends for {key}"
            out[key] = cols
        return out
