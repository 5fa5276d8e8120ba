"""CN-15: numeric claims need a source in the channel plan; gift offers need their terms."""

from __future__ import annotations

import pytest

from compliance.findings import Severity

OPT = "拒收请回复R"
GIFT = {
    "kind": "帆布袋",
    "specification": "40×35 cm",
    "quantity": "每位顾客 1 个",
    "period": "3月1日至3月3日",
    "method": "凭短信到服务台领取",
}


def sms(body: str, **extra: object) -> list[dict[str, object]]:
    return [{"channel": "sms", "template": "t", "body": body, **extra}]


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ("羽绒服销量10万+，欢迎选购。", "10万+"),
        ("春装销量突破5万件。", "销量突破5"),
        ("保暖性能领先同类30%。", "领先同类30%"),
        ("98%的顾客推荐。", "98%的顾客"),
        ("本季第一爆款。", "第一"),
    ],
)
def test_claim_without_source_blocks_naming_the_words(make_spec, run_rule, body, word) -> None:
    [finding] = run_rule("CN-15", make_spec(channels=sms(body + OPT)))
    assert finding.severity is Severity.BLOCK and finding.blocked
    assert word in finding.message and f"「{word}」" in finding.evidence
    assert "claim_source" in finding.message


def test_claim_with_source_passes(make_spec, run_rule) -> None:
    channels = sms("羽绒服销量10万+，欢迎选购。" + OPT, claim_source="2024年度门店销售报表")
    assert run_rule("CN-15", make_spec(channels=channels)) == []


@pytest.mark.parametrize("body", ["满200减30，春装8折。", "3月1日起新品到店。"])
def test_prices_and_dates_are_not_claims(make_spec, run_rule, body) -> None:
    assert run_rule("CN-15", make_spec(channels=sms(body + OPT))) == []


def test_gift_without_terms_blocks(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-15", make_spec(channels=sms("到店消费满300送帆布袋。" + OPT)))
    assert finding.severity is Severity.BLOCK
    assert "满300送" in finding.message and "gift" in finding.message


def test_gift_with_terms_passes(make_spec, run_rule) -> None:
    channels = sms("到店即有好礼相赠。" + OPT, gift=GIFT)
    assert run_rule("CN-15", make_spec(channels=channels)) == []


def test_gift_terms_must_be_complete(make_spec) -> None:
    with pytest.raises(ValueError, match="method"):
        make_spec(
            channels=sms("好礼。" + OPT, gift={k: v for k, v in GIFT.items() if k != "method"})
        )


def test_service_notices_are_not_adverts(make_spec, run_rule) -> None:
    channels = sms("您的订单已发货，附赠品一份。", marketing=False)
    assert run_rule("CN-15", make_spec(channels=channels)) == []


def test_default_config_runs_it(config) -> None:
    assert "CN-15" in config.rules
