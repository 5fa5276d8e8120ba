"""The Prometheus endpoint: product metrics read from the database, merged with the SDK's."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import Engine

from db.engine import make_engine, session_scope
from emulators.server import free_port
from models.cap_tables import ChannelHold
from models.tables import Campaign, ProfileRefresh
from observability.exporter import serve_metrics
from observability.metrics import (
    CampaignPhaseCollector,
    CampaignSpendCollector,
    ChannelHoldCollector,
    ProfileRefreshCollector,
)
from tests.conftest import migrate
from tests.prometheus_text import samples

AS_OF = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    url = f"sqlite:///{tmp_path / 'metrics.db'}"
    migrate(url)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def scrape(engine: Engine) -> dict[tuple[str, str], float]:
    registry = CollectorRegistry()
    registry.register(CampaignPhaseCollector(engine))
    registry.register(ProfileRefreshCollector(engine))
    return samples(generate_latest(registry).decode())


def campaign(cid: str, phase: str) -> Campaign:
    return Campaign(
        id=cid,
        name=cid,
        objective="convert",
        owner="王芳",
        requested_by="王芳",
        spec={},
        phase=phase,
        budget_limit=Decimal(100),
        created_at=AS_OF,
        updated_at=AS_OF,
    )


def test_campaigns_by_phase_and_latest_profile_refresh(engine: Engine) -> None:
    assert scrape(engine) == {}  # no campaign, no refresh yet: no values
    with session_scope(engine) as session:
        session.add_all(
            [campaign("a", "sending"), campaign("b", "sending"), campaign("c", "completed")]
        )
        session.add(
            ProfileRefresh(
                as_of=datetime(2026, 11, 24, tzinfo=UTC),
                profiles=10,
                changed=10,
                refreshed_at=datetime(2026, 11, 24, tzinfo=UTC),
            )
        )
        session.add(ProfileRefresh(as_of=AS_OF, profiles=12, changed=3, refreshed_at=AS_OF))
    assert scrape(engine) == {
        ("omnireach_campaigns", "sending"): 2,
        ("omnireach_campaigns", "completed"): 1,
        ("omnireach_profiles_as_of_timestamp_seconds", ""): AS_OF.timestamp(),
        ("omnireach_profiles", ""): 12,
        ("omnireach_profiles_changed", ""): 3,
    }


def test_spend_and_budget_of_running_campaigns_and_channels_held_now(engine: Engine) -> None:
    """Ended campaigns drop out of spend vs budget; only holds not yet over count."""
    registry = CollectorRegistry()
    registry.register(CampaignSpendCollector(engine))
    registry.register(ChannelHoldCollector(engine))
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        running, done = campaign("cmp-run", "sending"), campaign("cmp-done", "completed")
        running.spent, done.spent = Decimal("12.34"), Decimal(100)
        session.add_all([running, done, campaign("cmp-new", "awaiting_approval")])
        session.add_all(
            [
                ChannelHold(
                    campaign_id="cmp-run",
                    channel="sms",
                    until=now + timedelta(minutes=2),
                    strikes=1,
                    reason="provider_down",
                ),
                ChannelHold(
                    campaign_id="cmp-new",
                    channel="sms",
                    until=now + timedelta(minutes=4),
                    strikes=2,
                    reason="provider_down",
                ),
                ChannelHold(
                    campaign_id="cmp-run",
                    channel="email",
                    until=now - timedelta(minutes=1),
                    strikes=1,
                    reason="bounced",
                ),
            ]
        )
    assert samples(generate_latest(registry).decode()) == {
        ("omnireach_campaign_spent", "cmp-run"): 12.34,
        ("omnireach_campaign_spent", "cmp-new"): 0,
        ("omnireach_campaign_budget", "cmp-run"): 100,
        ("omnireach_campaign_budget", "cmp-new"): 100,
        ("omnireach_channel_holds", "sms"): 2,
    }


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_endpoint_appends_the_sdk_metrics_and_survives_without_them() -> None:
    class Sdk(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server API)
            body = b"temporal_workflow_completed 7\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    sdk = ThreadingHTTPServer(("127.0.0.1", 0), Sdk)
    Thread(target=sdk.serve_forever, daemon=True).start()
    port, gone = free_port(), free_port()
    with_sdk = serve_metrics(port, sdk.server_address[1], host="127.0.0.1")
    without = serve_metrics(gone, free_port(), host="127.0.0.1")  # nothing listens there
    try:
        status, text = get(f"http://127.0.0.1:{port}/metrics")
        assert status == 200
        assert "# TYPE omnireach_sends_total counter" in text
        assert text.rstrip().endswith("temporal_workflow_completed 7")
        status, text = get(f"http://127.0.0.1:{gone}/metrics")
        assert status == 200 and "omnireach_sends_total" in text and "temporal_" not in text
        assert get(f"http://127.0.0.1:{port}/admin")[0] == 404
    finally:
        for server in (with_sdk, without, sdk):
            server.shutdown()
            server.server_close()
