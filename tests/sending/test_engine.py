"""The send engine against real PostgreSQL: re-checks, budget, quiet hours, retries, crashes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import NoReturn

import pytest
from sqlalchemy import Engine, func, insert, select, update

from channels.base import Outcome
from db.engine import session_scope
from models.cap_tables import ChannelHold
from models.tables import Campaign, ConsentEvent, Customer, Delivery, PlannedSend
from optout.apply import opt_out
from policy.consent import contactable
from policy.frequency_cap import CapRules
from sending.engine import SendEngine, SendPass
from tests.sending.fixtures import ScriptedProvider, make_campaign

AT = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # noon in Shanghai


def engine_for(pg: Engine, provider: ScriptedProvider) -> SendEngine:
    return SendEngine(pg, {provider.name: provider}, CapRules.unlimited())


def statuses(pg: Engine, cid: str) -> dict[tuple[str, str | None], int]:
    with pg.connect() as conn:
        rows = conn.execute(
            select(PlannedSend.status, PlannedSend.reason, func.count())
            .where(PlannedSend.campaign_id == cid)
            .group_by(PlannedSend.status, PlannedSend.reason)
        ).all()
    return {(s, r): n for s, r, n in rows}


async def run_pass(engine: SendEngine, cid: str, at: datetime = AT, claimer: str = "w1"):
    return await engine.run(SendPass(cid, at, claimer, batch_size=4), lambda _: None)


async def test_consent_revoked_after_planning_is_not_sent(pg_engine: Engine) -> None:
    cid, ids = make_campaign(pg_engine, AT, customers=5)
    with session_scope(pg_engine) as session:
        session.execute(
            insert(ConsentEvent),
            [
                {
                    "customer_id": ids[0],
                    "channel": "sms",
                    "purpose": "marketing",
                    "granted": False,
                    "source": "sms_reply",
                    "recorded_at": AT - timedelta(minutes=5),
                }
            ],
        )
    provider = ScriptedProvider()
    result = await run_pass(engine_for(pg_engine, provider), cid)
    assert result.sent == 4 and result.suppressed == 1
    assert statuses(pg_engine, cid)[("suppressed", "consent_revoked")] == 1
    assert f"{cid}:{ids[0]}:sms:1" not in provider.accepted


async def test_budget_is_never_exceeded(pg_engine: Engine) -> None:
    cid, _ = make_campaign(pg_engine, AT, customers=10, budget="0.30", unit_cost="0.05")
    provider = ScriptedProvider()
    result = await run_pass(engine_for(pg_engine, provider), cid)
    assert result.budget_exhausted and result.sent == 6
    with pg_engine.connect() as conn:
        spent = conn.execute(select(Campaign.spent).where(Campaign.id == cid)).scalar_one()
        cost = conn.execute(
            select(func.sum(Delivery.cost)).where(Delivery.campaign_id == cid)
        ).scalar_one()
    assert spent == cost == Decimal("0.30")
    assert statuses(pg_engine, cid)[("suppressed", "budget_exhausted")] == 4


async def test_quiet_hours_defer_to_the_next_allowed_time(pg_engine: Engine) -> None:
    cid, _ = make_campaign(pg_engine, AT, customers=3, quiet=(time(11, 0), time(14, 0)))
    provider = ScriptedProvider()
    result = await run_pass(engine_for(pg_engine, provider), cid)
    assert result.sent == 0 and result.deferred == 3
    assert result.next_due_at == datetime(2026, 11, 25, 6, 0, tzinfo=UTC)  # 14:00 Shanghai
    later = await run_pass(
        engine_for(pg_engine, provider), cid, at=AT + timedelta(hours=2, minutes=1)
    )
    assert later.sent == 3 and len(provider.accepted) == 3


async def test_429_and_5xx_back_off_then_everything_goes_once(pg_engine: Engine) -> None:
    cid, ids = make_campaign(pg_engine, AT, customers=4)
    provider = ScriptedProvider(script=[Outcome.RATE_LIMITED, Outcome.RETRYABLE])
    eng = engine_for(pg_engine, provider)
    first = await run_pass(eng, cid)
    assert first.sent == 0 and first.remaining == 4
    assert first.next_due_at is not None and first.next_due_at >= AT + timedelta(seconds=30)
    second = await run_pass(eng, cid, at=first.next_due_at)
    assert second.sent == 0
    assert second.next_due_at is not None and second.next_due_at - first.next_due_at >= timedelta(
        seconds=60
    )
    third = await run_pass(eng, cid, at=second.next_due_at)
    assert third.sent == 4 and third.remaining == 0
    assert sorted(provider.accepted.values()) == [1, 1, 1, 1]


async def test_permanent_failure_is_recorded_and_not_retried(pg_engine: Engine) -> None:
    cid, _ = make_campaign(pg_engine, AT, customers=2)
    provider = ScriptedProvider(script=[Outcome.PERMANENT])
    result = await run_pass(engine_for(pg_engine, provider), cid)
    assert result.failed == 2 and result.remaining == 0
    assert statuses(pg_engine, cid) == {("failed", "E-permanent"): 2}


async def test_crash_after_provider_accepted_does_not_send_twice(pg_engine: Engine) -> None:
    """The provider accepted the batch, then the worker died before recording: the retry
    re-sends with the same keys, the provider dedupes, and each send is recorded once."""
    cid, ids = make_campaign(pg_engine, AT, customers=4)
    provider = ScriptedProvider()
    crashing = engine_for(pg_engine, provider)

    def boom(*_args: object, **_kwargs: object) -> NoReturn:
        raise RuntimeError("worker died")

    crashing._record = boom  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await run_pass(crashing, cid, claimer="run1/act1")
    assert statuses(pg_engine, cid) == {("sending", None): 4}
    retried = await run_pass(engine_for(pg_engine, provider), cid, claimer="run1/act1")
    assert retried.sent == 4
    assert sorted(provider.accepted.values()) == [2, 2, 2, 2]  # offered twice, same keys
    assert len(provider.accepted) == 4
    with pg_engine.connect() as conn:
        made = conn.execute(
            select(func.count()).select_from(Delivery).where(Delivery.campaign_id == cid)
        ).scalar_one()
    assert made == 4


async def test_a_channel_that_keeps_failing_is_held(pg_engine: Engine) -> None:
    cid, _ = make_campaign(pg_engine, AT, customers=12)
    provider = ScriptedProvider(script=[Outcome.RETRYABLE] * 10)
    result = await run_pass(engine_for(pg_engine, provider), cid)
    assert result.sent == 0 and provider.calls == 3
    with pg_engine.connect() as conn:
        channel, until = conn.execute(
            select(ChannelHold.channel, ChannelHold.until).where(ChannelHold.campaign_id == cid)
        ).one()
    assert channel == "sms" and until > AT


async def test_provider_blacklist_answer_suppresses_the_customer(pg_engine: Engine) -> None:
    cid, ids = make_campaign(pg_engine, AT, customers=2)
    provider = ScriptedProvider(script=[Outcome.OPTED_OUT])
    result = await run_pass(engine_for(pg_engine, provider), cid)
    assert result.suppressed == 2
    assert statuses(pg_engine, cid) == {("suppressed", "provider_opt_out"): 2}
    with pg_engine.connect() as conn:
        still = conn.execute(
            select(func.count())
            .select_from(Customer)
            .where(Customer.id.in_(ids), contactable("sms"))
        ).scalar_one()
    assert still == 0


async def test_opt_out_arriving_mid_campaign_stops_the_next_send(pg_engine: Engine) -> None:
    cid, ids = make_campaign(pg_engine, AT, customers=4)
    with session_scope(pg_engine) as session:  # half the sends fall due an hour later
        session.execute(
            update(PlannedSend)
            .where(PlannedSend.customer_id.in_(ids[2:]))
            .values(scheduled_at=AT + timedelta(hours=1))
        )
    provider = ScriptedProvider()
    first = await run_pass(engine_for(pg_engine, provider), cid)
    assert first.sent == 2 and first.remaining == 2
    with session_scope(pg_engine) as session:
        opt_out(
            session, customer_id=ids[3], channel="sms", source="sms_reply", at=AT, actor="customer"
        )
    later = await run_pass(engine_for(pg_engine, provider), cid, at=AT + timedelta(hours=1))
    assert later.sent == 1 and later.suppressed == 1
    assert f"{cid}:{ids[3]}:sms:1" not in provider.accepted
    assert statuses(pg_engine, cid)[("suppressed", "consent_revoked")] == 1


async def test_minors_and_profiling_refusals_are_not_contacted(pg_engine: Engine) -> None:
    cid, ids = make_campaign(pg_engine, AT, customers=3)
    with session_scope(pg_engine) as session:
        session.execute(update(Customer).where(Customer.id == ids[0]).values(birth_year=2015))
        session.execute(
            insert(ConsentEvent),
            [
                {
                    "customer_id": ids[1],
                    "channel": "sms",
                    "purpose": "profiling",
                    "granted": False,
                    "source": "privacy_center",
                    "recorded_at": AT - timedelta(days=1),
                }
            ],
        )
    provider = ScriptedProvider()
    result = await run_pass(engine_for(pg_engine, provider), cid)
    assert result.sent == 1 and result.suppressed == 2
    found = statuses(pg_engine, cid)
    assert found[("suppressed", "minor")] == 1 and found[("suppressed", "profiling_opt_out")] == 1


async def test_a_pass_stops_at_its_item_and_time_bounds_and_asks_to_be_called_again(
    pg_engine: Engine,
) -> None:
    """A pass hands control back to the workflow (which checks pause and cancel) after its item
    budget or its time budget, whichever comes first; the rest stays planned."""
    cid, _ = make_campaign(pg_engine, AT, customers=10)
    engine = engine_for(pg_engine, ScriptedProvider())
    by_items = await engine.run(SendPass(cid, AT, "w1", max_items=4, batch_size=4), lambda _: None)
    assert (by_items.sent, by_items.saturated, by_items.remaining) == (4, True, 6)
    by_time = await engine.run(SendPass(cid, AT, "w1", batch_size=4, max_seconds=0), lambda _: None)
    assert (by_time.sent, by_time.saturated, by_time.remaining) == (0, True, 6)
    rest = await run_pass(engine, cid)
    assert (rest.sent, rest.saturated, rest.remaining) == (6, False, 0)
