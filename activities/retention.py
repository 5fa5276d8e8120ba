"""Retention purge (CN-29): removes every kind of data past its period, on a schedule."""

from __future__ import annotations

from datetime import datetime

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating
from db.engine import session_scope
from models.contracts import RetentionResult
from observability.metrics import RETENTION_PURGED
from optout.retention import KINDS, RetentionPolicy, purge
from settings import settings


@activity.defn
def purge_expired_data(as_of: datetime) -> RetentionResult:
    """Purge each kind past its period as of `as_of`, one transaction per kind (a retry finds
    the kinds already purged empty); counts go to Prometheus."""
    policy = RetentionPolicy.from_settings(settings())
    purged: dict[str, int] = {}
    with heartbeating():
        for kind in KINDS:
            with session_scope(current().engine) as session:
                purged[kind] = purge(session, kind, policy, as_of)
            RETENTION_PURGED.labels(kind).inc(purged[kind])
    return RetentionResult(as_of=as_of, purged=purged)
