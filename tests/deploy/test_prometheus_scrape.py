"""Debian's real Prometheus scraping two real workers: its sum of sends is the database's, and every
dashboard query and alert rule of deploy/ evaluates on what the workers export."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, func, select
from temporalio.testing import WorkflowEnvironment

from cli.operations import start_campaign
from emulators.server import free_port
from models.contracts import CampaignStatus, Phase
from models.tables import PlannedSend, SandboxOutbox
from settings import Settings
from tests.campaigns import spec_at
from tests.workflows.conftest import seeded_base
from tests.workflows.test_campaign_workflow import until_phase
from tests.workflows.test_worker_processes import approved_campaign, start_worker
from workflows.campaign import CampaignWorkflow, workflow_id

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy" / "grafana" / "dashboards" / "omnireach.json"
ALERTS = ROOT / "deploy" / "prometheus" / "alerts.yml"
NO_CAPS = str(ROOT / "tests" / "workflows" / "no_caps.yaml")
CHANNEL = [
    {
        "channel": "app_push",
        "template": "t-prom",
        "marketing": False,
        "unit_cost": "0.01",
        "body": "{{ honorific }}，您的会员积分已更新。",
    }
]
# panels that must show data once a campaign has run and another awaits approval
WITH_DATA = {
    "Sends/s by channel and outcome",
    "Campaigns by phase",
    "Spend vs budget (running campaigns)",
    "Spent and budget",
    "Activity execution latency p95",
    "Schedule-to-start latency p95",
    "Pollers",
    "Send failure ratio",
}

pytestmark = pytest.mark.skipif(
    shutil.which("prometheus") is None,
    reason="prometheus not installed (Debian package prometheus)",
)


@pytest.fixture(scope="module")
def base() -> Iterator[tuple[str, Engine]]:
    yield from seeded_base("omni_prom", customers=300, seed=23)


class Prometheus:
    """A prometheus process with its own config and data directory, on a free port."""

    def __init__(self, tmp: Path, targets: list[str]) -> None:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(ALERTS)],
            "scrape_configs": [
                {"job_name": "omnireach-worker", "static_configs": [{"targets": targets}]}
            ],
        }
        (tmp / "prometheus.yml").write_text(yaml.safe_dump(config))
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = tmp / "prometheus.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={tmp / 'prometheus.yml'}",
                    f"--storage.tsdb.path={tmp / 'data'}",
                    f"--web.listen-address={self.url.removeprefix('http://')}",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def get(self, path: str, **params: str) -> Any:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{path}{query}", timeout=10) as r:
            body = json.loads(r.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        data = self.get("/api/v1/query", query=expr)
        return data["result"] if data["resultType"] == "vector" else [data["result"]]

    async def ready(self) -> None:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"prometheus not ready: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def dashboard_queries() -> dict[str, list[str]]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return {p["title"]: [t["expr"] for t in p["targets"]] for p in panels}


def sent_in_database(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        sent = conn.execute(
            select(func.count()).select_from(PlannedSend).where(PlannedSend.status == "sent")
        ).scalar_one()
        outbox = conn.execute(select(func.count()).select_from(SandboxOutbox)).scalar_one()
    return sent, outbox


async def until(check, seconds: float = 30) -> None:
    for _ in range(int(seconds * 5)):
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.2)


async def test_prometheus_sees_what_the_database_says_and_evaluates_every_query(
    dev_env: WorkflowEnvironment, base: tuple[str, Engine], tmp_path: Path
) -> None:
    url, engine = base
    queue = f"q-{uuid.uuid4().hex[:6]}"
    ports = [free_port(), free_port()]
    workers = [
        start_worker(dev_env, url, queue, tmp_path / f"w{i}.log", port, OMNIREACH_CAPS_FILE=NO_CAPS)
        for i, port in enumerate(ports)
    ]
    prom = Prometheus(tmp_path, [f"127.0.0.1:{p}" for p in ports])
    try:
        await prom.ready()
        handle, cid, planned = await approved_campaign(
            dev_env, queue, audience={"consent": "app_push"}, channels=CHANNEL
        )
        final = await asyncio.wait_for(handle.result(), 120)
        settings = Settings(task_queue=queue)
        spec = spec_at(datetime.now(UTC), budget={"limit": 777}, channels=CHANNEL)
        pending = await start_campaign(dev_env.client, settings, spec, "王芳")
        pending_handle = dev_env.client.get_workflow_handle(
            workflow_id(pending), result_type=CampaignStatus
        )
        await until_phase(pending_handle, Phase.AWAITING_APPROVAL, 120)
        sent, outbox = sent_in_database(engine)

        def scraped_all() -> bool:  # both targets scraped since they came up
            total = prom.query("sum(omnireach_sends_total)")
            budget = prom.query(f'max(omnireach_campaign_budget{{campaign="{pending}"}})')
            both_up = sum(r["value"][1] == "1" for r in prom.query("up")) == len(ports)
            return both_up and bool(total and budget) and float(total[0]["value"][1]) == sent

        await until(scraped_all)
        up = {r["metric"]["instance"]: r["value"][1] for r in prom.query("up")}
        total = prom.query("sum(omnireach_sends_total)")
        by_outcome = {
            r["metric"]["outcome"]: float(r["value"][1])
            for r in prom.query("sum by (outcome) (omnireach_sends_total)")
        }
        budget = prom.query(f'max(omnireach_campaign_budget{{campaign="{pending}"}})')

        def panels_with_data() -> bool:  # rates need two scrapes of a series
            return all(any(prom.query(e) for e in dashboard_queries()[t]) for t in WITH_DATA)

        await until(panels_with_data, 15)
        panels = {
            title: [prom.query(e) for e in exprs] for title, exprs in dashboard_queries().items()
        }
        sdk = {r["metric"]["__name__"] for r in prom.query('{__name__=~"temporal_.*"}')}

        def evaluated() -> bool:
            rules = [r for g in prom.get("/api/v1/rules")["groups"] for r in g["rules"]]
            return all(r["health"] == "ok" for r in rules)

        await until(evaluated, 10)
        rules = {r["name"]: r for g in prom.get("/api/v1/rules")["groups"] for r in g["rules"]}
        rule_results = {name: prom.query(r["query"]) for name, r in rules.items()}
        await pending_handle.signal(CampaignWorkflow.cancel)
        await asyncio.wait_for(pending_handle.result(), 60)
    finally:
        prom.stop()
        for w in workers:
            w.kill()
            w.wait(10)
    assert final.phase == Phase.COMPLETED and final.counters.sent == planned > 0
    assert up == {f"127.0.0.1:{p}": "1" for p in ports}, "both workers scraped"
    # the sum over both workers is the database's count of sent messages, every one made once
    assert float(total[0]["value"][1]) == sent == outbox == planned
    assert by_outcome == {"sent": sent}
    assert float(budget[0]["value"][1]) == 777
    empty = {title for title, results in panels.items() if not any(results)}
    assert not WITH_DATA & empty, f"panels with no data: {WITH_DATA & empty}; SDK: {sdk}"
    assert set(rules) == {
        "OmnireachProfileRefreshStalled",
        "OmnireachChannelHeld",
        "OmnireachSendFailureRatio",
        "OmnireachNoWorkerPolling",
    }
    assert all(r["health"] == "ok" and not r.get("lastError") for r in rules.values()), rules
    # workers poll and nothing failed: those alerts see the metrics and stay quiet
    assert rules["OmnireachNoWorkerPolling"]["state"] == "inactive"
    assert rules["OmnireachSendFailureRatio"]["state"] == "inactive"
    assert rule_results["OmnireachNoWorkerPolling"] == []
