"""CN-19/CN-20/CN-21: service-notice-only channels refuse marketing."""

from __future__ import annotations

import pytest

from compliance.findings import Severity

CASES = [
    ("CN-19", "wechat_oa", Severity.BLOCK),
    ("CN-20", "wechat_mini", Severity.BLOCK),
    ("CN-21", "alipay", Severity.REVIEW),
]


def channel(name: str, body: str, marketing: bool) -> list[dict[str, object]]:
    return [{"channel": name, "template": "svc", "body": body, "marketing": marketing}]


@pytest.mark.parametrize(("rule_id", "name", "severity"), CASES)
def test_marketing_on_service_channel(make_spec, run_rule, rule_id, name, severity) -> None:
    [finding] = run_rule(rule_id, make_spec(channels=channel(name, "新品到店", True)))
    assert finding.severity is severity and finding.channel == name
    assert "service notices only" in finding.message


@pytest.mark.parametrize(("rule_id", "name", "severity"), CASES)
def test_service_notice_passes(make_spec, run_rule, rule_id, name, severity) -> None:
    spec = make_spec(channels=channel(name, "您预约的{{ home_store }}试衣服务已确认", False))
    assert run_rule(rule_id, spec) == []


def test_service_notice_with_coupon_wording_goes_to_review(make_spec, run_rule) -> None:
    spec = make_spec(channels=channel("wechat_mini", "订单已发货，赠送优惠券一张", False))
    [finding] = run_rule("CN-20", spec)
    assert finding.severity is Severity.REVIEW and "「优惠券」" in finding.evidence


def test_rule_does_not_touch_other_channels(make_spec, run_rule) -> None:
    assert run_rule("CN-19", make_spec()) == []
