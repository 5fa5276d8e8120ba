"""A journey end to end on the time-skipping server with real activities and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, update
from temporalio.testing import WorkflowEnvironment

from activities.context import configure, current
from engagement.events import EventType
from models.contracts import Phase
from models.engagement_tables import MessageEvent
from models.journey_tables import JourneyPosition, JourneyVisit
from models.tables import Campaign, Customer, Delivery, PlannedSend, SandboxOutbox
from orchestration.worker_setup import build_worker
from policy.frequency_cap import CapRules
from tests.campaigns import outbox_count, send_statuses
from tests.journeys import BODY, ab_then_remind
from tests.people import decide
from tests.workflows.test_campaign_workflow import Handle, run_lengths, start, until_phase
from workflows.campaign import CampaignWorkflow


@pytest.fixture
async def worker(
    skipping_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> AsyncIterator[str]:
    async with build_worker(skipping_env.client, task_queue):
        yield task_queue


def _click(engine: Engine, campaign_id: str, every: int) -> set[int]:
    """A click on every `every`-th first-step message; returns the customers who clicked."""
    with engine.begin() as conn:
        sent = conn.execute(
            select(PlannedSend.id, PlannedSend.customer_id, PlannedSend.channel)
            .where(
                PlannedSend.campaign_id == campaign_id,
                PlannedSend.step == "first",
                PlannedSend.status == "sent",
            )
            .order_by(PlannedSend.id)
        ).all()
        now = datetime.now(UTC)
        clicked = sent[::every]
        conn.execute(
            MessageEvent.__table__.insert(),
            [
                {
                    "dedupe_key": f"click-{ps_id}",
                    "event_type": EventType.CLICKED.value,
                    "channel": channel,
                    "provider": "sandbox",
                    "campaign_id": campaign_id,
                    "planned_send_id": ps_id,
                    "customer_id": cid,
                    "occurred_at": now,
                    "received_at": now,
                    "detail": {},
                }
                for ps_id, cid, channel in clicked
            ],
        )
    return {cid for _, cid, _ in clicked}


async def test_ab_send_wait_branch_on_click_then_remind_the_rest(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker, steps=ab_then_remind())
    waiting = await until_phase(handle, Phase.AWAITING_APPROVAL)
    planned = waiting.counters.planned
    assert planned > 0
    await decide(handle, "approve", by="李娜", comment="ok")
    await skipping_env.sleep(timedelta(minutes=30))  # past the send window: first sends made
    status = await until_phase(handle, Phase.SENDING)
    assert status.journey == {"pause": planned}
    cid = status.campaign_id
    clickers = _click(seeded, cid, every=3)
    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    with seeded.connect() as conn:
        by_step = dict(
            conn.execute(
                select(PlannedSend.step, func.count())
                .where(PlannedSend.campaign_id == cid, PlannedSend.status == "sent")
                .group_by(PlannedSend.step)
            ).all()
        )
        reminded = set(
            conn.execute(
                select(PlannedSend.customer_id).where(
                    PlannedSend.campaign_id == cid, PlannedSend.step == "remind"
                )
            ).scalars()
        )
        visits = dict(
            conn.execute(
                select(JourneyVisit.step, func.count())
                .where(JourneyVisit.campaign_id == cid)
                .group_by(JourneyVisit.step)
            ).all()
        )
        variants = dict(
            conn.execute(
                select(PlannedSend.variant, func.count())
                .where(PlannedSend.campaign_id == cid, PlannedSend.step == "first")
                .group_by(PlannedSend.variant)
            ).all()
        )
        bodies = (
            conn.execute(select(SandboxOutbox.body).where(SandboxOutbox.campaign_id == cid))
            .scalars()
            .all()
        )
        ends = dict(
            conn.execute(
                select(JourneyPosition.state, func.count())
                .where(JourneyPosition.campaign_id == cid)
                .group_by(JourneyPosition.state)
            ).all()
        )
    assert by_step == {"first": planned, "remind": planned - len(clickers)}
    assert reminded.isdisjoint(clickers)
    assert visits == {
        "first": planned,
        "pause": planned,
        "check": planned,
        "thanks": len(clickers),
        "remind": planned - len(clickers),
    }
    assert set(variants) == {"A", "B"} and sum(variants.values()) == planned
    assert min(variants.values()) > planned * 0.3
    assert sum(b.startswith("A：") for b in bodies) == variants["A"]
    assert sum(b.startswith("提醒：") for b in bodies) == planned - len(clickers)
    assert ends == {"done": planned}
    assert final.counters.sent == 2 * planned - len(clickers)
    assert final.journey == {} and final.journey_ended == {"done": planned}


def _count(engine: Engine, campaign_id: str, step: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).where(
                PlannedSend.campaign_id == campaign_id, PlannedSend.step == step
            )
        ).scalar_one()


def _states(engine: Engine, campaign_id: str) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(JourneyPosition.state, func.count())
                .where(JourneyPosition.campaign_id == campaign_id)
                .group_by(JourneyPosition.state)
            ).all()
        )


async def _at_the_wait(env: WorkflowEnvironment, queue: str) -> tuple[Handle, str, int]:
    """A journey approved, its first sends made, its customers waiting at `pause` (1d)."""
    handle = await start(env, queue, steps=ab_then_remind())
    planned = (await until_phase(handle, Phase.AWAITING_APPROVAL)).counters.planned
    await decide(handle, "approve", by="李娜", comment="ok")
    await env.sleep(timedelta(minutes=30))
    status = await handle.query(CampaignWorkflow.status)
    assert status.journey == {"pause": planned}
    return handle, status.campaign_id, planned


async def test_pause_at_a_wait_holds_customers_there_until_resume(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle, cid, planned = await _at_the_wait(skipping_env, worker)
    await handle.signal(CampaignWorkflow.pause, "王芳")
    await skipping_env.sleep(timedelta(days=3))  # long past the wait
    status = await handle.query(CampaignWorkflow.status)
    assert status.paused and status.journey == {"pause": planned}
    assert _count(seeded, cid, "remind") == 0
    await handle.signal(CampaignWorkflow.resume, "王芳")
    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    assert _count(seeded, cid, "remind") == planned  # nobody clicked
    assert final.journey_ended == {"done": planned}


async def test_cancel_at_a_wait_ends_every_customer_there_and_sends_nothing_more(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle, cid, planned = await _at_the_wait(skipping_env, worker)
    await handle.signal(CampaignWorkflow.cancel, "王芳")
    final = await handle.result()
    assert final.phase == Phase.CANCELLED
    assert _states(seeded, cid) == {"cancelled": planned}
    assert _count(seeded, cid, "remind") == 0
    assert outbox_count(seeded, cid) == planned


async def test_cancel_at_a_send_step_closes_its_sends_and_the_journey(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    """Cancelled before the window opens: the first step's sends are all still planned."""
    handle = await start(skipping_env, worker, steps=ab_then_remind())
    planned = (await until_phase(handle, Phase.AWAITING_APPROVAL)).counters.planned
    await decide(handle, "approve", by="李娜", comment="ok")
    status = await until_phase(handle, Phase.SENDING)
    await handle.signal(CampaignWorkflow.cancel, "王芳")
    final = await handle.result()
    assert final.phase == Phase.CANCELLED
    assert _states(seeded, status.campaign_id) == {"cancelled": planned}
    assert send_statuses(seeded, status.campaign_id) == {"cancelled": planned}
    assert outbox_count(seeded, status.campaign_id) == 0


async def test_a_journey_continues_as_new_mid_way_and_loses_nothing(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    limit = 40
    handle = await start(
        skipping_env,
        worker,
        sending={"send_max_items": 5, "send_lanes": 1, "history_limit": limit},
        steps=ab_then_remind(wait="2h"),
    )
    planned = (await until_phase(handle, Phase.AWAITING_APPROVAL)).counters.planned
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    assert final.counters.sent == 2 * planned == outbox_count(seeded, final.campaign_id)
    assert final.journey_ended == {"done": planned}
    runs = await run_lengths(skipping_env, handle)
    assert len(runs) >= 3


SHANGHAI = ZoneInfo("Asia/Shanghai")
PRICED = [{"channel": "app_push", "template": "t-push", "unit_cost": "0.10", "body": BODY}]


async def test_the_budget_covers_the_whole_journey(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    """A budget that pays for the first message only: the first reminder due is suppressed as
    budget_exhausted and the journey ends for everyone still in it; the spend is the first
    step's to the cent."""
    handle = await start(skipping_env, worker, channels=PRICED, steps=ab_then_remind(wait="2h"))
    status = await until_phase(handle, Phase.AWAITING_APPROVAL)
    cid, planned = status.campaign_id, status.counters.planned
    first_cost = Decimal("0.10") * planned
    with seeded.begin() as conn:
        conn.execute(update(Campaign).where(Campaign.id == cid).values(budget_limit=first_cost))
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    assert final.counters.sent == planned
    # the first reminder due finds the budget spent; the journey ends for everyone there
    assert list(final.counters.suppressed_by) == ["budget_exhausted"]
    assert final.counters.spent == first_cost
    assert final.journey == {} and final.journey_ended == {"budget_exhausted": planned}
    with seeded.connect() as conn:
        spent = conn.execute(select(Campaign.spent).where(Campaign.id == cid)).scalar_one()
    assert spent == first_cost


@pytest.fixture
def one_a_day(seeded: Engine) -> Iterator[None]:
    """Workers cap marketing at one message a day per customer, for this test only."""
    before = current()
    configure(
        replace(
            before, caps=CapRules(per_day_total=1, per_week_total=None, template_cycle_days=None)
        )
    )
    yield
    configure(before)


async def test_caps_hold_across_a_plain_campaign_and_a_journey(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine, one_a_day: None
) -> None:
    """Customers who got a plain campaign's message today get neither of the journey's; the
    others get its first message and not its reminder (the same day)."""
    plain = await start(skipping_env, worker)
    planned = (await until_phase(plain, Phase.AWAITING_APPROVAL)).counters.planned
    await decide(plain, "approve", by="李娜")
    await skipping_env.sleep(timedelta(minutes=30))
    status = await plain.query(CampaignWorkflow.status)
    assert status.counters.sent == planned
    now = await skipping_env.get_current_time()
    journey = await start(
        skipping_env,
        worker,
        channels=[{**PRICED[0], "template": "t-journey", "unit_cost": None}],
        steps=ab_then_remind(wait="10m"),
        send_window={"start": now + timedelta(minutes=2), "end": now + timedelta(minutes=10)},
    )
    waiting = await until_phase(journey, Phase.AWAITING_APPROVAL)
    await decide(journey, "approve", by="李娜")
    final = await journey.result()
    with seeded.connect() as conn:
        first = {
            cid: state
            for cid, state in conn.execute(
                select(PlannedSend.customer_id, PlannedSend.status).where(
                    PlannedSend.campaign_id == waiting.campaign_id, PlannedSend.step == "first"
                )
            ).all()
        }
        reached = set(
            conn.execute(
                select(PlannedSend.customer_id).where(
                    PlannedSend.campaign_id == status.campaign_id, PlannedSend.status == "sent"
                )
            ).scalars()
        )
    both = reached & set(first)
    assert both and set(first) - reached  # the holdouts differ: some got only the journey
    assert {c for c, s in first.items() if s == "sent"} == set(first) - reached
    assert final.counters.sent == len(first) - len(both)
    assert final.counters.suppressed_by == {"frequency_cap:day": len(both) + len(first)}
    assert final.journey_ended == {"done": len(first)}
    await plain.result()


async def test_a_step_reached_in_quiet_hours_sends_when_they_end(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    """First message tomorrow morning; the wait runs until 22:30 local, inside the quiet hours
    (21:00–08:00): the reminder goes out at 08:00 the next morning, in each customer's zone."""
    now = await skipping_env.get_current_time()  # the test server's clock runs ahead
    tomorrow = (now + timedelta(days=1)).astimezone(SHANGHAI).date()
    start_at = datetime.combine(tomorrow, time(10), tzinfo=SHANGHAI)
    handle = await start(
        skipping_env,
        worker,
        steps=ab_then_remind(wait="22:30"),
        quiet_hours={"start": "21:00", "end": "08:00"},
        send_window={"start": start_at, "end": start_at + timedelta(minutes=20)},
    )
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    with seeded.connect() as conn:
        rows = conn.execute(
            select(Delivery.sent_at, Customer.timezone)
            .join(PlannedSend, PlannedSend.id == Delivery.planned_send_id)
            .join(Customer, Customer.id == Delivery.customer_id)
            .where(PlannedSend.campaign_id == final.campaign_id, PlannedSend.step == "remind")
        ).all()
    local = {sent_at.astimezone(ZoneInfo(tz)) for sent_at, tz in rows}
    assert len(rows) == final.journey_ended["done"] > 0
    assert {(t.date(), t.hour) for t in local} == {(tomorrow + timedelta(days=1), 8)}
