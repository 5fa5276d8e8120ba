"""The operator's view: `track-sources` add/list/revoke and `track-service` as its own process,
killed with SIGKILL right after answering: every event it accepted is in the database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import Engine, select

from emulators.server import free_port
from models.tables import BehaviorEvent
from tests.prometheus_text import samples
from tests.reporting.conftest import cli
from tests.track.conftest import bearer, body_of, customer_ref, event

ROOT = Path(__file__).resolve().parents[2]
ME = ("--as", "运营")


@contextmanager
def service(url: str) -> Iterator[tuple[subprocess.Popen[bytes], str, str]]:
    """`starter.py track-service` on free ports: (process, API URL, metrics URL)."""
    port, metrics = free_port(), free_port()
    env = dict(os.environ, DATABASE_URL=url, OMNIREACH_METRICS_PORT=str(metrics))
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "starter.py"), "track-service", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "track-service did not start"
            time.sleep(0.1)
        yield proc, base, f"http://127.0.0.1:{metrics}/metrics"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def stored(engine: Engine, ids: list[str]) -> int:
    with engine.connect() as conn:
        found = conn.execute(
            select(BehaviorEvent.id).where(BehaviorEvent.external_id.in_(ids))
        ).all()
    return len(found)


def test_sources_cli_and_a_service_killed_after_answering_loses_nothing(
    pg_url: str, engine: Engine
) -> None:
    added = cli(pg_url, "track-sources", "add", "pos-shanghai", "--auth", "bearer", *ME)
    assert added.returncode == 0, added.stderr
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("trk_")
    again = cli(pg_url, "track-sources", "add", "pos-shanghai", "--auth", "hmac", *ME)
    assert again.returncode == 2 and "exists" in again.stderr
    bad = cli(pg_url, "track-sources", "add", "pos-2", "--auth", "password", *ME)
    assert bad.returncode == 2 and "auth 'password'" in bad.stderr
    listed = json.loads(cli(pg_url, "track-sources", "list", "--json").stdout)
    (row,) = [r for r in listed if r["name"] == "pos-shanghai"]
    assert (row["auth"], row["revoked_at"], row["created_by"]) == ("bearer", None, "运营")
    assert token not in json.dumps(listed)

    ref = customer_ref(engine)
    batch = [event(ref) for _ in range(500)]
    ids = [e["event_id"] for e in batch]
    with service(pg_url) as (proc, base, metrics):
        r = httpx.post(f"{base}/v1/events", content=body_of(*batch), headers=bearer(token))
        os.kill(proc.pid, signal.SIGKILL)  # at once after the 2xx: no chance to finish later
        assert r.status_code == 200 and r.json()["accepted"] == 500, r.text
    assert stored(engine, ids) == 500

    with service(pg_url) as (_, base, metrics):
        resent = httpx.post(f"{base}/v1/events", content=body_of(*batch), headers=bearer(token))
        assert resent.json()["duplicates"] == 500
        counted = samples(httpx.get(metrics).text)
        assert counted[("omnireach_track_events_total", "duplicate,")] == 500
        revoked = cli(pg_url, "track-sources", "revoke", "pos-shanghai", *ME)
        assert revoked.returncode == 0 and "revoked" in revoked.stdout
        late = body_of(event(ref))
        refused = httpx.post(f"{base}/v1/events", content=late, headers=bearer(token))
        assert refused.status_code == 401
    listed = json.loads(cli(pg_url, "track-sources", "list", "--json").stdout)
    assert [r["revoked_at"] is not None for r in listed if r["name"] == "pos-shanghai"] == [True]
    assert "already revoked" in cli(pg_url, "track-sources", "revoke", "pos-shanghai", *ME).stdout
    missing = cli(pg_url, "track-sources", "revoke", "nobody", *ME)
    assert missing.returncode == 2 and "no source named 'nobody'" in missing.stderr
