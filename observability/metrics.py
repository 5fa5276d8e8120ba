"""The product's own Prometheus metrics (the Temporal SDK's are merged in by `exporter`)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func, select

from models.tables import Campaign

SENDS = Counter("omnireach_sends", "Messages handled by the send engine", ["channel", "outcome"])
APPROVALS = Counter("omnireach_approvals", "Budget approval decisions", ["decision"])
SEND_BATCH_SECONDS = Histogram("omnireach_send_batch_seconds", "Duration of one send batch")
CHANNEL_ALERTS = Counter("omnireach_channel_alerts", "Channels paused for failing", ["channel"])


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
