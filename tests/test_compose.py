"""docker-compose.yml is valid and runs what the code needs."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_topology_matches_the_code() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    assert {"postgres", "temporal", "temporal-ui", "worker", "prometheus"} <= set(services)
    assert services["worker"]["command"] == ["python", "worker.py"]
    checkpoint = Path(services["worker"]["environment"]["OMNIREACH_AUDIT_CHECKPOINT"])
    mounts = [v.split(":")[1] for v in services["worker"]["volumes"]]
    assert str(checkpoint.parent) in mounts  # the audit head outlives the container
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text())
    assert scrape["scrape_configs"][0]["dns_sd_configs"][0]["port"] == 9464


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_config_accepts_the_file() -> None:
    env = dict(os.environ, OMNIREACH_PII_KEYS="k1:" + "A" * 44, OMNIREACH_INDEX_KEY="A" * 44)
    proc = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "worker.py" in proc.stdout
