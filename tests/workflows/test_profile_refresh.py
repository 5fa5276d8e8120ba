"""Profiles refreshed by ProfileRefreshWorkflow, started by its Temporal Schedule (dev server)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select
from temporalio.client import ScheduleOverlapPolicy
from temporalio.testing import WorkflowEnvironment

from db.engine import session_scope
from models.tables import Customer, ProfileRefresh
from orchestration.client import connect
from orchestration.profile_schedule import (
    ensure_refresh_schedule,
    schedule_id,
    schedule_on_start,
    set_refresh_schedule,
)
from orchestration.worker_setup import build_worker
from profiles.freshness import profiles_fresh
from settings import Settings
from workflows.profile_refresh import ProfileRefreshWorkflow

ROOT = Path(__file__).resolve().parents[2]


def refreshes(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ProfileRefresh)).scalar_one()


async def test_workflow_refreshes_every_profile(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> None:
    before = datetime.now(UTC)
    async with build_worker(dev_env.client, task_queue):
        result = await dev_env.client.execute_workflow(
            ProfileRefreshWorkflow.run, id=f"refresh-{task_queue}", task_queue=task_queue
        )
    with session_scope(seeded) as session:
        customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
        latest = session.execute(
            select(ProfileRefresh).order_by(ProfileRefresh.id.desc()).limit(1)
        ).scalar_one()
        assert profiles_fresh(session, datetime.now(UTC), timedelta(minutes=1))
    assert result.profiles == customers == latest.profiles
    assert result.as_of == latest.as_of and before <= result.as_of <= datetime.now(UTC)
    assert result.changed == latest.changed


async def test_schedule_is_created_once_changed_and_runs_refreshes(
    dev_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> None:
    client = dev_env.client
    assert await ensure_refresh_schedule(client, task_queue, timedelta(minutes=10))
    assert not await ensure_refresh_schedule(client, task_queue, timedelta(minutes=2))
    handle = client.get_schedule_handle(schedule_id(task_queue))
    try:
        desc = await handle.describe()
        assert [i.every for i in desc.schedule.spec.intervals] == [timedelta(minutes=10)]
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        await handle.pause(note="maintenance")
        await set_refresh_schedule(client, task_queue, timedelta(minutes=7))
        desc = await handle.describe()
        assert [i.every for i in desc.schedule.spec.intervals] == [timedelta(minutes=7)]
        assert desc.schedule.state.paused  # an operator's pause survives a new interval
        await handle.unpause()
        done = refreshes(seeded)
        async with build_worker(client, task_queue):
            await handle.trigger()
            for _ in range(300):
                if refreshes(seeded) > done:
                    break
                await asyncio.sleep(0.1)
        assert refreshes(seeded) == done + 1
        started = (await handle.describe()).info.recent_actions
        assert len(started) == 1
    finally:
        await handle.delete()


async def test_a_worker_starts_even_where_it_cannot_create_the_schedule(
    dev_env: WorkflowEnvironment, task_queue: str
) -> None:
    target = dev_env.client.service_client.config.target_host
    elsewhere = await connect(Settings(temporal_address=target, temporal_namespace="no-such-ns"))
    said = await schedule_on_start(elsewhere, task_queue, timedelta(minutes=10))
    assert said.startswith(f"could not create schedule {schedule_id(task_queue)}")
    assert "refresh stale profiles themselves" in said
    said = await schedule_on_start(dev_env.client, task_queue, timedelta(minutes=10))
    try:
        assert said == (
            f"created schedule {schedule_id(task_queue)}: profiles refresh every 10 min"
        )
        assert (
            await schedule_on_start(dev_env.client, task_queue, timedelta(minutes=5))
            == f"schedule {schedule_id(task_queue)} is there already"
        )
    finally:
        await dev_env.client.get_schedule_handle(schedule_id(task_queue)).delete()


async def test_cli_sets_the_interval(dev_env: WorkflowEnvironment, task_queue: str) -> None:
    env = dict(
        os.environ,
        TEMPORAL_ADDRESS=dev_env.client.service_client.config.target_host,
        OMNIREACH_TASK_QUEUE=task_queue,
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "starter.py"), "refresh-schedule", *args],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=120,
        )

    try:
        made = cli("--every", "7", "--json")
        assert made.returncode == 0, made.stderr
        shown = json.loads(made.stdout)
        assert shown["schedule"] == schedule_id(task_queue) and shown["every_minutes"] == 7
        assert len(shown["next_runs"]) == 3 and not shown["paused"]
        changed = cli("--every", "30")
        assert changed.returncode == 0, changed.stderr
        assert "every 30 min" in changed.stdout
        assert "campaigns researched in between refresh them first" in changed.stdout  # > 15 min
    finally:
        await dev_env.client.get_schedule_handle(schedule_id(task_queue)).delete()
