"""Frequency caps hold exactly when several transactions reserve the same customers at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from db.engine import session_scope
from models.cap_tables import ContactLedger
from models.tables import Campaign, Customer, PlannedSend
from policy.frequency_cap import CapRules, Wanted, release_contacts, reserve_contacts

AT = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def _campaign(session: Session, cid: str, priority: int) -> None:
    session.add(
        Campaign(
            id=cid,
            name=cid,
            objective="inform",
            owner="o",
            requested_by="r",
            priority=priority,
            spec={},
            phase="sending",
            budget_limit=Decimal(100),
            created_at=AT,
            updated_at=AT,
        )
    )


def _setup(engine: Engine, customers: int, campaigns: dict[str, int]) -> dict[str, list[Wanted]]:
    with session_scope(engine) as session:
        for cid, prio in campaigns.items():
            _campaign(session, cid, prio)
        ext = f"cap-{datetime.now().timestamp()}"
        session.execute(
            insert(Customer),
            [{"external_id": f"{ext}-{i}", "timezone": "Asia/Shanghai"} for i in range(customers)],
        )
        ids = list(
            session.execute(
                select(Customer.id)
                .where(Customer.external_id.like(f"{ext}-%"))
                .order_by(Customer.id)
            ).scalars()
        )
        wanted: dict[str, list[Wanted]] = {}
        for cid in campaigns:
            rows = session.execute(
                insert(PlannedSend).returning(PlannedSend.id, PlannedSend.customer_id),
                [
                    {
                        "campaign_id": cid,
                        "customer_id": c,
                        "channel": "sms",
                        "template": f"tpl-{cid}",
                        "scheduled_at": AT,
                        "unit_cost": Decimal("0.05"),
                        "idempotency_key": f"{cid}:{c}:sms:1",
                        "status": "sending",
                    }
                    for c in ids
                ],
            ).all()
            wanted[cid] = [
                Wanted(pid, cust, "sms", f"tpl-{cid}", "Asia/Shanghai") for pid, cust in rows
            ]
    return wanted


def test_two_campaigns_racing_never_exceed_the_daily_cap(pg_engine: Engine) -> None:
    wanted = _setup(pg_engine, 200, {"cap-a": 5, "cap-b": 5})
    rules = CapRules(per_day_total=1, per_week_total=3, template_cycle_days=30)
    barrier = threading.Barrier(2)
    refused: dict[str, dict[int, str]] = {}

    def race(cid: str) -> None:
        barrier.wait()
        with session_scope(pg_engine) as session:
            refused[cid] = reserve_contacts(session, cid, 5, wanted[cid], AT, rules)

    threads = [threading.Thread(target=race, args=(cid,)) for cid in wanted]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    customers = [w.customer_id for w in wanted["cap-a"]]
    with pg_engine.connect() as conn:
        per_customer = dict(
            conn.execute(
                select(ContactLedger.customer_id, func.count())
                .where(ContactLedger.customer_id.in_(customers))
                .group_by(ContactLedger.customer_id)
            ).all()
        )
    assert len(per_customer) == 200 and set(per_customer.values()) == {1}
    assert len(refused["cap-a"]) + len(refused["cap-b"]) == 200
    assert all(r == "frequency_cap:day" for d in refused.values() for r in d.values())


def test_higher_priority_campaign_wins_the_slot(pg_engine: Engine) -> None:
    wanted = _setup(pg_engine, 5, {"prio-low": 3, "prio-high": 8})
    rules = CapRules(per_day_total=1)
    with session_scope(pg_engine) as session:
        low = reserve_contacts(session, "prio-low", 3, wanted["prio-low"], AT, rules)
    assert set(low.values()) == {"frequency_cap:priority"}
    with session_scope(pg_engine) as session:
        high = reserve_contacts(session, "prio-high", 8, wanted["prio-high"], AT, rules)
    assert high == {}


def test_weekly_channel_cap_and_same_template(pg_engine: Engine) -> None:
    wanted = _setup(pg_engine, 3, {"week-1": 5})
    rules = CapRules(
        per_day_total=None,
        per_week_total=None,
        per_week_by_channel={"sms": 1},
        template_cycle_days=30,
    )
    with session_scope(pg_engine) as session:
        assert reserve_contacts(session, "week-1", 5, wanted["week-1"], AT, rules) == {}
    again = [
        Wanted(w.planned_send_id + 10**9, w.customer_id, "sms", "other", w.timezone)
        for w in wanted["week-1"]
    ]
    same = [
        Wanted(w.planned_send_id + 10**9, w.customer_id, "email", "tpl-week-1", w.timezone)
        for w in wanted["week-1"]
    ]
    with session_scope(pg_engine) as session:
        refused = reserve_contacts(session, "week-1", 5, again, AT, rules)
        assert set(refused.values()) == {"frequency_cap:week_sms"}
        refused = reserve_contacts(session, "week-1", 5, same, AT, rules)
        assert set(refused.values()) == {"frequency_cap:same_template"}
        session.rollback()


def test_released_reservation_frees_the_slot(pg_engine: Engine) -> None:
    wanted = _setup(pg_engine, 2, {"rel-1": 5})
    rules = CapRules(per_day_total=1, template_cycle_days=None)
    with session_scope(pg_engine) as session:
        assert reserve_contacts(session, "rel-1", 5, wanted["rel-1"], AT, rules) == {}
        release_contacts(session, [w.planned_send_id for w in wanted["rel-1"]])
    with session_scope(pg_engine) as session:
        assert reserve_contacts(session, "rel-1", 5, wanted["rel-1"], AT, rules) == {}
