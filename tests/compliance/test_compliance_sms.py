"""CN-04 opt-out wording per provider, CN-05 no signature in the body, OPS-01 segments."""

from __future__ import annotations

from compliance.findings import Severity


def sms(body: str, marketing: bool = True) -> list[dict[str, object]]:
    return [{"channel": "sms", "template": "t", "body": body, "marketing": marketing}]


def test_marketing_sms_with_opt_out_at_end_passes(make_spec, run_rule) -> None:
    assert run_rule("CN-04", make_spec(channels=sms("新品到店。拒收请回复R。"))) == []


def test_marketing_sms_without_opt_out_blocks(make_spec, run_rule, monkeypatch) -> None:
    monkeypatch.delenv("OMNIREACH_CHANNEL_PROVIDERS", raising=False)
    [finding] = run_rule("CN-04", make_spec(channels=sms("新品到店，欢迎光临")))
    assert finding.severity is Severity.BLOCK
    assert "拒收请回复R" in finding.message and "(no provider configured)" in finding.message
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=aliyun")
    [finding] = run_rule("CN-04", make_spec(channels=sms("新品到店，欢迎光临")))
    assert "(provider aliyun)" in finding.message


def test_opt_out_must_be_at_the_end(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-04", make_spec(channels=sms("拒收请回复R。新品到店")))
    assert "must end with" in finding.message


def test_provider_specific_opt_out_text(make_spec, run_rule, config_with) -> None:
    cfg = config_with(channels={"sms": {"provider": "qiniu"}})
    spec_r = make_spec(channels=sms("新品到店。拒收请回复R"))
    [finding] = run_rule("CN-04", spec_r, cfg=cfg)
    assert "回TD退订" in finding.message
    assert run_rule("CN-04", make_spec(channels=sms("新品到店。回TD退订")), cfg=cfg) == []


def test_notice_must_not_carry_marketing_or_opt_out(make_spec, run_rule) -> None:
    assert run_rule("CN-04", make_spec(channels=sms("您的订单已发货", False))) == []
    for body in ("您的订单已发货，领优惠券", "您的订单已发货。拒收请回复R"):
        [finding] = run_rule("CN-04", make_spec(channels=sms(body, False)))
        assert "notification SMS" in finding.message


def test_provider_forbidden_symbols(make_spec, run_rule, config_with) -> None:
    cfg = config_with(channels={"sms": {"provider": "tencent"}})
    [finding] = run_rule("CN-04", make_spec(channels=sms("★新品到店。拒收请回复R")), cfg=cfg)
    assert "★" in finding.message
    assert run_rule("CN-04", make_spec(channels=sms("★新品到店。拒收请回复R"))) == []  # aliyun


def test_signature_in_body_blocks(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-05", make_spec(channels=sms("【某某百货】新品到店。拒收请回复R")))
    assert finding.severity is Severity.BLOCK and "「【」" in finding.evidence
    assert run_rule("CN-05", make_spec(channels=sms("某某百货新品到店。拒收请回复R"))) == []


def test_short_sms_is_one_segment(make_spec, run_rule) -> None:
    assert run_rule("OPS-01", make_spec()) == []


def test_long_sms_warns_with_segment_count(make_spec, run_rule) -> None:
    body = "{{ honorific }}您好，" + "春季新品全面到店，" * 8 + "拒收请回复R"
    [finding] = run_rule("OPS-01", make_spec(channels=sms(body)))
    assert finding.severity is Severity.WARN and not finding.blocked
    assert "2 segments" in finding.message


def test_configured_signature_counts_toward_length(make_spec, run_rule, config_with) -> None:
    body = "字" * 58 + "拒收请回复R"  # 64 characters + a 6-character signature = 70
    assert run_rule("OPS-01", make_spec(channels=sms(body))) == []
    cfg = config_with(channels={"sms": {"provider": "aliyun", "signature": "某某百货集团上海店"}})
    [finding] = run_rule("OPS-01", make_spec(channels=sms(body)), cfg=cfg)
    assert "75 characters" in finding.message
