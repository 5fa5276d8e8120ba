"""Sending phase: one activity sends everything due, in batches, heartbeating its progress."""

from __future__ import annotations

from sqlalchemy import update
from temporalio import activity

from activities.context import current
from db.engine import session_scope
from models.contracts import CampaignRef, SendBatchInput, SendBatchResult
from models.tables import PlannedSend
from sending.engine import SendEngine, SendPass
from settings import Settings


@activity.defn
async def send_due(inp: SendBatchInput) -> SendBatchResult:
    info = activity.info()
    ctx = current()
    settings = Settings.from_env()
    job = SendPass(
        campaign_id=inp.campaign_id,
        due_before=inp.due_before,
        claimer=f"{info.workflow_run_id}/{info.activity_id}"[:64],
        max_items=inp.max_items,
        batch_size=settings.send_batch_size,
        max_seconds=settings.send_max_seconds,
    )
    return await SendEngine(ctx.engine, ctx.channels, ctx.caps, ctx.limits).run(
        job, lambda progress: activity.heartbeat(progress.sent, progress.failed)
    )


@activity.defn
def cancel_pending(ref: CampaignRef) -> int:
    """On cancel: every send not yet made is closed as cancelled, so nothing is left half-done."""
    with session_scope(current().engine) as session:
        result = session.execute(
            update(PlannedSend)
            .where(
                PlannedSend.campaign_id == ref.campaign_id,
                PlannedSend.status.in_(("planned", "sending")),
            )
            .values(status="cancelled", reason="campaign_cancelled")
        )
        return result.rowcount or 0
