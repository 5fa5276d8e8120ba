"""A journey's every step and A/B variant is checked: a banned term in a later step's copy or
in one variant alone blocks the campaign, and the finding says which copy it is in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from compliance.check import Severity, check_content
from compliance.findings import Finding
from models.spec import CampaignSpec
from tests.compliance.conftest import CLEAN_SMS

BANNED = "国家级工艺，春季新品到店。拒收请回复R"  # CN-13 tier A: blocks


def journey(first: dict[str, Any], reminder: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {"id": "first", "send": {"channels": ["sms"], **first}, "next": "later"},
        {"id": "later", "wait": "2d", "next": "remind"},
        {"id": "remind", "send": {"channels": ["sms"], **reminder}},
    ]


def variants(b_body: str) -> dict[str, Any]:
    return {"variants": [{"id": "A"}, {"id": "B", "body": b_body}]}


def blocks(spec: CampaignSpec) -> list[Finding]:
    return [f for f in check_content(spec) if f.severity is Severity.BLOCK]


def test_a_banned_term_only_in_a_later_step_blocks_and_names_it(
    make_spec: Callable[..., CampaignSpec],
) -> None:
    assert blocks(make_spec(steps=journey({}, {}))) == []
    [found] = blocks(make_spec(steps=journey({}, {"body": BANNED})))
    assert found.rule_id == "CN-13" and "国家级" in found.message
    assert found.message.endswith("in the sms body (journey step remind)")


def test_a_banned_term_only_in_variant_b_blocks_and_names_it(
    make_spec: Callable[..., CampaignSpec],
) -> None:
    assert blocks(make_spec(steps=journey(variants(CLEAN_SMS), {}))) == []
    [found] = blocks(make_spec(steps=journey(variants(BANNED), {})))
    assert found.rule_id == "CN-13"
    assert found.message.endswith("(journey step first variant B)")
    assert found.blocked


def test_copy_every_send_shares_reads_as_for_one_send(
    make_spec: Callable[..., CampaignSpec],
) -> None:
    """The campaign's own sms copy, used by every step: one finding, worded as without steps."""
    channels = [{"channel": "sms", "template": "t", "body": BANNED}]
    [one_send] = blocks(make_spec(channels=channels))
    assert one_send.message == "absolute term (国家级, tier A) in the sms body"
    assert blocks(make_spec(channels=channels, steps=journey({}, {}))) == [one_send]
