"""The send engine under faults, on real PostgreSQL: a pass that dies mid-batch, a budget held by
sends in flight, an operator's halt, and counts and metrics that say exactly what happened."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import NoReturn

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import Engine, func, insert, select, update

from channels.base import OutboundMessage, Outcome, SendResult
from db.engine import session_scope
from models.cap_tables import ContactLedger
from models.tables import Campaign, Delivery, PlannedSend
from policy.frequency_cap import CapRules
from sending.engine import SendEngine, SendPass
from sending.halt import set_halt
from sending.rate_limit import RateLimiter
from tests.sending.fixtures import ScriptedProvider, make_campaign
from tests.sending.test_engine import AT, engine_for, statuses


def spend(pg: Engine, cid: str) -> tuple[Decimal, Decimal]:
    """(campaigns.spent, the cost of the deliveries made)."""
    with pg.connect() as conn:
        spent = conn.execute(select(Campaign.spent).where(Campaign.id == cid)).scalar_one()
        made = conn.execute(
            select(func.coalesce(func.sum(Delivery.cost), 0)).where(Delivery.campaign_id == cid)
        ).scalar_one()
    return spent, Decimal(made)


def crashing(pg: Engine, provider: ScriptedProvider) -> SendEngine:
    """An engine whose worker dies after the provider answered, before recording."""
    eng = engine_for(pg, provider)

    def boom(*_args: object, **_kwargs: object) -> NoReturn:
        raise RuntimeError("worker died")

    eng._record = boom  # type: ignore[method-assign]
    return eng


def one_pass(cid: str, claimer: str, batch: int = 4) -> SendPass:
    """A pass of one batch."""
    return SendPass(cid, AT, claimer, max_items=batch, batch_size=batch)


async def test_a_batch_claimed_again_after_a_crash_reserves_its_budget_once(
    pg_engine: Engine,
) -> None:
    """Budget = exactly the plan's cost: the retry of a pass that died, then a second worker
    taking over an expired claim, still send everything and spend exactly what was sent."""
    cid, _ = make_campaign(pg_engine, AT, customers=8, budget="0.40", unit_cost="0.05")
    provider = ScriptedProvider()
    with pytest.raises(RuntimeError):
        await crashing(pg_engine, provider).run(one_pass(cid, "run1/a1"), lambda _: None)
    retried = await engine_for(pg_engine, provider).run(one_pass(cid, "run1/a1"), lambda _: None)
    assert retried.sent == 4 and not retried.budget_exhausted
    with pytest.raises(RuntimeError):
        await crashing(pg_engine, provider).run(one_pass(cid, "run1/a2"), lambda _: None)
    with session_scope(pg_engine) as session:  # that worker is gone: its lease runs out
        session.execute(
            update(PlannedSend)
            .where(PlannedSend.claimed_by == "run1/a2")
            .values(claimed_at=datetime.now(UTC) - timedelta(minutes=3))
        )
    rest = await engine_for(pg_engine, provider).run(one_pass(cid, "run2/a1", 8), lambda _: None)
    assert not rest.budget_exhausted
    assert statuses(pg_engine, cid) == {("sent", None): 8}
    assert spend(pg_engine, cid) == (Decimal("0.40"), Decimal("0.40"))
    assert len(provider.accepted) == 8


async def test_budget_held_by_sends_in_flight_waits_instead_of_closing_the_campaign(
    pg_engine: Engine,
) -> None:
    """A pass finds the budget full only because another pass's sends are in flight: it puts
    its sends back; when those in flight fail (refunded), they go."""
    cid, _ = make_campaign(pg_engine, AT, customers=4, budget="0.15", unit_cost="0.05")
    provider = ScriptedProvider()
    with pytest.raises(RuntimeError):
        await crashing(pg_engine, provider).run(one_pass(cid, "run1/a1", 2), lambda _: None)
    other = await engine_for(pg_engine, provider).run(one_pass(cid, "run1/a2", 2), lambda _: None)
    assert other.sent == 1 and other.budget_waiting and not other.budget_exhausted
    assert ("suppressed", "budget_exhausted") not in statuses(pg_engine, cid)
    refusing = ScriptedProvider(script=[Outcome.PERMANENT])
    died = await engine_for(pg_engine, refusing).run(one_pass(cid, "run1/a1", 2), lambda _: None)
    assert died.failed == 2
    last = await engine_for(pg_engine, provider).run(one_pass(cid, "run1/a3", 2), lambda _: None)
    assert last.sent == 1 and last.remaining == 0
    assert statuses(pg_engine, cid) == {("sent", None): 2, ("failed", "E-permanent"): 2}
    assert spend(pg_engine, cid) == (Decimal("0.10"), Decimal("0.10"))


async def test_the_budget_stop_counts_every_send_it_closes(pg_engine: Engine) -> None:
    cid, _ = make_campaign(pg_engine, AT, customers=10, budget="0.30", unit_cost="0.05")
    result = await engine_for(pg_engine, ScriptedProvider()).run(
        SendPass(cid, AT, "w", batch_size=4), lambda _: None
    )
    assert result.sent == 6 and result.budget_exhausted
    assert result.suppressed == result.suppressed_by["budget_exhausted"] == 4
    assert statuses(pg_engine, cid)[("suppressed", "budget_exhausted")] == 4


class SlowProvider(ScriptedProvider):
    """Sets the halt flag itself after its first call, as an operator would mid-batch."""

    def __init__(self, pg: Engine, cid: str) -> None:
        super().__init__()
        self._pg, self._cid = pg, cid

    async def send_batch(self, messages: Sequence[OutboundMessage]) -> list[SendResult]:
        answers = await super().send_batch(messages)
        if self.calls == 1:
            with session_scope(self._pg) as session:
                set_halt(session, self._cid, "pause")
        return answers


async def test_a_halt_stops_the_pass_before_its_next_provider_call(pg_engine: Engine) -> None:
    """Rate limited to 2 a second: the halt lands within one call; what was not offered is
    planned again, its budget given back, and not counted as an attempt."""
    cid, _ = make_campaign(pg_engine, AT, customers=10, budget="1", unit_cost="0.05")
    provider = SlowProvider(pg_engine, cid)
    eng = SendEngine(pg_engine, {"sms": provider}, CapRules.unlimited(), {"sms": RateLimiter(2, 1)})
    halted = await eng.run(SendPass(cid, AT, "w", batch_size=100, max_seconds=30), lambda _: None)
    assert halted.halted and halted.sent == 2 and provider.calls == 1
    assert statuses(pg_engine, cid) == {("sent", None): 2, ("planned", None): 8}
    assert spend(pg_engine, cid) == (Decimal("0.10"), Decimal("0.10"))
    with pg_engine.connect() as conn:
        attempts = set(
            conn.execute(
                select(PlannedSend.attempts).where(
                    PlannedSend.campaign_id == cid, PlannedSend.status == "planned"
                )
            ).scalars()
        )
    assert attempts == {0}
    with session_scope(pg_engine) as session:
        set_halt(session, cid, None)
    rest = await eng.run(SendPass(cid, AT, "w2", batch_size=100, max_seconds=30), lambda _: None)
    assert rest.sent == 8 and rest.remaining == 0
    assert sorted(provider.accepted.values()) == [1] * 10


async def test_a_pass_under_a_low_rate_limit_claims_what_it_can_send_in_its_time_bound(
    pg_engine: Engine,
) -> None:
    """At 2 a second and a 1 s bound a pass claims 2, not its batch of 1,000: no claim outlives
    its lease and the pass returns in time for the workflow to see a pause."""
    cid, _ = make_campaign(pg_engine, AT, customers=6)
    provider = ScriptedProvider()
    eng = SendEngine(pg_engine, {"sms": provider}, CapRules.unlimited(), {"sms": RateLimiter(2, 1)})
    started = asyncio.get_running_loop().time()
    result = await eng.run(SendPass(cid, AT, "w", batch_size=1000, max_seconds=1), lambda _: None)
    assert result.saturated and 2 <= result.sent <= 4 and result.remaining >= 2
    assert asyncio.get_running_loop().time() - started < 3


async def test_metrics_carry_the_exact_suppression_reason(pg_engine: Engine) -> None:
    cid, ids = make_campaign(pg_engine, AT, customers=2)
    with session_scope(pg_engine) as session:  # another campaign reached ids[0] an hour ago
        earlier = session.execute(
            insert(PlannedSend).returning(PlannedSend.id),
            [
                {
                    "campaign_id": f"{cid}-earlier",
                    "customer_id": ids[0],
                    "channel": "sms",
                    "template": "x",
                    "scheduled_at": AT,
                    "unit_cost": Decimal("0.05"),
                    "idempotency_key": f"{cid}-earlier:{ids[0]}",
                    "status": "sent",
                }
            ],
        ).scalar_one()
        session.execute(
            insert(ContactLedger),
            [
                {
                    "customer_id": ids[0],
                    "channel": "sms",
                    "campaign_id": f"{cid}-earlier",
                    "template": "x",
                    "planned_send_id": earlier,
                    "at": AT - timedelta(hours=1),
                }
            ],
        )
    labels = {"channel": "sms", "outcome": "suppressed:frequency_cap:day"}
    before = REGISTRY.get_sample_value("omnireach_sends_total", labels) or 0
    eng = SendEngine(pg_engine, {"sms": ScriptedProvider()}, CapRules(per_week_total=None))
    result = await eng.run(one_pass(cid, "w"), lambda _: None)
    assert result.suppressed_by == {"frequency_cap:day": 1}
    assert REGISTRY.get_sample_value("omnireach_sends_total", labels) == before + 1
