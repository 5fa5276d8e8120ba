"""Real worker processes on a real dev server: a kill -9 in the middle of research, planning,
review, a journey's entry or advance, or a profile refresh is noticed by the heartbeat timeout,
and the phase completes on a newly started worker within two minutes (not after the 30-60 min
start-to-close timeout).

To make the kill land inside the phase, the test holds a table lock the phase's statements need
(a table nothing earlier in the run touches): the activity waits on it until the worker is dead.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from temporalio.api.enums.v1 import EventType, TimeoutType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from models.contracts import CampaignInput, Phase, RefreshResult
from tests.campaigns import new_id, spec_at
from tests.journeys import ab_then_remind
from tests.workflows.conftest import seeded_base
from tests.workflows.test_campaign_workflow import until_phase
from tests.workflows.test_worker_processes import approved_campaign, start_worker
from workflows.campaign import CampaignWorkflow, workflow_id
from workflows.profile_refresh import ProfileRefreshWorkflow

Handle = WorkflowHandle[Any, Any]
WITHIN = 120.0  # seconds from the kill to the phase done on the new worker


@pytest.fixture(scope="module")
def base() -> Iterator[tuple[str, Engine]]:
    """A small seeded base of its own: the phases' SQL only has to run, not to take long."""
    yield from seeded_base("omni_kill", customers=300, seed=7)


async def new_campaign(env: WorkflowEnvironment, queue: str) -> Handle:
    cid = new_id()
    return await env.client.start_workflow(
        CampaignWorkflow.run,
        CampaignInput(campaign_id=cid, spec=spec_at(datetime.now(UTC)), requested_by="王芳"),
        id=workflow_id(cid),
        task_queue=queue,
    )


async def approved(env: WorkflowEnvironment, queue: str) -> Handle:
    """Approved, sending in a few seconds, reviewed one second after (a short review delay)."""
    handle, _, _ = await approved_campaign(env, queue)
    return handle


async def approved_journey(env: WorkflowEnvironment, queue: str) -> Handle:
    """An approved journey (send → wait 2s → branch → reminder); nobody clicks."""
    handle, _, _ = await approved_campaign(env, queue, steps=ab_then_remind(wait="2s"))
    return handle


async def profile_refresh(env: WorkflowEnvironment, queue: str) -> Handle:
    return await env.client.start_workflow(
        ProfileRefreshWorkflow.run, id=f"refresh-{uuid.uuid4().hex[:8]}", task_queue=queue
    )


async def awaiting_approval(handle: Handle) -> None:
    await until_phase(handle, Phase.AWAITING_APPROVAL, WITHIN)


async def completed(handle: Handle) -> None:
    assert (await handle.result()).phase == Phase.COMPLETED


async def journey_done(handle: Handle) -> None:
    """Everyone went the whole way: the first message and the reminder each handled once, sent
    or held back by the worker's default caps (one marketing message a day, no template twice
    in 30 days: the customers are shared with the other phases' campaigns)."""
    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    assert list(final.journey_ended) == ["done"] and final.journey == {}
    done, c = final.journey_ended["done"], final.counters
    assert c.sent + c.suppressed == 2 * done and done > 0
    assert sum(c.suppressed_by.values()) == c.suppressed >= done
    assert all(reason.startswith("frequency_cap:") for reason in c.suppressed_by)


async def refreshed(handle: Handle) -> None:
    result = await handle.result()
    assert isinstance(result, RefreshResult) and result.profiles > 0


@dataclass(frozen=True)
class LongPhase:
    """A long activity; a table its statements need that nothing earlier in the run touches;
    how to start the run; what shows the run got past the activity."""

    activity: str
    table: str
    start: Callable[[WorkflowEnvironment, str], Awaitable[Handle]]
    passed: Callable[[Handle], Awaitable[None]]
    once: bool = True  # the run calls it once (a journey advances again and again)


PHASES = [
    # research: DELETE of the campaign's old snapshot, after the profile freshness check
    LongPhase("research_audience", "audience_members", new_campaign, awaiting_approval),
    # planning: the in-progress check on planned_sends, after the plan's temp tables are filled
    LongPhase("plan_campaign", "planned_sends", new_campaign, awaiting_approval),
    # review: the broadcast lines, read by the review only
    LongPhase("review_campaign", "broadcast_lines", approved, completed),
    # a journey's entry: its customers' positions, written first by the sending phase
    LongPhase("enter_journey", "journey_positions", approved_journey, journey_done),
    # a journey's advance: the A/B winners, read first by every advance
    LongPhase("advance_journey", "journey_winners", approved_journey, journey_done, once=False),
    # refresh: the stored profiles, compared with the new ones after the order statistics
    LongPhase("refresh_all_profiles", "customer_profiles", profile_refresh, refreshed),
]


def with_name(url: str, name: str) -> str:
    """The worker's connections carry `name`, so the test can find its backends."""
    return f"{url}?application_name={name}"


@contextmanager
def locked(engine: Engine, table: str) -> Iterator[None]:
    """ACCESS EXCLUSIVE on `table` in an open transaction of our own, until the block ends."""
    with engine.connect() as conn, conn.begin():
        conn.execute(text(f'LOCK TABLE "{table}" IN ACCESS EXCLUSIVE MODE'))
        yield


async def until_waiting(engine: Engine, app: str, table: str, seconds: float = 120) -> int:
    """The pid of the worker's backend waiting for the lock on `table`."""
    query = text(
        "SELECT a.pid FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
        "WHERE a.datname = current_database() AND a.application_name = :app "
        "AND a.wait_event_type = 'Lock' AND NOT l.granted "
        "AND l.relation = CAST(:table AS regclass)"
    )
    for _ in range(int(seconds * 5)):
        with engine.connect() as conn:
            pid = conn.execute(query, {"app": app, "table": table}).scalar()
        if pid is not None:
            return int(pid)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no backend of {app} ever waited on {table}")


def backends(engine: Engine, app: str) -> list[int]:
    """The worker's backends (by application name)."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND application_name = :app"
                ),
                {"app": app},
            ).scalars()
        )


async def until_gone(engine: Engine, app: str, seconds: float = 15) -> None:
    """The dead worker's backends end by themselves within seconds (the client check), even
    while they wait on a lock, so they hold nothing the retry needs."""
    for _ in range(int(seconds * 5)):
        if not backends(engine, app):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"the killed worker's backends still run: {backends(engine, app)}")


async def pending_attempt(handle: Handle, activity: str) -> tuple[int, str]:
    """(attempt, worker identity) of the workflow's pending `activity`."""
    desc = await handle.describe()
    found = [p for p in desc.raw_description.pending_activities if p.activity_type.name == activity]
    assert found, f"{activity} is not pending"
    return found[0].attempt, found[0].last_worker_identity


async def started_events(handle: Handle, activity: str) -> list[HistoryEvent]:
    """The ActivityTaskStarted events of `activity` (a retried attempt's carries the failure)."""
    history = await handle.fetch_history()
    scheduled = {
        e.event_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == activity
    }
    return [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        and e.activity_task_started_event_attributes.scheduled_event_id in scheduled
    ]


def stop(worker: subprocess.Popen[bytes]) -> None:
    worker.kill()
    worker.wait(10)


@pytest.mark.parametrize("phase", PHASES, ids=[p.activity for p in PHASES])
async def test_kill_9_in_a_long_phase_then_a_new_worker_finishes_it_within_two_minutes(
    dev_env: WorkflowEnvironment, base: tuple[str, Engine], tmp_path: Path, phase: LongPhase
) -> None:
    url, engine = base
    queue = f"q-{uuid.uuid4().hex[:6]}"
    dead, fresh = f"dead-{queue}", f"fresh-{queue}"
    log = tmp_path / "worker.log"
    worker = start_worker(dev_env, with_name(url, dead), queue, log)
    try:
        with locked(engine, phase.table):
            handle = await phase.start(dev_env, queue)
            await until_waiting(engine, dead, phase.table)
            attempt, identity = await pending_attempt(handle, phase.activity)
            assert (attempt, identity.split("@")[0]) == (1, str(worker.pid))
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            killed_at = asyncio.get_running_loop().time()
            worker = start_worker(dev_env, with_name(url, fresh), queue, log)
            await until_gone(engine, dead)  # while the lock is still held: no lingering locks
        left = WITHIN - (asyncio.get_running_loop().time() - killed_at)
        try:
            await asyncio.wait_for(phase.passed(handle), left)
        except TimeoutError:
            raise AssertionError(
                f"{phase.activity} not done {WITHIN:.0f} s after the kill: "
                f"{await pending_attempt(handle, phase.activity)}"
            ) from None
    finally:
        stop(worker)
    done = [
        e.activity_task_started_event_attributes
        for e in await started_events(handle, phase.activity)
    ]
    assert done[0].attempt >= 2, "the new worker ran a retry"
    assert len(done) == 1 or not phase.once
    assert done[0].identity.split("@")[0] == str(worker.pid)
    timeout = done[0].last_failure.timeout_failure_info.timeout_type
    assert timeout == TimeoutType.TIMEOUT_TYPE_HEARTBEAT, "the dead worker's attempt timed out"
