"""The spec model refuses what the database or the checker cannot hold: money beyond the
Numeric(14, 4) columns, non-finite KPI targets, and filters nested past the depth limit."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml
from pydantic import ValidationError

from models.audience import Filter
from models.spec import MAX_FILTER_DEPTH, MONEY_MAX, Budget, CampaignSpec, ChannelPlan, Kpi
from models.tables import Money
from tests.cli.test_spec_errors import EXAMPLE

STEP = Decimal("0.0001")


def test_money_bound_is_the_column_bound() -> None:
    assert (Money.precision, Money.scale) == (14, 4)  # if this changes, change MONEY_MAX too
    assert MONEY_MAX == Decimal(10) ** 10 - STEP


@pytest.mark.parametrize("limit", [MONEY_MAX + STEP, Decimal("1e38"), Decimal("Infinity")])
def test_a_budget_the_column_cannot_hold_is_refused(limit: Decimal) -> None:
    assert Budget(limit=MONEY_MAX).limit == MONEY_MAX
    with pytest.raises(ValidationError, match="limit"):
        Budget(limit=limit)


def test_a_unit_cost_the_column_cannot_hold_is_refused() -> None:
    plan = {"channel": "sms", "template": "t", "body": "b"}
    assert ChannelPlan.model_validate(plan | {"unit_cost": MONEY_MAX}).unit_cost == MONEY_MAX
    with pytest.raises(ValidationError, match="unit_cost"):
        ChannelPlan.model_validate(plan | {"unit_cost": MONEY_MAX + STEP})


@pytest.mark.parametrize(
    "target", [{"roi": float("inf")}, {"lift": float("nan")}, {"roi": 1e300}, {"lift": -2.0}]
)
def test_kpi_targets_are_finite_and_bounded(target: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        Kpi.model_validate(target)


def test_a_deep_filter_built_in_code_is_refused_too() -> None:
    doc = yaml.safe_load(
        EXAMPLE.replace('"+1m"', "2030-01-01T09:00:00+08:00").replace(
            '"+3m"', "2030-01-01T10:00:00+08:00"
        )
    )

    def nested(depth: int) -> Filter:
        node = Filter(lifecycle=["at_risk"])
        for _ in range(depth):
            node = Filter.model_validate({"not": node})
        return node

    assert CampaignSpec.model_validate(doc | {"audience": nested(MAX_FILTER_DEPTH)})
    with pytest.raises(ValidationError, match=f"more than {MAX_FILTER_DEPTH} levels"):
        CampaignSpec.model_validate(doc | {"audience": nested(MAX_FILTER_DEPTH + 1)})
