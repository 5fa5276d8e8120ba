"""docker-compose.yml is valid and runs what the code needs."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_topology_matches_the_code() -> None:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = doc["services"]
    assert {"postgres", "temporal", "temporal-ui", "worker", "prometheus"} <= set(services)
    assert services["worker"]["command"] == ["python", "worker.py"]
    checkpoint = Path(services["worker"]["environment"]["OMNIREACH_AUDIT_CHECKPOINT"])
    mounts = [v.split(":")[1] for v in services["worker"]["volumes"]]
    assert str(checkpoint.parent) in mounts  # the audit head outlives the container
    prometheus = dict(v.split(":")[:2] for v in services["prometheus"]["volumes"])
    config = prometheus["./deploy/prometheus/prometheus.yml"]
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    assert config == "/etc/prometheus/prometheus.yml"
    assert scrape["scrape_configs"][0]["dns_sd_configs"][0]["port"] == 9464
    # every rule file the config loads is mounted beside it
    for rules in scrape["rule_files"]:
        assert (ROOT / "deploy" / "prometheus" / rules).is_file()
        assert prometheus[f"./deploy/prometheus/{rules}"] == f"/etc/prometheus/{rules}"


def test_the_temporal_ui_decodes_through_the_codec_server() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    codec, ui = services["codec"], services["temporal-ui"]
    assert codec["command"] == ["python", "-m", "privacy.codec_server"]
    port = codec["environment"]["OMNIREACH_CODEC_PORT"]
    assert codec["environment"]["OMNIREACH_CODEC_HOST"] == "0.0.0.0"
    assert f"{port}:{port}" in codec["ports"]
    assert "OMNIREACH_CODEC_TOKEN" in codec["environment"]["OMNIREACH_CODEC_TOKEN"]  # required
    # the browser calls the codec server with its sign-in cookie, from the UI's own origin
    assert ui["environment"]["TEMPORAL_CODEC_ENDPOINT"].endswith(f"http://localhost:{port}}}")
    assert ui["environment"]["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    ui_port = ui["ports"][0].split(":")[0]
    assert codec["environment"]["OMNIREACH_CODEC_ORIGINS"].endswith(f"http://localhost:{ui_port}}}")


def test_the_track_api_serves_on_the_published_port_and_is_scraped() -> None:
    services = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    track = services["track"]
    assert track["command"] == ["python", "starter.py", "track-service"]
    env = track["environment"]
    settings = Settings(**{k: v for k, v in env.items() if k.startswith("OMNIREACH_TRACK")})
    assert settings.track_host == "0.0.0.0"
    assert f"{settings.track_port}:{settings.track_port}" in track["ports"]
    assert "migrate" in track["depends_on"]  # the schema exists before the first event
    assert {"DATABASE_URL", "OMNIREACH_PII_KEYS", "OMNIREACH_INDEX_KEY"} <= set(env)
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    (job,) = [j for j in scrape["scrape_configs"] if j["job_name"] == "omnireach-track"]
    assert job["dns_sd_configs"][0] == {"names": ["track"], "type": "A", "port": 9464}
    assert env["OMNIREACH_METRICS_PORT"] == "9464" and "9464" in track["expose"]


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose not installed")
def test_docker_compose_config_accepts_the_file() -> None:
    env = dict(
        os.environ,
        OMNIREACH_PII_KEYS="k1:" + "A" * 44,
        OMNIREACH_INDEX_KEY="A" * 44,
        OMNIREACH_CODEC_TOKEN="a-codec-token-of-length",
    )
    proc = subprocess.run(
        ["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "worker.py" in proc.stdout
    assert "TEMPORAL_CODEC_ENDPOINT: http://localhost:8081" in proc.stdout
