"""Run a campaign worker: `python worker.py`. Serves Prometheus metrics on OMNIREACH_METRICS_PORT."""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import timedelta

from prometheus_client import REGISTRY
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

import settings as config
from activities.context import WorkerContext, configure
from channels.registry import build_channels
from compliance.provider_limits import check_provider_limits
from db.engine import engine_for
from observability.exporter import serve_metrics
from observability.logs import setup_logging
from observability.metrics import (
    AuditHeadCollector,
    CampaignPhaseCollector,
    CampaignSpendCollector,
    ChannelHoldCollector,
    ProfileRefreshCollector,
)
from orchestration.client import connect
from orchestration.profile_schedule import schedule_on_start
from orchestration.receipt_pull_schedule import receipt_pull_on_start
from orchestration.retention_schedule import retention_on_start
from orchestration.search_attributes import search_attributes_on_start
from orchestration.worker_setup import build_worker
from planning.costs import unit_costs


async def main(settings: config.Settings) -> None:
    setup_logging()
    sdk_port = settings.metrics_port + 1000
    runtime = Runtime(
        telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"127.0.0.1:{sdk_port}"))
    )
    engine = engine_for(settings.database_url)
    configure(WorkerContext(engine=engine, channels=build_channels(engine)))
    REGISTRY.register(CampaignPhaseCollector(engine))
    REGISTRY.register(ProfileRefreshCollector(engine))
    REGISTRY.register(AuditHeadCollector(engine))
    REGISTRY.register(CampaignSpendCollector(engine))
    REGISTRY.register(ChannelHoldCollector(engine))
    serve_metrics(settings.metrics_port, sdk_port)
    client = await connect(settings, runtime)
    ready, line = await search_attributes_on_start(
        client, settings.temporal_address, settings.temporal_namespace
    )
    logging.log(logging.INFO if ready else logging.WARNING, "%s", line)
    if settings.profile_refresh_minutes > 0:
        every = timedelta(minutes=settings.profile_refresh_minutes)
        logging.info("%s", await schedule_on_start(client, settings.task_queue, every))
    if settings.retention_purge_hours > 0:
        purge_every = timedelta(hours=settings.retention_purge_hours)
        logging.info("%s", await retention_on_start(client, settings.task_queue, purge_every))
    if settings.receipt_pull_minutes > 0:
        pull_every = timedelta(minutes=settings.receipt_pull_minutes)
        logging.info("%s", await receipt_pull_on_start(client, settings.task_queue, pull_every))
    worker = build_worker(client, settings.task_queue)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    logging.info(
        "worker polling %s on %s; metrics on :%d",
        settings.task_queue,
        settings.temporal_address,
        settings.metrics_port,
    )
    async with worker:
        await stop.wait()


if __name__ == "__main__":
    try:
        settings = config.settings()  # a bad variable stops the worker here, in one line
        unit_costs()  # its JSON is parsed by planning; checked now, not at the first plan
        check_provider_limits()  # CN-08: our caps, not a provider's limit, stop contacts
    except (config.SettingsError, ValueError) as exc:
        raise SystemExit(f"worker: {exc}") from None
    asyncio.run(main(settings))
