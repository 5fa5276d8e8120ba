"""CN-13 absolute terms and CN-14 promotion periods."""

from __future__ import annotations

import pytest

from compliance.findings import Severity
from compliance.plan_stats import PlanStats

OPT = "拒收请回复R"


def sms(body: str, marketing: bool = True) -> list[dict[str, object]]:
    return [{"channel": "sms", "template": "t", "body": body, "marketing": marketing}]


def test_clean_copy_has_no_term_findings(make_spec, run_rule) -> None:
    assert run_rule("CN-13", make_spec()) == []


@pytest.mark.parametrize(
    ("body", "severity", "term"),
    [
        ("全网最低价，快来抢购。" + OPT, Severity.BLOCK, "最低价"),
        ("国家级工艺。" + OPT, Severity.BLOCK, "国家级"),
        ("今年销量 no.1 的羽绒服。" + OPT, Severity.BLOCK, "no.1"),
        ("本店销量第一的羽绒服。" + OPT, Severity.REVIEW, "本店销量第一"),
        ("新茶最佳赏味期为30天。" + OPT, Severity.REVIEW, "最佳赏味期"),
    ],
)
def test_absolute_terms(make_spec, run_rule, body: str, severity: Severity, term: str) -> None:
    findings = run_rule("CN-13", make_spec(channels=sms(body)))
    assert [f.severity for f in findings] == [severity]
    assert f"「{term}」" in findings[0].evidence
    assert findings[0].channel == "sms"
    assert bool(findings[0].blocked) is (severity is Severity.BLOCK)


def test_lawful_context_and_banned_term_both_reported(make_spec, run_rule) -> None:
    body = "本店销量第一，全网最低价。" + OPT
    severities = sorted(f.severity for f in run_rule("CN-13", make_spec(channels=sms(body))))
    assert severities == [Severity.BLOCK, Severity.REVIEW]


def test_subject_is_scanned_too(make_spec, run_rule) -> None:
    channels = [
        {
            "channel": "email",
            "template": "m",
            "subject": "广告 顶级好物",
            "body": "{{ unsubscribe_url }}",
        }
    ]
    [finding] = run_rule("CN-13", make_spec(channels=channels))
    assert "email subject" in finding.message and "顶级" in finding.message


def test_only_for_configured_jurisdictions(make_spec, run_rule) -> None:
    spec = make_spec(channels=sms("全网最低价。" + OPT))
    assert run_rule("CN-13", spec, PlanStats(planned_by_jurisdiction={"US": 5})) == []
    assert run_rule("CN-13", spec, PlanStats(planned_by_jurisdiction={"US": 5, "CN": 1}))


def test_limited_time_without_end_time_blocks(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-14", make_spec(channels=sms("限时特惠，欢迎选购。" + OPT)))
    assert finding.severity is Severity.BLOCK and "「限时」" in finding.evidence


@pytest.mark.parametrize(
    "body",
    [
        "限时特惠，截止{{ end_time }}。" + OPT,
        "限时特惠，3月31日截止。" + OPT,
        "限时特惠，2025-03-31 结束。" + OPT,
        "今日22:00前下单有礼。" + OPT,
        "{{ honorific }}您好，春季新品到店。拒收请回复R",
    ],
)
def test_limited_time_with_end_time_passes(make_spec, run_rule, body: str) -> None:
    assert run_rule("CN-14", make_spec(channels=sms(body))) == []


def test_end_time_in_subject_counts_for_body(make_spec, run_rule) -> None:
    channels = [
        {
            "channel": "email",
            "template": "m",
            "subject": "广告 限时特惠至3月31日",
            "body": "限时特惠 {{ unsubscribe_url }}",
        }
    ]
    assert run_rule("CN-14", make_spec(channels=channels)) == []


def test_urgency_words_commonly_banned_go_to_review(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-14", make_spec(channels=sms("随时涨价，先到先得。" + OPT)))
    assert finding.severity is Severity.REVIEW


def test_service_notice_not_subject_to_promotion_rule(make_spec, run_rule) -> None:
    assert run_rule("CN-14", make_spec(channels=sms("您今日的预约已确认", False))) == []
