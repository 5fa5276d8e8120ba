"""Lift against the holdout with a 95 % confidence interval, so a reader sees whether the
difference could be chance. Conversion counts are small and often near 0, so the interval of
each rate is Wilson's (never outside 0–1) and the interval of the relative lift is the Katz
log-ratio one; with no buyer in a group there is no finite ratio and no interval."""

from __future__ import annotations

import math

Z95 = 1.959963984540054


def wilson(converted: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of converted / n (None for an empty group)."""
    if n <= 0:
        return None
    p = converted / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def lift_interval(
    treated_converted: int, treated: int, holdout_converted: int, holdout: int, z: float = Z95
) -> tuple[float, float] | None:
    """The interval of (treated rate − holdout rate) / holdout rate: exp(log ratio ± z·se) − 1,
    se² = 1/a − 1/n₁ + 1/c − 1/n₂ (Katz). None when either group has no buyer."""
    if min(treated_converted, holdout_converted) <= 0 or min(treated, holdout) <= 0:
        return None
    ratio = (treated_converted / treated) / (holdout_converted / holdout)
    se = math.sqrt(1 / treated_converted - 1 / treated + 1 / holdout_converted - 1 / holdout)
    return math.exp(math.log(ratio) - z * se) - 1, math.exp(math.log(ratio) + z * se) - 1
