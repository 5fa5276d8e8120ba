"""Scheduled receipt pull: statuses of SMS sends whose delivery callback never came."""

from __future__ import annotations

import logging
from dataclasses import asdict

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating_async
from engagement.receipt_source import NotPullable, pull_configured
from models.contracts import ReceiptPullResult
from observability.metrics import RECEIPT_PULL_ERRORS, RECEIPTS_PULLED

log = logging.getLogger(__name__)


@activity.defn
async def pull_sms_receipts() -> ReceiptPullResult:
    """Pull from the configured SMS provider (Alibaba or Tencent), stored as the callbacks are,
    so a receipt that came both ways counts once; with no such provider, nothing is pulled."""
    try:
        async with heartbeating_async():
            pulled = await pull_configured(current().engine)
    except NotPullable as exc:
        log.info("receipt pull skipped: %s", exc)
        return ReceiptPullResult(skipped=str(exc))
    provider = pulled.provider
    for outcome in ("received", "stored", "waiting", "unmatched"):
        RECEIPTS_PULLED.labels(provider, outcome).inc(getattr(pulled, outcome))
    for code, calls in pulled.errors.items():
        RECEIPT_PULL_ERRORS.labels(provider, code).inc(calls)
    return ReceiptPullResult(**asdict(pulled))
