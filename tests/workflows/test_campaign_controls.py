"""Campaign controls at the edges of the send loop, on the time-skipping server with real
activities and PostgreSQL: a cancel arriving as the run continues as new, a send activity that
fails for good, and status counters that equal the database's."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from activities import sending
from models.contracts import CampaignStatus, Phase, SendBatchInput, SendBatchResult
from models.tables import Campaign, CampaignReport, Delivery
from orchestration.worker_setup import ACTIVITIES, build_worker
from tests.campaigns import send_statuses
from tests.people import decide
from tests.workflows.test_campaign_workflow import start, until_phase
from workflows.campaign import CampaignWorkflow, workflow_id

Hook = Callable[[SendBatchInput, int], Any]
hooks: dict[str, Hook] = {}
calls: dict[str, int] = {}


@activity.defn(name="send_due")
async def send_due_with_hook(inp: SendBatchInput) -> SendBatchResult:
    """The real send pass, then what the test wants to happen as it returns."""
    result = await sending.send_due(inp)
    calls[inp.campaign_id] = calls.get(inp.campaign_id, 0) + 1
    hook = hooks.get(inp.campaign_id)
    if hook is not None:
        await hook(inp, calls[inp.campaign_id])
    return result


@pytest.fixture
async def hooked(
    skipping_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> AsyncIterator[str]:
    acts = [a for a in ACTIVITIES if a is not sending.send_due] + [send_due_with_hook]
    async with build_worker(skipping_env.client, task_queue, activities=acts):
        yield task_queue


def db_counts(engine: Engine, cid: str) -> dict[str, object]:
    """The database's view in the status counters' terms."""
    statuses = send_statuses(engine, cid)
    with engine.connect() as conn:
        spent = conn.execute(select(Campaign.spent).where(Campaign.id == cid)).scalar_one()
        made = conn.execute(
            select(func.coalesce(func.sum(Delivery.cost), 0)).where(Delivery.campaign_id == cid)
        ).scalar_one()
    assert spent == made, "campaigns.spent is the cost of the sends made"
    return {
        "sent": statuses.get("sent", 0),
        "failed": statuses.get("failed", 0),
        "suppressed": statuses.get("suppressed", 0),
        "cancelled": statuses.get("cancelled", 0),
        "spent": made,
    }


def status_counts(st: CampaignStatus) -> dict[str, object]:
    c = st.counters
    return {
        "sent": c.sent,
        "failed": c.failed,
        "suppressed": c.suppressed,
        "cancelled": c.cancelled,
        "spent": c.spent,
    }


async def test_cancel_arriving_as_the_run_continues_as_new_is_honoured(
    skipping_env: WorkflowEnvironment, hooked: str, seeded: Engine
) -> None:
    """The first send round fills the run's history: the run continues as new right after it.
    A cancel that arrives while that round finishes must not be lost on the way."""
    handle = await start(
        skipping_env, hooked, sending={"send_max_items": 5, "send_lanes": 1, "history_limit": 20}
    )
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    cid = (await handle.query(CampaignWorkflow.status)).campaign_id

    async def cancel_first_round(_inp: SendBatchInput, n: int) -> None:
        if n == 1:
            await skipping_env.client.get_workflow_handle(workflow_id(cid)).signal(
                CampaignWorkflow.cancel
            )

    hooks[cid] = cancel_first_round
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert final.phase == Phase.CANCELLED
    statuses = send_statuses(seeded, cid)
    assert set(statuses) <= {"sent", "cancelled"} and statuses["cancelled"] > 0
    assert calls[cid] == 1, "no send round after the cancel"
    assert status_counts(final) == db_counts(seeded, cid)


async def test_a_send_activity_failing_for_good_fails_the_workflow_and_closes_open_sends(
    skipping_env: WorkflowEnvironment, hooked: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, hooked, sending={"send_max_items": 5, "send_lanes": 1})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    cid = (await handle.query(CampaignWorkflow.status)).campaign_id

    async def fail_second_round(_inp: SendBatchInput, n: int) -> None:
        if n == 2:
            raise ApplicationError("provider account suspended", non_retryable=True)

    hooks[cid] = fail_second_round
    await decide(handle, "approve", by="李娜")
    with pytest.raises(WorkflowFailureError) as failed:
        await handle.result()
    assert "provider account suspended" in str(failed.value.cause)
    assert (await handle.describe()).status == WorkflowExecutionStatus.FAILED
    with seeded.connect() as conn:
        phase = conn.execute(select(Campaign.phase).where(Campaign.id == cid)).scalar_one()
    assert phase == Phase.FAILED
    statuses = send_statuses(seeded, cid)
    assert set(statuses) == {"sent", "failed"} and statuses["sent"] > 0
    status = await handle.query(CampaignWorkflow.status)
    assert status.phase == Phase.FAILED
    assert status_counts(status) == db_counts(seeded, cid)


async def test_status_counters_equal_the_database_and_the_stored_report_says_completed(
    skipping_env: WorkflowEnvironment, hooked: str, seeded: Engine
) -> None:
    channel = {
        "channel": "app_push",
        "template": "t-cost",
        "priority": 1,
        "unit_cost": "0.01",
        "body": "{{ honorific }}，会员日礼券已到账，{{ end_time }}前有效。",
    }
    handle = await start(skipping_env, hooked, channels=[channel], budget={"limit": "0.5"})
    waiting = await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    cid = final.campaign_id
    assert final.phase == Phase.COMPLETED
    assert final.counters.sent + final.counters.suppressed == waiting.counters.planned
    assert status_counts(final) == db_counts(seeded, cid)
    assert final.counters.spent > 0
    assert sum(final.counters.suppressed_by.values()) == final.counters.suppressed
    with seeded.connect() as conn:
        report = conn.execute(
            select(CampaignReport.body).where(
                CampaignReport.campaign_id == cid, CampaignReport.kind == "review"
            )
        ).scalar_one()
    assert report["phase"] == "completed"
