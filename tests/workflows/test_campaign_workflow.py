"""CampaignWorkflow on the time-skipping test server with real activities and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from governance.signing import check_signature
from models.contracts import CampaignInput, CampaignStatus, Decision, Phase
from models.governance_tables import PersonKey
from models.signed import Signed
from models.tables import AuditEntry, Campaign, CampaignReport, Delivery
from orchestration.worker_setup import build_worker
from tests.campaigns import SendingKnobs, new_id, outbox_count, send_statuses, spec_at
from tests.people import decide, signed_decision
from workflows.campaign import CampaignWorkflow, workflow_id

Handle = WorkflowHandle[CampaignWorkflow, CampaignStatus]
# How a query fails while no worker polls the queue ("no poller seen for task queue recently").
NO_WORKER_YET = {RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.DEADLINE_EXCEEDED}


@pytest.fixture
async def worker(
    skipping_env: WorkflowEnvironment, seeded: Engine, task_queue: str
) -> AsyncIterator[str]:
    async with build_worker(skipping_env.client, task_queue):
        yield task_queue


async def start(
    env: WorkflowEnvironment, queue: str, *, sending: SendingKnobs | None = None, **overrides: Any
) -> Handle:
    now = await env.get_current_time()
    cid = new_id()
    return await env.client.start_workflow(
        CampaignWorkflow.run,
        CampaignInput(
            campaign_id=cid,
            spec=spec_at(now, **overrides),
            requested_by="王芳",
            slot_seconds=60,
            **(sending or SendingKnobs()),
        ),
        id=workflow_id(cid),
        task_queue=queue,
    )


async def until_phase(handle: Handle, phase: Phase, seconds: float = 60) -> CampaignStatus:
    """Polls the status query; a worker that has not polled yet (just restarted) is a wait."""
    last = "no worker polled the task queue"
    for _ in range(int(seconds * 10)):
        try:
            st = await handle.query(CampaignWorkflow.status)
        except RPCError as err:
            if err.status not in NO_WORKER_YET:
                raise
        else:
            if st.phase == phase:
                return st
            last = f"{st.phase} {st.detail}"
        await asyncio.sleep(0.1)
    raise AssertionError(f"never reached {phase}; last {last}")


async def test_happy_path_sends_every_planned_message_once(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker)
    waiting = await until_phase(handle, Phase.AWAITING_APPROVAL)
    assert waiting.counters.planned > 0
    assert waiting.counters.holdout > 0
    await decide(handle, "approve", by="李娜", comment="ok")
    final = await handle.result()
    cid = final.campaign_id
    assert final.phase == Phase.COMPLETED
    assert final.counters.sent == waiting.counters.planned
    assert outbox_count(seeded, cid) == final.counters.sent
    assert send_statuses(seeded, cid) == {"sent": final.counters.sent}


async def test_history_stays_bounded_by_continuing_as_new(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    """Small send activities force many rounds: the send loop continues as new whenever a run's
    history reaches its limit, and every planned send is still made exactly once."""
    limit = 40
    handle = await start(
        skipping_env, worker, sending={"send_max_items": 5, "send_lanes": 1, "history_limit": limit}
    )
    waiting = await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert final.phase == Phase.COMPLETED
    assert final.counters.sent == waiting.counters.planned > 5 * 10
    assert outbox_count(seeded, final.campaign_id) == final.counters.sent
    runs = await run_lengths(skipping_env, handle)
    round_events = (
        12  # a run checks its length once per send round, so it may pass the limit by one
    )
    assert len(runs) >= 2
    assert all(n <= limit + round_events for n in runs[1:-1])
    # the first run also holds research to approval, the last the review: fixed, whatever the audience
    assert runs[0] <= 3 * limit + 30 and runs[-1] <= 3 * limit + 30


async def run_lengths(env: WorkflowEnvironment, handle: Handle) -> list[int]:
    """History length of every run in the chain, following continue-as-new from the first run."""
    lengths, run_id = [], handle.first_execution_run_id
    while run_id:
        events = [
            e
            async for e in env.client.get_workflow_handle(
                handle.id, run_id=run_id
            ).fetch_history_events()
        ]
        lengths.append(len(events))
        last = events[-1]
        run_id = (
            last.workflow_execution_continued_as_new_event_attributes.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else ""
        )
    return lengths


async def test_review_fires_after_the_delay(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker, review={"delay": "5h", "attribution_window": "1d"})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    with seeded.connect() as conn:
        last_send = conn.execute(
            select(func.max(Delivery.sent_at)).where(Delivery.campaign_id == final.campaign_id)
        ).scalar_one()
        reviewed = conn.execute(
            select(CampaignReport.created_at).where(
                CampaignReport.campaign_id == final.campaign_id, CampaignReport.kind == "review"
            )
        ).scalar_one()
    assert (reviewed - last_send).total_seconds() >= 5 * 3600


async def test_rejection_sends_nothing(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "reject", by="李娜", comment="预算过高")
    final = await handle.result()
    assert final.phase == Phase.REJECTED
    assert "预算过高" in final.detail
    assert outbox_count(seeded, final.campaign_id) == 0


async def test_no_decision_before_deadline_expires(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker, approval={"deadline": "2h"})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    final = await handle.result()
    assert final.phase == Phase.EXPIRED
    assert outbox_count(seeded, final.campaign_id) == 0


async def test_requester_cannot_approve_and_wrong_phase_is_refused(
    skipping_env: WorkflowEnvironment, worker: str
) -> None:
    handle = await start(skipping_env, worker, approval={"deadline": "1h", "approvers": ["李娜"]})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    with pytest.raises(WorkflowUpdateFailedError) as own:
        await decide(handle, "approve", by="王芳")
    assert "requester" in str(own.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as stranger:
        await decide(handle, "approve", by="路人甲")
    assert "not listed" in str(stranger.value.cause)
    await decide(handle, "approve", by="李娜")
    with pytest.raises(WorkflowUpdateFailedError) as again:
        await decide(handle, "approve", by="李娜")
    assert "not awaiting budget approval" in str(again.value.cause)
    assert (await handle.result()).phase == Phase.COMPLETED


async def test_compliance_block_sends_nothing(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    body = "{{ honorific }}，全网最佳、国家级品质，史上最低价！拒收请回复R"
    handle = await start(
        skipping_env, worker, channels=[{"channel": "app_push", "template": "t-bad", "body": body}]
    )
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    final = await handle.result()
    assert final.phase == Phase.COMPLIANCE_FAILED
    assert "CN-" in final.detail
    assert outbox_count(seeded, final.campaign_id) == 0
    assert send_statuses(seeded, final.campaign_id).get("sent", 0) == 0


async def test_pause_holds_and_resume_continues(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await handle.signal(CampaignWorkflow.pause)
    await decide(handle, "approve", by="李娜")
    await asyncio.sleep(1.5)
    held = await handle.query(CampaignWorkflow.status)
    assert held.paused and held.counters.sent == 0
    assert outbox_count(seeded, held.campaign_id) == 0
    await handle.signal(CampaignWorkflow.resume)
    final = await handle.result()
    assert final.phase == Phase.COMPLETED and final.counters.sent > 0


async def test_cancel_while_paused_in_sending_closes_every_open_send(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await handle.signal(CampaignWorkflow.pause)
    await decide(handle, "approve", by="李娜")
    await asyncio.sleep(1.5)
    await handle.signal(CampaignWorkflow.cancel)
    final = await handle.result()
    assert final.phase == Phase.CANCELLED
    statuses = send_statuses(seeded, final.campaign_id)
    assert set(statuses) == {"cancelled"}
    assert outbox_count(seeded, final.campaign_id) == 0


async def test_cancel_while_awaiting_approval(
    skipping_env: WorkflowEnvironment, worker: str
) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await handle.signal(CampaignWorkflow.cancel)
    assert (await handle.result()).phase == Phase.CANCELLED


async def test_approver_needs_the_role(skipping_env: WorkflowEnvironment, worker: str) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    with pytest.raises(WorkflowUpdateFailedError) as err:
        await decide(handle, "approve", by="路人甲")
    assert "approver role" in str(err.value.cause)
    await handle.signal(CampaignWorkflow.cancel)
    assert (await handle.result()).phase == Phase.CANCELLED


async def test_big_budget_needs_two_different_approvers(
    skipping_env: WorkflowEnvironment, worker: str
) -> None:
    handle = await start(skipping_env, worker, budget={"limit": 500000})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    first = await decide(handle, "approve", by="李娜")
    assert "1 more approver" in first
    with pytest.raises(WorkflowUpdateFailedError) as twice:
        await decide(handle, "approve", by="李娜")
    assert "already approved" in str(twice.value.cause)
    assert (await handle.query(CampaignWorkflow.status)).phase == Phase.AWAITING_APPROVAL
    await decide(handle, "approve", by="赵强")
    assert (await handle.result()).phase == Phase.COMPLETED


async def test_plan_changed_after_approval_needs_approval_again(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await handle.signal(CampaignWorkflow.pause)
    await decide(handle, "approve", by="李娜")
    await asyncio.sleep(1.5)
    cid = (await handle.query(CampaignWorkflow.status)).campaign_id
    with seeded.begin() as conn:
        conn.execute(update(Campaign).where(Campaign.id == cid).values(budget_limit=2000))
    await handle.signal(CampaignWorkflow.resume)
    again = await until_phase(handle, Phase.AWAITING_APPROVAL)
    assert "changed after it was approved" in again.detail
    with pytest.raises(WorkflowUpdateFailedError) as stale:
        await decide(handle, "approve", by="赵强", plan_digest="0000000000000000")
    assert "plan changed" in str(stale.value.cause)
    await decide(handle, "approve", by="赵强")
    assert (await handle.result()).phase == Phase.COMPLETED


async def test_review_finding_holds_until_a_compliance_officer_decides(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    body = "{{ honorific }}，本店2024年双11销量第一的羊绒大衣到店，{{ end_time }}前有效。"
    handle = await start(
        skipping_env,
        worker,
        channels=[
            {
                "channel": "app_push",
                "template": "t-review",
                "body": body,
                "claim_source": "2024年双11门店销售报表",  # CN-15: the claim names its source
            }
        ],
    )
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    await decide(handle, "approve", by="李娜")
    held = await until_phase(handle, Phase.COMPLIANCE_CHECK)
    for _ in range(50):
        held = await handle.query(CampaignWorkflow.status)
        if "awaiting compliance review" in held.detail:
            break
        await asyncio.sleep(0.1)
    assert "awaiting compliance review" in held.detail and held.counters.sent == 0
    with pytest.raises(WorkflowUpdateFailedError) as not_officer:
        await decide(handle, "compliance_ok", by="李娜")
    assert "compliance_officer" in str(not_officer.value.cause)
    await decide(handle, "compliance_ok", by="陈静", comment="有据可查")
    final = await handle.result()
    assert final.phase == Phase.COMPLETED and final.counters.sent > 0


async def test_one_person_is_never_two_approvers(
    skipping_env: WorkflowEnvironment, worker: str
) -> None:
    """Another spelling of the same name, or two approvals sent at once, count once."""
    handle = await start(skipping_env, worker, budget={"limit": 500000})
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    outcomes = await asyncio.gather(
        decide(handle, "approve", by="李娜"),
        decide(handle, "approve", by="李娜"),
        return_exceptions=True,
    )
    assert sum(isinstance(o, WorkflowUpdateFailedError) for o in outcomes) == 1, outcomes
    with pytest.raises(WorkflowUpdateFailedError) as spelled:
        await decide(handle, "approve", by="李娜 ")
    assert "already approved" in str(spelled.value.cause)
    assert (await handle.query(CampaignWorkflow.status)).phase == Phase.AWAITING_APPROVAL
    await decide(handle, "approve", by="赵强")
    assert (await handle.result()).phase == Phase.COMPLETED


async def test_unsigned_and_forged_decisions_are_refused(
    skipping_env: WorkflowEnvironment, worker: str, seeded: Engine
) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    cid = handle.id.removeprefix("campaign-")
    with pytest.raises(WorkflowUpdateFailedError) as unsigned:
        await handle.execute_update(CampaignWorkflow.approve, Decision(by="李娜"))
    assert "unsigned approve" in str(unsigned.value.cause)
    with pytest.raises(WorkflowUpdateFailedError) as forged:
        await handle.execute_update(
            CampaignWorkflow.approve, signed_decision(cid, "approve", "李娜", signer="赵强")
        )
    assert "signed by 赵强, not 李娜" in str(forged.value.cause)
    approval = signed_decision(cid, "approve", "李娜", comment="同意")
    await handle.execute_update(CampaignWorkflow.approve, approval)
    assert (await handle.result()).phase == Phase.COMPLETED
    with seeded.connect() as conn:
        kept = conn.execute(
            select(AuditEntry.detail).where(
                AuditEntry.campaign_id == cid, AuditEntry.action == "budget.approved"
            )
        ).scalar_one()
        public = conn.execute(
            select(PersonKey.public_key).where(PersonKey.key_id == kept["signed"]["key_id"])
        ).scalar_one()
    statement = check_signature(public, Signed.model_validate(kept["signed"]))
    assert (statement.by, statement.subject, statement.comment) == ("李娜", cid, "同意")


async def test_a_refused_decision_logs_one_line_and_no_traceback(
    skipping_env: WorkflowEnvironment, worker: str, caplog: pytest.LogCaptureFixture
) -> None:
    handle = await start(skipping_env, worker)
    await until_phase(handle, Phase.AWAITING_APPROVAL)
    caplog.clear()
    with caplog.at_level(logging.INFO), pytest.raises(WorkflowUpdateFailedError):  # as workers log
        await decide(handle, "approve", by="路人甲")
    shown = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len([r for r in shown if "approver role" in r.getMessage()]) == 1
    assert not [r for r in shown if r.exc_info], "a traceback was logged"
    await handle.signal(CampaignWorkflow.cancel)
    assert (await handle.result()).phase == Phase.CANCELLED
