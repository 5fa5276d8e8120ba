"""The worker's registrations in one place, shared by worker.py and the tests."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker

from activities import (
    bookkeeping,
    compliance,
    governance,
    journey,
    planning,
    profiles,
    receipts,
    research,
    retention,
    review,
    sending,
    series,
)
from workflows.campaign import CampaignWorkflow
from workflows.profile_refresh import ProfileRefreshWorkflow
from workflows.receipt_pull import ReceiptPullWorkflow
from workflows.retention_purge import RetentionPurgeWorkflow
from workflows.series_run import SeriesRunWorkflow

ACTIVITIES: list[Callable[..., Any]] = [
    bookkeeping.register_campaign,
    bookkeeping.record_phase,
    bookkeeping.record_decision,
    bookkeeping.record_control,
    research.research_audience,
    planning.plan_campaign,
    compliance.check_compliance,
    governance.verify_decision,
    governance.current_plan_digest,
    journey.enter_journey,
    journey.advance_journey,
    journey.end_journey,
    sending.send_due,
    sending.cancel_pending,
    sending.fail_pending,
    sending.halt_sends,
    sending.count_sends,
    review.review_campaign,
    profiles.refresh_all_profiles,
    retention.purge_expired_data,
    receipts.pull_sms_receipts,
    series.prepare_series_run,
]


def build_worker(
    client: Client,
    task_queue: str,
    max_activities: int = 16,
    activities: Sequence[Callable[..., Any]] = tuple(ACTIVITIES),
) -> Worker:
    """A worker for campaigns, their series' runs, profile refreshes, retention purges and
    receipt pulls: workflows plus every activity, sync ones on a thread pool."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[
            CampaignWorkflow,
            ProfileRefreshWorkflow,
            RetentionPurgeWorkflow,
            ReceiptPullWorkflow,
            SeriesRunWorkflow,
        ],
        activities=activities,
        activity_executor=ThreadPoolExecutor(max_workers=max_activities),
        max_concurrent_activities=max_activities,
    )
