"""Cost per message by channel, in the budget currency (CNY by default).

Defaults below; override any of them with OMNIREACH_UNIT_COSTS='{"sms": 0.05, ...}'; a spec's
own `unit_cost` for a channel wins over both.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from models.spec import ChannelPlan
from settings import settings

ENV = "OMNIREACH_UNIT_COSTS"
UNITS = 10_000  # money is summed as integer 1/10000ths so both backends add exactly
DEFAULT_UNIT_COSTS: dict[str, Decimal] = {
    "sms": Decimal("0.045"),
    "email": Decimal("0.002"),
    "wechat_oa": Decimal(0),
    "wechat_mini": Decimal(0),
    "wecom": Decimal(0),
    "alipay": Decimal(0),
    "app_push": Decimal(0),
    "outbound_call": Decimal("0.5"),
    "webhook": Decimal(0),
    "sandbox": Decimal("0.01"),
}


def unit_costs(raw: str | None = None) -> dict[str, Decimal]:
    """Defaults overlaid with the environment's JSON object; bad input names the culprit."""
    text = settings().unit_costs if raw is None else raw
    costs = dict(DEFAULT_UNIT_COSTS)
    if not text.strip():
        return costs
    try:
        given = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{ENV} is not valid JSON: {err.msg} at character {err.pos}") from None
    if not isinstance(given, dict):
        raise ValueError(f"{ENV} must be a JSON object of channel → cost")
    for channel, value in given.items():
        if channel not in DEFAULT_UNIT_COSTS:
            raise ValueError(f"{ENV}: unknown channel {channel!r}")
        try:
            cost = Decimal(str(value))
        except InvalidOperation:
            raise ValueError(f"{ENV}: cost for {channel!r} is not a number: {value!r}") from None
        if not cost.is_finite() or cost < 0:
            raise ValueError(f"{ENV}: cost for {channel!r} must be ≥ 0, got {value!r}")
        costs[channel] = cost
    return costs


def unit_cost(plan: ChannelPlan, costs: dict[str, Decimal] | None = None) -> Decimal:
    if plan.unit_cost is not None:
        return plan.unit_cost
    return (costs or unit_costs())[plan.channel]


def to_units(amount: Decimal) -> int:
    return int((amount * UNITS).to_integral_value())


def from_units(units: int) -> Decimal:
    return (Decimal(units) / UNITS).quantize(Decimal("0.0001"))
