"""Plan rules: consent, suppression, caps, profiling opt-out, minors, budget."""

from __future__ import annotations

from decimal import Decimal

import pytest

from compliance.findings import Severity
from compliance.plan_stats import PlanStats

CLEAN = PlanStats(
    planned_by_channel={"sms": 900, "email": 100},
    max_messages_per_customer=1,
    planned_cost=Decimal("55.00"),
)


@pytest.mark.parametrize("rule_id", ["CN-01", "CN-02", "CN-09", "CN-24", "CN-26", "OPS-02"])
def test_clean_plan_passes(make_spec, run_rule, rule_id: str) -> None:
    assert run_rule(rule_id, make_spec(), CLEAN) == []


@pytest.mark.parametrize(
    ("rule_id", "change", "evidence"),
    [
        ("CN-01", {"planned_without_consent": {"sms": 2, "email": 0}}, "sms: 2"),
        ("CN-02", {"planned_suppressed": {"email": 1}}, "email: 1"),
        ("CN-09", {"max_messages_per_customer": 2}, "max 2 per customer"),
        ("CN-24", {"profiling_opted_out_planned": 4}, "4 customers"),
        ("CN-26", {"minors_planned": 1}, "1 customers"),
        ("OPS-02", {"planned_cost": Decimal("1000.01")}, "planned 1000.01 > 1000"),
    ],
)
def test_failing_plan_blocks(make_spec, run_rule, rule_id, change, evidence) -> None:
    [finding] = run_rule(rule_id, make_spec(), CLEAN.model_copy(update=change))
    assert finding.severity is Severity.BLOCK
    assert finding.evidence == evidence
    assert finding.blocked == "campaign stopped before any send (the plan)"


def test_unknown_age_warns(make_spec, run_rule) -> None:
    [finding] = run_rule("CN-26", make_spec(), CLEAN.model_copy(update={"unknown_age_planned": 7}))
    assert finding.severity is Severity.WARN and not finding.blocked


def test_cap_is_configurable(make_spec, run_rule, config_with) -> None:
    cfg = config_with({"CN-09": {"params": {"max_per_customer": 3}}})
    plan = CLEAN.model_copy(update={"max_messages_per_customer": 3})
    assert run_rule("CN-09", make_spec(), plan, cfg) == []


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="minors_planned"):
        PlanStats(minors_planned=-1)
