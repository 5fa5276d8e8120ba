"""Records workflow histories for the replay tests: `python -m pytest tests/workflows/record_histories.py`.

Run it against a released version of the workflows (never against unreleased changes): each
history it writes to `tests/workflows/histories/<version>/` is what campaigns started by that
version hold on the server, and `test_replay.py` replays every one against the current code.
Payloads use the plain pydantic converter, so the fixtures need no key ring to read.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Unpack

import pytest
from sqlalchemy import Engine
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from models.contracts import CampaignInput, CampaignStatus, Phase
from orchestration.worker_setup import build_worker
from tests.campaigns import SendingKnobs, new_id, spec_at
from tests.journeys import ab_then_remind
from tests.people import decide
from workflows.campaign import CampaignWorkflow, workflow_id
from workflows.profile_refresh import ProfileRefreshWorkflow

VERSION = os.environ.get("OMNIREACH_HISTORY_VERSION", "v1")
OUT = Path(__file__).parent / "histories" / VERSION

Handle = WorkflowHandle[CampaignWorkflow, CampaignStatus]


@pytest.fixture
async def plain(
    skipping_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> AsyncIterator[tuple[Client, str]]:
    client = Client(
        skipping_env.client.service_client,
        namespace="default",
        data_converter=pydantic_data_converter,
    )
    async with build_worker(client, task_queue):
        yield client, task_queue


async def start(
    env: WorkflowEnvironment,
    client: Client,
    queue: str,
    steps: list[dict[str, Any]] | None = None,
    **sending: Unpack[SendingKnobs],
) -> Handle:
    now = await env.get_current_time()
    cid = new_id()
    spec = spec_at(now, steps=steps)
    return await client.start_workflow(
        CampaignWorkflow.run,
        CampaignInput(campaign_id=cid, spec=spec, requested_by="王芳", slot_seconds=60, **sending),
        id=workflow_id(cid),
        task_queue=queue,
    )


async def wait_for(handle: Handle, ok: object, seconds: float = 60) -> CampaignStatus:
    for _ in range(int(seconds * 10)):
        st = await handle.query(CampaignWorkflow.status)
        if ok(st):  # type: ignore[operator]
            return st
        await asyncio.sleep(0.1)
    raise AssertionError(f"campaign never reached the wanted state; last {st}")


async def save(handle: WorkflowHandle, name: str, run_id: str | None = None) -> None:
    history = await handle._client.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(history.to_json())


async def test_record(skipping_env: WorkflowEnvironment, plain: tuple[Client, str]) -> None:
    client, queue = plain
    waiting = await start(skipping_env, client, queue)
    await wait_for(waiting, lambda s: s.phase == Phase.AWAITING_APPROVAL)
    await save(waiting, "campaign_awaiting_approval")
    await waiting.signal(CampaignWorkflow.cancel)
    await wait_for(waiting, lambda s: s.phase == Phase.CANCELLED)
    await save(waiting, "campaign_cancelled_awaiting_approval")

    sending = await start(
        skipping_env, client, queue, send_max_items=5, send_lanes=1, history_limit=60
    )
    await wait_for(sending, lambda s: s.phase == Phase.AWAITING_APPROVAL)
    await decide(sending, "approve", by="李娜")
    await skipping_env.sleep(timedelta(minutes=3))
    await wait_for(sending, lambda s: s.counters.sent > 0)
    await save(sending, "campaign_mid_send")
    for _ in range(25):
        await skipping_env.sleep(timedelta(minutes=1))
        await asyncio.sleep(0.3)
    await wait_for(sending, lambda s: s.phase == Phase.AWAITING_REVIEW)
    first = await sending.describe()
    await save(sending, "campaign_awaiting_review_after_continue_as_new", first.run_id)
    await save(sending, "campaign_first_run_continued_as_new", sending.first_execution_run_id)

    done = await start(skipping_env, client, queue)
    await wait_for(done, lambda s: s.phase == Phase.AWAITING_APPROVAL)
    await decide(done, "approve", by="李娜")
    await skipping_env.sleep(timedelta(days=1, hours=1))  # the review waits for attribution
    await wait_for(done, lambda s: s.phase == Phase.COMPLETED)
    await save(done, "campaign_completed")

    journey = await start(skipping_env, client, queue, steps=ab_then_remind())
    await wait_for(journey, lambda s: s.phase == Phase.AWAITING_APPROVAL)
    await decide(journey, "approve", by="李娜")
    await skipping_env.sleep(timedelta(minutes=30))
    await wait_for(journey, lambda s: "pause" in s.journey)
    await save(journey, "journey_at_a_wait")
    await skipping_env.sleep(timedelta(days=2, hours=2))
    await wait_for(journey, lambda s: s.phase == Phase.COMPLETED)
    await save(journey, "journey_completed")

    refresh = await client.start_workflow(
        ProfileRefreshWorkflow.run, id=f"refresh-{new_id()}", task_queue=queue
    )
    await refresh.result()
    await save(refresh, "profile_refresh")
