"""The Temporal Schedule that pulls SMS receipts whose callback never came, every so many minutes."""

from __future__ import annotations

from datetime import timedelta

from orchestration.interval_schedule import IntervalJob
from workflows.receipt_pull import ReceiptPullWorkflow

PULL = IntervalJob(
    name="receipt-pull",
    workflow=ReceiptPullWorkflow.run,
    note="pull SMS receipts whose callback never came",
    doing=lambda every: f"SMS receipts are pulled every {every // timedelta(minutes=1)} min",
    without="receipts are not pulled",
)
receipt_pull_schedule_id = PULL.schedule_id
ensure_receipt_pull_schedule = PULL.ensure
receipt_pull_on_start = PULL.on_start
