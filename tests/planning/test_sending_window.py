"""The legal sending window for marketing (CN-07) always applies on top of a spec's quiet hours:
a spec can narrow when SMS and calls go out, never widen it. Planning drops what cannot be sent
inside it; the send-time check defers to it; email and service SMS are not bound by it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from compliance.sending_window import legal_window, quiet_periods
from models.spec import CampaignSpec, QuietHours, SendWindow
from planning.plan import make_plan
from planning.report import load_plan_report
from planning.slots import slot_times
from policy.quiet_hours import in_quiet_hours, next_allowed
from tests.planning.test_plan import _reach, _sends
from tests.profiles.seed import campaign, make_spec

SH = "Asia/Shanghai"
EARLY = {"start": "03:00", "end": "08:00"}  # a spec's quiet hours that would let SMS out at 01:00
NIGHT = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 01:00 in Shanghai
SMS = {"channel": "sms", "template": "t_sms", "body": "b"}
NOTICE = {"channel": "sms", "template": "t_sms", "body": "b", "marketing": False}
WECHAT = {"channel": "wechat_oa", "template": "t_wx", "body": "b"}


def _night_spec(channels: Sequence[Mapping[str, object]]) -> CampaignSpec:
    return make_spec(
        channels=channels,
        holdout_percent=0,
        quiet_hours=EARLY,
        send_window={"start": NIGHT.isoformat(), "end": (NIGHT + timedelta(hours=1)).isoformat()},
    )


def test_window_comes_from_the_configured_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNIREACH_CHANNEL_PROVIDERS", raising=False)
    strictest = legal_window("sms")
    assert strictest is not None and (strictest.start, strictest.end) == (time(8), time(20))
    assert strictest.provider is None and str(strictest) == "08:00–20:00 (no provider configured)"
    assert legal_window("email") is None and legal_window("app_push") is None
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=aliyun,email=smtp")
    aliyun = legal_window("sms")
    assert aliyun is not None and str(aliyun) == "08:00–22:00 (provider aliyun)"
    call = legal_window("outbound_call")
    assert call is not None and (call.start, call.end) == (time(8), time(20))


def test_spec_quiet_hours_cannot_widen_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=aliyun")
    spec = _night_spec([SMS, WECHAT])
    sms = quiet_periods(spec, "sms")
    assert sms == (QuietHours.model_validate(EARLY), QuietHours(start=time(22), end=time(8)))
    assert quiet_periods(spec, "wechat_oa") == (QuietHours.model_validate(EARLY),)
    at = datetime(2026, 3, 2, 17, 22, tzinfo=UTC)  # 01:22 in Shanghai: the SMS time
    assert not in_quiet_hours(at, SH, spec.quiet_hours)  # the spec alone would let it out
    assert in_quiet_hours(at, SH, sms)
    assert next_allowed(at, SH, sms) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # 08:00 local
    window = SendWindow(start=NIGHT, end=NIGHT + timedelta(hours=1))
    assert slot_times(window, sms, SH, 1) is None
    assert slot_times(window, spec.quiet_hours, SH, 1) is not None
    narrower = make_spec(channels=[SMS], quiet_hours={"start": "19:00", "end": "09:30"})
    nine = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # 09:00 local: the spec may narrow the window
    assert in_quiet_hours(nine, SH, quiet_periods(narrower, "sms"))


def test_service_sms_is_not_bound_by_the_marketing_window() -> None:
    spec = _night_spec([NOTICE])
    assert quiet_periods(spec, "sms") == (QuietHours.model_validate(EARLY),)


def test_planning_drops_marketing_sms_outside_the_window(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=aliyun")
    _reach(session, 1, sms=True, wechat=False)
    _reach(session, 2, sms=False, wechat=True)
    spec = _night_spec([SMS, WECHAT])
    campaign(session, "w1", spec)
    take_snapshot(session, "w1", spec, NIGHT - timedelta(hours=1))
    result = make_plan(session, "w1", spec, NIGHT - timedelta(hours=1))
    sends = _sends(session, "w1")
    assert {cid: s[0] for cid, s in sends.items()} == {2: "wechat_oa"}
    assert result.planned == 1
    report = load_plan_report(session, "w1")
    assert report is not None and report["not_planned"] == {"quiet_hours": 1}
