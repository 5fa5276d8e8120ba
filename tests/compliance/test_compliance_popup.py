"""Broadcast lines and the pop-up rules CN-16…CN-18, alone and through the compliance check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from compliance.check import check_campaign
from compliance.config import load_config, parse_config
from compliance.findings import Severity
from compliance.plan_stats import PlanStats
from compliance.rules.popup import check_popup_line, popup_problems
from models.broadcast_lines import BroadcastLine, BroadcastLines, lines_from_spec
from models.spec import CampaignSpec

GOOD_POPUP: dict[str, Any] = {
    "channel": "website_popup",
    "name": "官网弹窗",
    "planned_cost": "2000",
    "ad_label": "广告",
    "provider_identity": "欧姆尼百货（上海）有限公司",
    "close_behaviour": "one_click",
    "max_per_day": 1,
    "cancel_path": "会员中心 > 消息设置 > 弹窗",
}


class SpecWithBroadcast(CampaignSpec):
    """CampaignSpec with the field the lead adds: `broadcast: BroadcastLines = []`."""

    broadcast: BroadcastLines = []


def spec(*lines: dict[str, Any]) -> SpecWithBroadcast:
    return SpecWithBroadcast.model_validate(
        {
            "name": "春季焕新",
            "objective": "promote",
            "owner": "ops",
            "audience": {"segment": ["loyal"]},
            "channels": [
                {
                    "channel": "sms",
                    "template": "spring_sms",
                    "body": "{{ honorific }}您好，春季新品到店。拒收请回复R",
                }
            ],
            "send_window": {
                "start": "2025-03-01T09:00:00+08:00",
                "end": "2025-03-03T20:00:00+08:00",
            },
            "budget": {"limit": "50000"},
            "broadcast": list(lines),
        }
    )


def test_a_complete_popup_line_passes() -> None:
    line = BroadcastLine.model_validate(GOOD_POPUP)
    assert popup_problems(line) == [] and check_popup_line(line) == []
    assert popup_problems(BroadcastLine(channel="billboard", planned_cost=Decimal(8000))) == []


@pytest.mark.parametrize(
    ("change", "rule_id", "severity"),
    [
        ({"ad_label": "推广"}, "CN-16.popup", Severity.BLOCK),
        ({"ad_label": None}, "CN-16.popup", Severity.BLOCK),
        ({"provider_identity": " "}, "CN-16.popup", Severity.BLOCK),
        ({"close_behaviour": "countdown"}, "CN-17", Severity.BLOCK),
        ({"close_behaviour": None}, "CN-17", Severity.BLOCK),
        ({"max_per_day": None}, "CN-18", Severity.BLOCK),
        ({"max_per_day": 12}, "CN-18", Severity.REVIEW),
        ({"cancel_path": None}, "CN-18", Severity.BLOCK),
    ],
)
def test_each_missing_declaration_is_one_problem(
    change: dict[str, Any], rule_id: str, severity: Severity
) -> None:
    line = BroadcastLine.model_validate(GOOD_POPUP | change)
    [problem] = popup_problems(line)
    assert (problem.rule_id, problem.severity) == (rule_id, severity)
    assert "官网弹窗" in problem.evidence
    assert check_popup_line(line)[0].startswith(f"{rule_id}: ")


def test_line_shape_is_checked_when_the_spec_is_read() -> None:
    with pytest.raises(ValidationError, match="only for website_popup"):
        BroadcastLine.model_validate({"channel": "tv", "planned_cost": 1, "ad_label": "广告"})
    with pytest.raises(ValidationError, match="listed twice"):
        lines_from_spec(
            {
                "broadcast": [
                    {"channel": "tv", "planned_cost": 1},
                    {"channel": "tv", "planned_cost": 2},
                ]
            }
        )
    with pytest.raises(ValidationError):
        BroadcastLine.model_validate({"channel": "sms", "planned_cost": 1})
    with pytest.raises(ValidationError):
        BroadcastLine.model_validate({"channel": "tv", "planned_cost": -5})
    two_tv = lines_from_spec(
        {
            "broadcast": [
                {"channel": "tv", "planned_cost": 1, "name": "cctv"},
                {"channel": "tv", "planned_cost": 2},
            ]
        }
    )
    assert [line.key for line in two_tv] == ["cctv", "tv"]
    assert lines_from_spec({}) == []


def test_rules_run_in_the_compliance_check_with_their_ids() -> None:
    doc = load_config().model_dump(mode="json")
    doc["rules"] |= {"CN-16.popup": {}, "CN-17": {}, "CN-18": {"params": {"max_per_day": 2}}}
    config = parse_config(doc)
    bad = spec(
        GOOD_POPUP | {"ad_label": None, "close_behaviour": "multi_click", "max_per_day": 3},
        {"channel": "billboard", "planned_cost": "8000"},
    )
    found = {
        (f.rule_id, f.severity)
        for f in check_campaign(bad, PlanStats(), config)
        if f.rule_id.startswith(("CN-16", "CN-17", "CN-18"))
    }
    assert found == {
        ("CN-16.popup", Severity.BLOCK),
        ("CN-17", Severity.BLOCK),
        ("CN-18", Severity.REVIEW),
    }
    good = check_campaign(spec(GOOD_POPUP), PlanStats(), config)
    assert not [f for f in good if f.rule_id.startswith(("CN-16", "CN-17", "CN-18"))]
