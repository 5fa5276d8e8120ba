"""The report's money, its "so far" labelling and its final verdicts, on PostgreSQL."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import Engine

from db.engine import session_scope
from reporting.lift import lift_interval, wilson
from reporting.money import money
from reporting.review import compute_review
from reporting.store import save_report
from tests.reporting.conftest import NOW, cli, expected_channels, make_campaign


def test_money_shows_every_decimal_the_database_keeps() -> None:
    assert money(Decimal("0.0020")) == "0.002"
    assert money(Decimal("0.675")) == "0.675"
    assert money(Decimal("0.0025")) == "0.0025"
    assert money(Decimal("12.5")) == "12.50" and money(None) == "0.00"
    assert money(Decimal("1E+2")) == "100.00"


def test_costs_keep_their_precision_in_json_and_text(report_db: tuple[str, Engine]) -> None:
    url, engine = report_db
    cid = make_campaign(engine)
    body = json.loads(cli(url, "report", cid, "--json").stdout)
    assert body["channels"]["sms"]["cost"] == "0.675"  # 15 × 0.045; rounded it read 0.68
    assert body["channels"]["email"]["cost"] == "0.03"  # 15 × 0.002
    assert body["total"]["cost"] == "0.705"
    text = cli(url, "report", cid).stdout
    assert "0.675" in text and "0.705" in text and "0.68 " not in text


def test_a_report_while_sending_is_so_far_and_never_says_missed(
    report_db: tuple[str, Engine],
) -> None:
    url, engine = report_db
    cid = make_campaign(engine, phase="sending")
    body = json.loads(cli(url, "report", cid, "--json").stdout)
    assert body["final"] is False and body["phase"] == "sending"
    assert {k: v["met"] for k, v in body["kpi"].items()} == {
        "reach_rate": None,
        "conversion_rate": None,
        "roi": None,
    }
    assert body["attribution"]["window_seconds"] == 86400
    assert body["attribution"]["closes_at"].startswith("2026-11-21T03:03")  # last send + 1d
    out = cli(url, "report", cid)
    assert out.returncode == 0, out.stderr
    assert "missed" not in out.stdout
    assert "so far" in out.stdout and out.stdout.count("→ pending") == 3
    assert "attribution window (closes 2026-11-21 03:03 UTC)" in " ".join(out.stdout.split())


def test_the_final_report_is_completed_and_decides_each_kpi(report_db: tuple[str, Engine]) -> None:
    url, engine = report_db
    cid = make_campaign(engine, phase="reviewing")
    with session_scope(engine) as s:
        report = compute_review(s, cid, NOW + timedelta(days=2), final=True)
        save_report(s, cid, "review", report, NOW + timedelta(days=2))
    body = json.loads(cli(url, "report", cid, "--json").stdout)
    assert body["final"] is True and body["phase"] == "completed"
    assert {k: v["met"] for k, v in body["kpi"].items()} == {
        "reach_rate": True,
        "conversion_rate": False,
        "roi": True,
    }
    for channel, counts in expected_channels().items():
        assert {k: body["channels"][channel][k] for k in counts} == counts
    g = body["groups"]
    assert (g["treated"], g["treated_converted"], g["holdout"], g["holdout_converted"]) == (
        30,
        6,
        10,
        1,
    )
    assert g["lift"] == 1.0
    lift_ci, treated_ci = lift_interval(6, 30, 1, 10), wilson(6, 30)
    assert lift_ci is not None and g["lift_ci"] == list(lift_ci)
    assert treated_ci is not None and g["treated_ci"] == list(treated_ci)
    text = " ".join(cli(url, "report", cid).stdout.split())
    assert "phase completed" in text and "final review" in text
    assert "conversion_rate: target 0.5, actual 0.20 → missed" in text
    assert "so far" not in text and "pending" not in text


def test_lift_interval_brackets_the_lift_and_widens_with_fewer_people() -> None:
    lo, hi = lift_interval(6, 30, 1, 10)  # type: ignore[misc]
    assert lo < 1.0 < hi and lo > -1
    small = lift_interval(3, 15, 1, 10)
    assert small is not None and small[1] - small[0] > hi - lo
    assert lift_interval(6, 30, 0, 10) is None  # no buyer in the holdout: no finite ratio
    low, high = wilson(0, 10)  # type: ignore[misc]
    assert low == 0 and 0 < high < 0.35


def test_a_cancelled_campaign_is_not_promised_a_review(report_db: tuple[str, Engine]) -> None:
    url, engine = report_db
    cid = make_campaign(engine, phase="cancelled")
    text = " ".join(cli(url, "report", cid).stdout.split())
    assert "the campaign ended cancelled before its review" in text
    assert text.count("→ not judged") == 3
    assert "missed" not in text and "pending" not in text
