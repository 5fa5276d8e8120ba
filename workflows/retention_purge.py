"""RetentionPurgeWorkflow: one purge of everything past its retention period (CN-29), started
by a Temporal Schedule; what it removed is in its result, the audit log and Prometheus."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.retention import purge_expired_data
    from models.contracts import RetentionResult


@workflow.defn
class RetentionPurgeWorkflow:
    """Purge as of the moment the run started (a retry purges as of the same time)."""

    @workflow.run
    async def run(self) -> RetentionResult:
        return await workflow.execute_activity(
            purge_expired_data,
            workflow.now(),
            start_to_close_timeout=timedelta(hours=2),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=5),
        )
