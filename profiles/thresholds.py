"""Segment and lifecycle thresholds: named, configurable, and documented in one place.

Segments (docs/lifecycle.md#research), checked in this order, first match wins:
  loyal     R < 7 days,  F ≥ 5,       M ≥ 300
  potential R < 30 days, 2 ≤ F ≤ 3
  dormant   R > 90 days, F = 1,       M < 100
  regular   any other customer with at least one order in the window
  none      no order in the window (R and all scores are NULL)

Lifecycle, from A = whole days since the last order in the window, or since registration when
there is none:
  new       registered less than `new_days` before D and at most one order
  active    A ≤ `active_days`;  at_risk A ≤ `at_risk_days`;  dormant A ≤ `dormant_days`
  churned   anything older, or neither an order nor a registration date
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class SegmentThresholds:
    loyal_max_recency: int = 7  # R < this
    loyal_min_frequency: int = 5
    loyal_min_monetary: Decimal = Decimal(300)
    potential_max_recency: int = 30  # R < this
    potential_min_frequency: int = 2
    potential_max_frequency: int = 3
    dormant_min_recency: int = 90  # R > this
    dormant_frequency: int = 1
    dormant_max_monetary: Decimal = Decimal(100)  # M < this

    def __post_init__(self) -> None:
        for name, value in self.__dict__.items():
            if value < 0:
                raise ValueError(f"segment threshold {name} must not be negative, got {value}")
        if self.potential_min_frequency > self.potential_max_frequency:
            raise ValueError("potential_min_frequency is above potential_max_frequency")


@dataclass(frozen=True)
class LifecycleThresholds:
    new_days: int = 30  # registered less than this many days before D …
    new_max_orders: int = 1  # … with at most this many orders
    active_days: int = 30
    at_risk_days: int = 90
    dormant_days: int = 180

    def __post_init__(self) -> None:
        if not 0 <= self.active_days <= self.at_risk_days <= self.dormant_days:
            raise ValueError("lifecycle thresholds must satisfy 0 ≤ active ≤ at_risk ≤ dormant")


DEFAULT_SEGMENTS = SegmentThresholds()
DEFAULT_LIFECYCLE = LifecycleThresholds()
