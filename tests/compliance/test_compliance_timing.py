"""CN-06 template safety and CN-07 quiet hours."""

from __future__ import annotations

from compliance.findings import Severity
from compliance.plan_stats import PlanStats

SANDBOX = [{"channel": "sandbox", "template": "s", "body": "新品到店"}]


def test_safe_templates_pass(make_spec, run_rule) -> None:
    assert run_rule("CN-06", make_spec()) == []


def test_unsafe_template_blocks(make_spec, run_rule) -> None:
    channels = [
        {
            "channel": "email",
            "template": "m",
            "subject": "广告 {{ ''.__class__ }}",
            "body": "{{ phone }} {{ unsubscribe_url }}",
        }
    ]
    findings = run_rule("CN-06", make_spec(channels=channels))
    assert {f.message.split(" template")[0] for f in findings} == {
        "the email subject",
        "the email body",
    }
    assert all(f.severity is Severity.BLOCK for f in findings)
    assert any("variable 'phone'" in f.evidence for f in findings)
    assert any("'.__class__'" in f.evidence for f in findings)


def test_default_quiet_hours_pass(make_spec, run_rule) -> None:
    assert run_rule("CN-07", make_spec()) == []  # aliyun (conftest): 08:00–22:00


def test_window_names_no_provider_when_none_is_configured(make_spec, run_rule, monkeypatch) -> None:
    monkeypatch.delenv("OMNIREACH_CHANNEL_PROVIDERS", raising=False)
    spec = make_spec(quiet_hours={"start": "03:00", "end": "08:00"})
    [finding] = run_rule("CN-07", spec)
    assert finding.severity is Severity.WARN and finding.channel == "sms"
    assert "aliyun" not in finding.message and "provider default" not in finding.message
    assert "08:00–20:00 (no provider configured)" in finding.message  # the strictest window
    assert "sms sends only inside that window" in finding.message
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=tencent")
    [finding] = run_rule("CN-07", spec)
    assert "08:00–22:00 (provider tencent)" in finding.message
    assert finding.evidence == "300 minutes a day, first at 00:00"  # 22:00–03:00


def test_no_quiet_hours_with_sms_blocks(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-07", make_spec(quiet_hours=None))
    assert finding.severity is Severity.BLOCK and "sms" in finding.message


def test_no_quiet_hours_sandbox_only_warns(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-07", make_spec(quiet_hours=None, channels=SANDBOX))
    assert finding.severity is Severity.WARN and not finding.blocked


def test_service_only_campaign_needs_no_quiet_hours(make_spec, run_rule) -> None:
    channels = [{"channel": "sms", "template": "s", "body": "订单已发货", "marketing": False}]
    assert run_rule("CN-07", make_spec(quiet_hours=None, channels=channels)) == []


def test_quiet_hours_outside_provider_window_warn(make_spec, run_rule, config_with) -> None:
    cfg = config_with(channels={"sms": {"provider": "qiniu"}})
    [finding] = run_rule("CN-07", make_spec(), cfg=cfg)  # 21:00–08:00 allows 20:00–21:00
    assert finding.severity is Severity.WARN
    assert finding.evidence == "60 minutes a day, first at 20:00"
    spec = make_spec(quiet_hours={"start": "20:00", "end": "08:00"})
    assert run_rule("CN-07", spec, cfg=cfg) == []


def test_planned_in_quiet_hours_blocks(make_spec, run_rule) -> None:
    assert run_rule("CN-07.plan", make_spec(), PlanStats()) == []
    [finding] = run_rule("CN-07.plan", make_spec(), PlanStats(planned_in_quiet_hours=3))
    assert finding.severity is Severity.BLOCK and finding.evidence == "3 planned sends"
