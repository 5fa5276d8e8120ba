"""ReceiptPullWorkflow: one pull of SMS delivery statuses for sends whose callback never came,
started by a Temporal Schedule; its result holds counts only."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.receipts import pull_sms_receipts
    from models.contracts import ReceiptPullResult


@workflow.defn
class ReceiptPullWorkflow:
    """A retry pulls again: what the first attempt stored is not stored twice."""

    @workflow.run
    async def run(self) -> ReceiptPullResult:
        return await workflow.execute_activity(
            pull_sms_receipts,
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=3),
        )
