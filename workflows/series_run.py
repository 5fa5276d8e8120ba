"""SeriesRunWorkflow: what a series' Temporal Schedule starts each time. It asks the database
whether this scheduled time may run (approved version, total budget left) and, if so, starts
that run as a normal CampaignWorkflow (its own id: the series id and the scheduled time),
which it leaves running: the schedule's next time does not wait for this run's review."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities import series
    from models.contracts import CampaignInput, SeriesRunInput, SeriesRunStart
    from models.search_attributes import at_start
    from workflows.campaign import SHORT, CampaignWorkflow, workflow_id

# Set by Temporal on every workflow a schedule starts (also on one an operator triggers).
SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


def scheduled_time() -> datetime:
    """The time this run was scheduled for (not when a worker first picked it up)."""
    info = workflow.info()
    return info.typed_search_attributes.get(SCHEDULED_AT) or info.start_time


@workflow.defn
class SeriesRunWorkflow:
    """Start the campaign of one scheduled time of a series, or say why there is none."""

    @workflow.run
    async def run(self, inp: SeriesRunInput) -> str:
        plan = await workflow.execute_activity(
            series.prepare_series_run,
            SeriesRunStart(series_id=inp.series_id, scheduled_at=scheduled_time()),
            **SHORT,
        )
        if plan.campaign_id is None or plan.spec is None:
            return plan.detail
        spec = plan.spec
        await workflow.start_child_workflow(
            CampaignWorkflow.run,
            CampaignInput(
                campaign_id=plan.campaign_id,
                spec=spec,
                requested_by=inp.requested_by,
                slot_seconds=inp.slot_seconds,
                send_lanes=inp.send_lanes,
                send_max_items=inp.send_max_items,
                series=plan.approval,
            ),
            id=workflow_id(plan.campaign_id),
            parent_close_policy=ParentClosePolicy.ABANDON,
            memo={"name": spec.name, "owner": spec.owner, "series": inp.series_id},
            search_attributes=at_start(spec.objective, spec.owner),
        )
        return plan.detail
