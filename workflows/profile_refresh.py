"""ProfileRefreshWorkflow: one refresh of every customer's profile, started by a Temporal Schedule.

Campaigns researched within the profiles' max age of a refresh use it as it is, so a schedule
that refreshes more often than that max age keeps profile work out of every campaign's research.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.profiles import refresh_all_profiles
    from models.contracts import RefreshResult


@workflow.defn
class ProfileRefreshWorkflow:
    """Refresh profiles as of the moment the run started (retries refresh as of the same time)."""

    @workflow.run
    async def run(self) -> RefreshResult:
        return await workflow.execute_activity(
            refresh_all_profiles,
            workflow.now(),
            # set-based SQL over the whole base: long statements, heartbeats from the side
            start_to_close_timeout=timedelta(hours=1),
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5), maximum_attempts=5),
        )
