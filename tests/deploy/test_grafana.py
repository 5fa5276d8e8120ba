"""Grafana's provisioning fits docker-compose.yml: the data source is its Prometheus, the
dashboards folder is the one it mounts, and every panel uses that data source."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"


def test_provisioning_matches_the_compose_mounts_and_prometheus_service() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"])
    assert mounts == {
        "./deploy/grafana/provisioning": "/etc/grafana/provisioning",
        "./deploy/grafana/dashboards": "/var/lib/grafana/dashboards",
    }
    [source] = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    prometheus_port = services["prometheus"]["ports"][0].split(":")[1]
    assert (source["type"], source["url"]) == ("prometheus", f"http://prometheus:{prometheus_port}")
    [provider] = yaml.safe_load(
        (GRAFANA / "provisioning" / "dashboards" / "omnireach.yml").read_text()
    )["providers"]
    assert provider["options"]["path"] == mounts["./deploy/grafana/dashboards"]

    dashboard = json.loads((GRAFANA / "dashboards" / "omnireach.json").read_text())
    titles = [p["title"] for p in dashboard["panels"]]
    assert len(titles) == len(set(titles))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == source["uid"]
        assert panel["targets"] and all(t["expr"] for t in panel["targets"])
