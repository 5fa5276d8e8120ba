"""The product's own Prometheus metrics (the Temporal SDK's are merged in by `exporter`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from audit.checkpoint import ForgedCheckpoint, checkpoint_path, holds, read
from models.cap_tables import ChannelHold
from models.contracts import TERMINAL
from models.tables import AuditEntry, Campaign, ProfileRefresh

SENDS = Counter("omnireach_sends", "Messages handled by the send engine", ["channel", "outcome"])
APPROVALS = Counter("omnireach_approvals", "Budget approval decisions", ["decision"])
SEND_BATCH_SECONDS = Histogram("omnireach_send_batch_seconds", "Duration of one send batch")
JOURNEY_MOVES = Counter(
    "omnireach_journey_moves", "Customers moved on to a journey step (or out of the journey)"
)
JOURNEY_ADVANCE_SECONDS = Histogram(
    "omnireach_journey_advance_seconds", "Duration of one journey advance (all due steps)"
)
CHANNEL_ALERTS = Counter("omnireach_channel_alerts", "Channels paused for failing", ["channel"])
RETENTION_PURGED = Counter(
    "omnireach_retention_purged", "Records removed past their retention period", ["kind"]
)
RECEIPTS_PULLED = Counter(
    "omnireach_receipts_pulled",
    "SMS delivery statuses fetched by the scheduled pull",
    ["provider", "outcome"],  # outcome: received, stored, waiting, unmatched
)
RECEIPT_PULL_ERRORS = Counter(
    "omnireach_receipt_pull_errors",
    "Provider calls of the scheduled pull that failed",
    ["provider", "code"],
)

# The track API (track/service.py): each posted event's outcome, with the field that made a
# rejected one fail; and each request's outcome (401, 413, 400 never reach the events).
TRACK_EVENTS = Counter(
    "omnireach_track_events",
    "Events posted to the track API",
    ["outcome", "reason"],  # outcome: accepted, duplicate, rejected; reason: the failing field
)
TRACK_REQUESTS = Counter(
    "omnireach_track_requests",
    "Requests to the track API",
    ["outcome"],  # ok, partial, unauthenticated, too_large, bad_batch, unavailable
)


class CampaignPhaseCollector(Collector):
    """`omnireach_campaigns{phase}`: campaigns by phase, read from the database at scrape time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily("omnireach_campaigns", "Campaigns by phase", labels=["phase"])
        with self._engine.connect() as conn:
            rows = conn.execute(select(Campaign.phase, func.count()).group_by(Campaign.phase))
            for phase, count in rows:
                family.add_metric([phase], count)
        yield family


class CampaignSpendCollector(Collector):
    """Spend against budget of every campaign not yet ended, read at scrape time, so a chart of
    `omnireach_campaign_spent / omnireach_campaign_budget` needs no campaign to report it.
    Amounts are in each campaign's budget currency; the label is the campaign id only."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        spent = GaugeMetricFamily(
            "omnireach_campaign_spent", "Spend of a running campaign", labels=["campaign"]
        )
        budget = GaugeMetricFamily(
            "omnireach_campaign_budget", "Budget limit of a running campaign", labels=["campaign"]
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Campaign.id, Campaign.spent, Campaign.budget_limit).where(
                    Campaign.phase.not_in([str(p) for p in TERMINAL])
                )
            )
            for cid, used, limit in rows:
                spent.add_metric([cid], float(used or 0))
                budget.add_metric([cid], float(limit))
        yield spent
        yield budget


class ChannelHoldCollector(Collector):
    """`omnireach_channel_holds{channel}`: campaigns for which a channel is held right now (it
    kept failing), read at scrape time, so an alert fires for as long as the hold lasts."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "omnireach_channel_holds", "Campaigns holding a failing channel now", labels=["channel"]
        )
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(ChannelHold.channel, func.count())
                .where(ChannelHold.until > datetime.now(UTC))
                .group_by(ChannelHold.channel)
            )
            for channel, count in rows:
                family.add_metric([channel], count)
        yield family


class ProfileRefreshCollector(Collector):
    """The latest profile refresh, read at scrape time: alert on
    `time() - omnireach_profiles_as_of_timestamp_seconds` when the refresh schedule stalls."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._engine.connect() as conn:
            latest = conn.execute(
                select(ProfileRefresh.as_of, ProfileRefresh.profiles, ProfileRefresh.changed)
                .order_by(ProfileRefresh.id.desc())
                .limit(1)
            ).first()
        if latest is None:
            return
        yield GaugeMetricFamily(
            "omnireach_profiles_as_of_timestamp_seconds",
            "As-of time of the latest profile refresh (Unix seconds)",
            value=latest.as_of.timestamp(),
        )
        yield GaugeMetricFamily(
            "omnireach_profiles", "Profiles after the latest refresh", value=latest.profiles
        )
        yield GaugeMetricFamily(
            "omnireach_profiles_changed",
            "Profiles the latest refresh rewrote",
            value=latest.changed,
        )


class AuditHeadCollector(Collector):
    """The audit log's head at scrape time, so Prometheus keeps a record the table's writer cannot
    rewrite: alert when `omnireach_audit_entries < omnireach_audit_checkpoint_entries` (entries
    deleted, table truncated) or `omnireach_audit_checkpoint_valid == 0`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self._engine.connect() as conn:
            entries = conn.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
            try:
                head = read(checkpoint_path(self._engine.url))
                valid = head is None or holds(conn, head)
            except ForgedCheckpoint:
                head, valid = None, False
        yield GaugeMetricFamily(
            "omnireach_audit_entries", "Entries in the audit log", value=entries
        )
        if head is not None:
            yield GaugeMetricFamily(
                "omnireach_audit_checkpoint_entries",
                "Entries in the signed audit head checkpoint",
                value=head.entries,
            )
        yield GaugeMetricFamily(
            "omnireach_audit_checkpoint_valid",
            "1 if the checkpoint's signature holds and the table still has "
            "its last entry unchanged",
            value=int(valid),
        )
