"""CN-03 unsubscribe link, CN-12 广告/AD subject label, INT-08 one-click configured."""

from __future__ import annotations

import pytest

from compliance.findings import Severity
from compliance.plan_stats import PlanStats


def email(subject: str, body: str = "{{ unsubscribe_url }}", marketing: bool = True) -> list:
    return [
        {
            "channel": "email",
            "template": "m",
            "subject": subject,
            "body": body,
            "marketing": marketing,
        }
    ]


def test_unsubscribe_link_present_passes(make_spec, run_rule) -> None:
    assert run_rule("CN-03", make_spec()) == []


def test_missing_unsubscribe_link_blocks(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-03", make_spec(channels=email("广告 新品", "{{ honorific }}您好")))
    assert finding.severity is Severity.BLOCK and "unsubscribe_url" in finding.message
    assert finding.evidence == "variables used: honorific"


def test_service_email_needs_no_unsubscribe(make_spec, run_rule) -> None:
    assert run_rule("CN-03", make_spec(channels=email("订单", "已发货", marketing=False))) == []


@pytest.mark.parametrize(
    "subject", ["广告 春季新品", "【广告】春季新品", "AD: spring", "[AD] 新品"]
)
def test_ad_label_present(make_spec, run_rule, subject: str) -> None:
    assert run_rule("CN-12", make_spec(channels=email(subject))) == []


@pytest.mark.parametrize("subject", ["春季新品", "ADIDAS 新品到店", "新品 广告"])
def test_ad_label_missing_blocks(make_spec, run_rule, subject: str) -> None:
    [finding] = run_rule("CN-12", make_spec(channels=email(subject)))
    assert finding.severity is Severity.BLOCK and subject in finding.evidence


def test_ad_label_only_for_cn_recipients(make_spec, run_rule) -> None:
    plan = PlanStats(planned_by_jurisdiction={"US": 10})
    assert run_rule("CN-12", make_spec(channels=email("Spring arrivals")), plan) == []


def test_one_click_configured_passes(make_spec, run_rule) -> None:
    assert run_rule("INT-08", make_spec()) == []


def test_one_click_off_blocks(make_spec, run_rule, config_with) -> None:
    cfg = config_with(channels={"email": {"provider": "smtp", "one_click_unsubscribe": False}})
    [finding] = run_rule("INT-08", make_spec(), cfg=cfg)
    assert finding.severity is Severity.BLOCK and "one_click_unsubscribe" in finding.message
