"""`preview SPEC` on a real PostgreSQL base: audience, holdout, channel mix, what would not be
sent and why (frequency caps against another running campaign's planned sends included), cost
and its assumptions, compliance findings with rule ids, and rendered messages with PII masked
and times in the customers' zone — with no worker and nothing written. `start` refuses, in one
line, a campaign that would send nothing."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import Engine, delete, inspect, select, text
from typer.testing import CliRunner

import cli.main
from cli import campaign_commands
from cli.common import app
from db.campaigns import campaign_row
from db.engine import make_engine, session_scope
from demo.seed import seed_demo
from models.spec import CampaignSpec
from models.tables import Campaign, Customer, PlannedSend
from privacy.cipher import decrypt
from tests.cli.test_spec_errors import EXAMPLE
from tests.conftest import create_database, drop_database, migrate

SH = ZoneInfo("Asia/Shanghai")
PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z])(?:\+?86)?1[3-9]\d{9}(?![0-9A-Za-z])")
SMS_ONLY = [c for c in yaml.safe_load(EXAMPLE)["channels"] if c["channel"] == "sms"]


@pytest.fixture(scope="module")
def base() -> Iterator[tuple[str, Engine]]:
    """150 demo customers in a database of their own."""
    url = create_database("omni_preview")
    migrate(url)
    engine = make_engine(url)
    with session_scope(engine) as session:
        seed_demo(session, customers=150)
    yield url, engine
    engine.dispose()
    drop_database(url)


@pytest.fixture
def env(base: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("DATABASE_URL", base[0])
    for name in ("OMNIREACH_CHANNEL_PROVIDERS", "OMNIREACH_PUBLIC_URL", "OMNIREACH_CAPS_FILE"):
        monkeypatch.delenv(name, raising=False)
    return base[1]


def tomorrow_at(hour: int) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=1)).astimezone(SH).date()
    return datetime.combine(day, time(hour), tzinfo=SH)


def spec_file(tmp_path: Path, start: datetime, hours: int = 2, **changes: Any) -> Path:
    """The example as a one-step campaign (its journey's first step sends on SMS only)."""
    doc = {k: v for k, v in yaml.safe_load(EXAMPLE).items() if k not in ("steps", "exit_when")}
    doc["send_window"] = {
        "start": start.isoformat(),
        "end": (start + timedelta(hours=hours)).isoformat(),
    }
    doc.update(changes)
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
            for t in inspect(engine).get_table_names()
        }


def preview_json(path: Path) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["preview", str(path), "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_preview_shows_the_campaign_and_writes_nothing(env: Engine, tmp_path: Path) -> None:
    start = tomorrow_at(10)
    path = spec_file(tmp_path, start)
    before = row_counts(env)
    result = CliRunner().invoke(app, ["preview", str(path)])
    assert result.exit_code == 0, result.output
    found = preview_json(path)
    assert row_counts(env) == before, "preview wrote to the database"

    out = result.stdout
    assert found["audience"] > 0 and found["holdout"] > 0 and found["expected_sends"] > 0
    assert found["audience"] == found["holdout"] + found["targeted"] + sum(
        found["excluded"].values()
    )
    totals = found["plan"]["totals"]
    assert totals["planned"] == sum(x["planned"] for x in found["plan"]["channels"])
    assert found["nothing_sent"] is None
    assert not [k for k in found["skipped_at_send"] if k.startswith("frequency_cap")]
    assert f"Audience {found['audience']:,}: holdout {found['holdout']:,}" in out
    for line in found["plan"]["channels"]:
        assert line["channel"] in out and line["cost"] in out
    assert "ROI assumes the last 180 days" in out and found["plan"]["assumptions"]["rates"]
    # no provider configured: the strictest SMS window, and CN-07 says so without naming one
    assert found["sending_windows"] == {"sms": "08:00–20:00 (no provider configured)"}
    cn07 = [f for f in found["findings"] if f["rule_id"] == "CN-07"]
    assert cn07 and "aliyun" not in cn07[0]["message"] and "CN-07" in out

    samples = found["samples"]
    assert {s["channel"] for s in samples} == {x["channel"] for x in found["plan"]["channels"]}
    assert all(len([s for s in samples if s["channel"] == c]) <= 3 for c in ("sms", "email"))
    end = (start + timedelta(hours=2)).strftime("%Y-%m-%d %H:%M")  # local: 12:00 Shanghai
    utc_end = (start + timedelta(hours=2)).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    texts = [s["body"] for s in samples if s["channel"] in ("sms", "email")]
    assert texts and all(end in t and utc_end not in t for t in texts)
    assert all(s["at"].endswith(("Asia/Shanghai", "Asia/Hong_Kong")) for s in samples)
    email = [s for s in samples if s["channel"] == "email"]
    assert email and all("127.0.0.1:8088/u/…" in s["body"] for s in email)
    assert all(re.fullmatch(r".\*\*\*@.+", s["to"]) for s in email)
    assert all(
        re.fullmatch(r"1\d\d\*\*\*\*\d{4}", s["to"]) for s in samples if s["channel"] == "sms"
    )
    shown = out + result.stdout + json.dumps(found, ensure_ascii=False)
    assert not PHONE_LIKE.findall(shown)
    with env.connect() as conn:
        people = conn.execute(select(Customer.phone_enc, Customer.email_enc)).all()
    for phone, mail in people:
        for value in (decrypt(phone, "phone"), decrypt(mail, "email")):
            assert not value or value not in shown


def test_caps_collide_with_another_running_campaigns_sends(env: Engine, tmp_path: Path) -> None:
    start = tomorrow_at(10)
    path = spec_file(tmp_path, start)
    alone = preview_json(path)
    other = CampaignSpec.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    with session_scope(env) as session:
        session.add(
            campaign_row("other-running", other, "赵强", datetime.now(UTC), phase="sending")
        )
        ids = session.execute(select(Customer.id)).scalars().all()
        session.flush()
        session.add_all(
            PlannedSend(
                campaign_id="other-running",
                customer_id=cid,
                channel="email",
                template="o",
                scheduled_at=start + timedelta(minutes=5),
                unit_cost=Decimal("0.002"),
                idempotency_key=f"other-running:{cid}:email:1",
                status="planned",
                attempts=0,
            )
            for cid in ids
        )
    try:
        crowded = preview_json(path)
    finally:
        with session_scope(env) as session:
            session.execute(delete(PlannedSend).where(PlannedSend.campaign_id == "other-running"))
            session.execute(delete(Campaign).where(Campaign.id == "other-running"))
    planned = crowded["plan"]["totals"]["planned"]
    assert planned == alone["plan"]["totals"]["planned"] > 0
    assert set(crowded["skipped_at_send"]) <= {"frequency_cap:day", "frequency_cap:priority"}
    assert sum(crowded["skipped_at_send"].values()) == planned  # one message a day, all taken
    assert crowded["expected_sends"] == 0
    assert crowded["nothing_sent"].startswith("every planned send would be refused at send time")


def test_start_refuses_a_campaign_that_would_send_nothing(
    env: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's trap: quiet hours 03:00–08:00 and a window at 01:00 Beijing time. The legal
    SMS window drops every send; `preview` flags it and `start` refuses before anything starts."""
    path = spec_file(
        tmp_path,
        tomorrow_at(1),
        hours=1,
        channels=SMS_ONLY,
        audience={"consent": "sms"},
        quiet_hours={"start": "03:00", "end": "08:00"},
    )
    found = preview_json(path)
    assert found["plan"]["totals"]["planned"] == 0 and found["targeted"] > 0
    assert found["plan"]["not_planned"] == {"quiet_hours": found["targeted"]}
    assert "legal sms window 08:00–20:00" in found["nothing_sent"]

    async def no_client(cfg: object) -> None:
        return None

    async def must_not_start(*args: object) -> str:
        raise AssertionError("a campaign that sends nothing was started")

    monkeypatch.setattr(campaign_commands, "client", no_client)
    monkeypatch.setattr(campaign_commands, "start_campaign", must_not_start)
    monkeypatch.setattr(sys, "argv", ["starter.py", "start", str(path), "--as", "王芳"])
    before = row_counts(env)
    assert cli.main._run() == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.startswith(
        "error: campaign would send nothing: none of the "
        f"{found['targeted']} targeted customers is planned "
        f"(quiet_hours {found['targeted']})"
    )
    assert "quiet hours 03:00–08:00 and the legal sms window 08:00–20:00" in err
    assert row_counts(env) == before
