"""Planning end to end on both backends: channel choice, send times, budget fit, idempotence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from models.spec import QuietHours
from models.tables import PlannedSend
from planning.plan import make_plan
from planning.report import format_plan_report, load_plan_report
from policy.quiet_hours import in_quiet_hours
from tests.profiles.seed import D, campaign, consent, customer, event, make_spec, order

SMS = {"channel": "sms", "template": "t_sms", "body": "b"}
WECHAT = {"channel": "wechat_oa", "template": "t_wx", "body": "b"}


def _sends(session: Session, campaign_id: str) -> dict[int, tuple[str, datetime, str, Decimal]]:
    ps = PlannedSend
    rows = session.execute(
        select(
            ps.customer_id,
            ps.channel,
            ps.scheduled_at,
            ps.idempotency_key,
            ps.unit_cost,
            ps.status,
            ps.template,
        ).where(ps.campaign_id == campaign_id)
    ).all()
    assert all(r.status == "planned" for r in rows)
    assert all(r.template == ("t_sms" if r.channel == "sms" else "t_wx") for r in rows)
    return {
        r.customer_id: (r.channel, r.scheduled_at, r.idempotency_key, r.unit_cost) for r in rows
    }


def _reach(session: Session, cid: int, sms: bool, wechat: bool, **fields: Any) -> None:
    customer(
        session,
        cid,
        phone_enc=b"p" if sms else None,
        wechat_openid="w" if wechat else None,
        **fields,
    )
    consent(session, cid, "sms")
    consent(session, cid, "wechat_oa")


def test_channel_choice_times_and_rerun(session: Session) -> None:
    _reach(session, 1, sms=True, wechat=True)
    for days in (1, 2):
        event(session, 1, "message_click", D - timedelta(days=days), channel="sms")
    _reach(session, 2, sms=True, wechat=True)  # no preference → the cheaper wechat_oa
    _reach(session, 3, sms=True, wechat=False)
    _reach(session, 4, sms=True, wechat=True, registered_days=500)
    order(session, 4, 120, "20")  # dormant: cheapest reachable channel despite preferring sms
    for days in (1, 2):
        event(session, 4, "message_click", D - timedelta(days=days), channel="sms")
    _reach(session, 5, sms=False, wechat=False)  # consent but no address
    _reach(session, 6, sms=True, wechat=True, tz="America/New_York")
    for cid in (1, 2, 3, 6):  # recent buyers: 'active' (never-buyers registered long ago churn)
        order(session, cid, 3, "50")
    spec = make_spec(channels=[SMS, WECHAT], holdout_percent=0)
    campaign(session, "p1", spec)
    found = take_snapshot(session, "p1", spec, D)
    assert found.targeted == 5 and found.excluded == {"no_address": 1}
    result = make_plan(session, "p1", spec, D)
    sends = _sends(session, "p1")
    assert {cid: s[0] for cid, s in sends.items()} == {
        1: "sms",
        2: "wechat_oa",
        3: "sms",
        4: "wechat_oa",
        6: "wechat_oa",
    }
    assert sends[1][2] == "p1:1:sms:1" and sends[2][2] == "p1:2:wechat_oa:1"
    assert sends[1][3] == Decimal("0.0450") and sends[2][3] == Decimal("0")
    window = spec.send_window
    for cid, (_, at, _, _) in sends.items():
        assert window.start <= at < window.end
        tz = "America/New_York" if cid == 6 else "Asia/Shanghai"
        assert not in_quiet_hours(at, tz, spec.quiet_hours)
    assert result.planned == 5 and result.by_channel == {"sms": 2, "wechat_oa": 3}
    assert result.cost == Decimal("0.0900") and result.fits_budget and result.dropped == 0
    assert result.first_send_at == min(s[1] for s in sends.values())
    report = load_plan_report(session, "p1")
    assert report is not None and report["totals"]["planned"] == 5
    assert [x["channel"] for x in report["channels"]] == ["wechat_oa", "sms"]  # free ranks first
    text = format_plan_report(report)
    assert "fits" in text and "wechat_oa" in text and "sms" in text
    assert make_plan(session, "p1", spec, D) == result
    assert _sends(session, "p1") == sends


def test_over_budget_drops_lowest_return_customers(session: Session) -> None:
    for cid in (1, 2, 3):  # loyal big spenders: high expected revenue per message
        _reach(session, cid, sms=True, wechat=False)
        for days in (1, 2, 3, 4, 5):
            order(session, cid, days, "1000")
    for cid in range(10, 20):  # regular small spenders
        _reach(session, cid, sms=True, wechat=False)
        order(session, cid, 50, "10")
    spec = make_spec(channels=[SMS], holdout_percent=0, budget={"limit": "0.2"})
    campaign(session, "p2", spec)
    take_snapshot(session, "p2", spec, D)
    result = make_plan(session, "p2", spec, D)
    assert not result.fits_budget
    assert result.planned == 4 and result.dropped == 9 and result.cost == Decimal("0.1800")
    assert set(_sends(session, "p2")) == {1, 2, 3, 10}
    report = load_plan_report(session, "p2")
    assert report is not None
    assert report["budget"]["dropped_by_channel"] == {"sms": 9}
    assert report["budget"]["cost_before_fit"] == "0.5850"
    assert report["not_planned"] == {"budget": 9}
    assert "does NOT fit" in format_plan_report(report)


def test_short_window_spreads_hours_and_skips_quiet_zones(session: Session) -> None:
    start = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai, 10:00 in New York
    for cid, tz, utc_hour in (
        (1, "America/New_York", 14),
        (2, "America/New_York", 20),
        (3, "Asia/Shanghai", 2),
    ):
        _reach(session, cid, sms=False, wechat=True, tz=tz)
        for days in (1, 2, 3):
            event(session, cid, "login", datetime(2026, 2, 20 + days, utc_hour, tzinfo=UTC))
    spec = make_spec(
        channels=[WECHAT],
        holdout_percent=0,
        send_window={
            "start": start.isoformat(),
            "end": (start + timedelta(minutes=12)).isoformat(),
        },
        quiet_hours=QuietHours.model_validate({"start": "21:00", "end": "08:00"}),
    )
    campaign(session, "p3", spec)
    take_snapshot(session, "p3", spec, D)
    result = make_plan(session, "p3", spec, D)
    sends = _sends(session, "p3")
    assert set(sends) == {1, 2} and result.dropped == 1
    # best local hours 9 and 15 → 9/24 and 15/24 of the 12 minutes, plus the id's sub-slot
    assert start + timedelta(minutes=4.5) <= sends[1][1] < start + timedelta(minutes=5)
    assert start + timedelta(minutes=7.5) <= sends[2][1] < start + timedelta(minutes=8)
    report = load_plan_report(session, "p3")
    assert report is not None and report["not_planned"] == {"quiet_hours": 1}
