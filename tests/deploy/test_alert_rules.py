"""The alert rules are valid, loaded by the Prometheus config, and fire on what they are for
(deploy/prometheus/alerts.test.yml: promtool's unit tests of each alert)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

PROMETHEUS = Path(__file__).resolve().parents[2] / "deploy" / "prometheus"

pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (Debian package prometheus)"
)


def promtool(*args: str) -> str:
    proc = subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=PROMETHEUS)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_promtool_checks_the_rules_and_the_config_that_loads_them() -> None:
    assert "SUCCESS: 4 rules found" in promtool("check", "rules", "alerts.yml")
    assert "SUCCESS: 1 rule files found" in promtool("check", "config", "prometheus.yml")


def test_each_alert_fires_on_its_series_and_not_on_healthy_ones() -> None:
    assert "SUCCESS" in promtool("test", "rules", "alerts.test.yml")
