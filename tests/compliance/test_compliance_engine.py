"""The engine: configuration decides which rules run, where, how severe; results ordering."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.check import check_campaign, minimum_age, passed
from compliance.config import ConfigError, load_config, parse_config
from compliance.findings import Severity
from compliance.plan_stats import PlanStats
from compliance.registry import all_rules


def test_default_config_lists_every_registered_rule(config) -> None:
    assert set(config.rules) == set(all_rules())


def test_every_rule_has_a_source_and_a_title() -> None:
    for rule in all_rules().values():
        assert rule.source and rule.title, rule.id


def test_clean_campaign_has_no_findings(make_spec, config) -> None:
    clean = make_spec(pia="PIA-2026-001")  # it targets a segment through providers (CN-27)
    assert check_campaign(clean, PlanStats(impact_assessment="approved"), config) == []
    assert passed([])


def test_findings_are_worst_first(make_spec, config) -> None:
    body = "本店销量第一，全网最低价。拒收请回复R"
    spec = make_spec(
        quiet_hours=None, channels=[{"channel": "sandbox", "template": "s", "body": body}]
    )
    severities = [f.severity for f in check_campaign(spec, PlanStats(), config)]
    assert severities == sorted(severities, key=["block", "review", "warn"].index)
    assert set(severities) == {Severity.BLOCK, Severity.REVIEW, Severity.WARN}
    assert not passed(check_campaign(spec, PlanStats(), config))


def test_severity_override(make_spec, run_rule, config_with) -> None:
    cfg = config_with({"CN-05": {"severity": "warn"}})
    spec = make_spec(channels=[{"channel": "sms", "template": "t", "body": "【店】拒收请回复R"}])
    [finding] = run_rule("CN-05", spec, cfg=cfg)
    assert finding.severity is Severity.WARN and finding.blocked == ""


def test_disabled_and_unlisted_rules_do_not_run(make_spec, run_rule, config, config_with) -> None:
    spec = make_spec(channels=[{"channel": "sms", "template": "t", "body": "【店】拒收请回复R"}])
    assert run_rule("CN-05", spec, cfg=config_with({"CN-05": {"enabled": False}})) == []
    doc = config.model_dump(mode="json")
    del doc["rules"]["CN-05"]
    assert run_rule("CN-05", spec, cfg=parse_config(doc)) == []
    [_] = run_rule("CN-05", spec)


def test_provider_filter(make_spec, run_rule, config_with) -> None:
    spec = make_spec(channels=[{"channel": "sms", "template": "t", "body": "【店】拒收请回复R"}])
    cfg = config_with({"CN-05": {"providers": ["huawei"]}})
    assert run_rule("CN-05", spec, cfg=cfg) == []
    cfg = config_with(
        {"CN-05": {"providers": ["huawei"]}}, channels={"sms": {"provider": "huawei"}}
    )
    assert len(run_rule("CN-05", spec, cfg=cfg)) == 1


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"CN-99": {}}, "rules.CN-99: no such rule"),
        ({"CN-13": {"params": {"tier_x": []}}}, "rules.CN-13.params: tier_x: Extra inputs"),
        ({"CN-13": {"params": {"tier_c": ["(unclosed"]}}}, "is not a valid regex"),
        ({"CN-04": {"params": {"opt_out_texts": {"qiniu": "回T退订"}}}}, "needs a 'default'"),
        ({"CN-05": {"channels": ["email"]}}, "rules.CN-05.channels: email not covered"),
        ({"CN-05": {"severity": "fatal"}}, "rules.CN-05.severity"),
    ],
)
def test_bad_config_is_a_clear_error(config_with, rules, message) -> None:
    with pytest.raises(ConfigError) as info:
        config_with(rules)
    assert message in str(info.value)
    assert "Traceback" not in str(info.value)


def test_yaml_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("version: 1\nrules:\n  CN-01: {\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.yaml line \d+: not valid YAML"):
        load_config(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read compliance config nope.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_env_var_selects_config(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "only_budget.yaml"
    path.write_text("version: 1\nrules:\n  OPS-02: {}\n", encoding="utf-8")
    monkeypatch.setenv("OMNIREACH_COMPLIANCE_CONFIG", str(path))
    assert list(load_config().rules) == ["OPS-02"]


def test_minimum_age_comes_from_config(config, config_with) -> None:
    assert minimum_age(config) == 14
    assert minimum_age(config_with({"CN-26": {"params": {"min_age": 16}}})) == 16
