"""Sending phase: send passes over the due sends in batches, the operator's halt, closing what
will never be sent, and the counts the workflow's status settles on."""

from __future__ import annotations

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating, heartbeating_async
from db.engine import session_scope
from journey.advance import stop
from models.contracts import CampaignRef, HaltInput, SendBatchInput, SendBatchResult, SendCounts
from reporting.send_counts import send_counts
from sending.close import close_open
from sending.engine import SendEngine, SendPass
from sending.halt import set_halt
from settings import settings


@activity.defn
async def send_due(inp: SendBatchInput) -> SendBatchResult:
    """One pass; heartbeats from the side, so waiting on a slow rate limit is not a hang."""
    info = activity.info()
    ctx = current()
    config = settings()
    job = SendPass(
        campaign_id=inp.campaign_id,
        due_before=inp.due_before,
        claimer=f"{info.workflow_run_id}/{info.activity_id}"[:64],
        max_items=inp.max_items,
        batch_size=config.send_batch_size,
        max_seconds=config.send_max_seconds,
    )
    async with heartbeating_async():
        result = await SendEngine(ctx.engine, ctx.channels, ctx.caps, ctx.limits).run(
            job, lambda progress: activity.heartbeat(progress.sent, progress.failed)
        )
    result.retried = info.attempt > 1
    return result


@activity.defn
def halt_sends(inp: HaltInput) -> None:
    """Stop (or let go) every send pass of the campaign, on every worker, before its next call."""
    with session_scope(current().engine) as session:
        set_halt(session, inp.campaign_id, inp.halt)


@activity.defn
def cancel_pending(ref: CampaignRef) -> int:
    """On cancel: every send not yet made is closed as cancelled, so nothing is left half-done."""
    with heartbeating(), session_scope(current().engine) as session:
        stop(session, ref.campaign_id, "cancelled")
        return close_open(session, ref.campaign_id, "cancelled", "campaign_cancelled", ref.at)


@activity.defn
def fail_pending(ref: CampaignRef) -> int:
    """When the campaign failed: every send not yet made is closed as failed."""
    with heartbeating(), session_scope(current().engine) as session:
        stop(session, ref.campaign_id, "failed")
        return close_open(session, ref.campaign_id, "failed", "campaign_failed", ref.at)


@activity.defn
def count_sends(ref: CampaignRef) -> SendCounts:
    """One pass over the campaign's sends: seconds at a million, so it heartbeats too."""
    with heartbeating(), session_scope(current().engine) as session:
        return send_counts(session, ref.campaign_id)
