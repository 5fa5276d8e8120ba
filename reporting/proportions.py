"""Whether a variant's rate differs from the control's by more than chance: the difference of
two proportions with its 95 % interval (unpooled standard error: each group keeps its own
variance) and the two-sided z-test (pooled standard error: under "no difference" both groups
share one rate). Pure arithmetic, no scipy: the normal tail is math.erfc."""

from __future__ import annotations

import math
from typing import Any

from reporting.lift import Z95

ALPHA = 0.05


def two_sided_p(z: float) -> float:
    """P(|Z| ≥ |z|) for a standard normal Z."""
    return math.erfc(abs(z) / math.sqrt(2))


def compare(
    control_hits: int, control_n: int, hits: int, n: int, z95: float = Z95
) -> dict[str, Any] | None:
    """{difference, ci, z, p, significant} of hits/n − control_hits/control_n; None when a group
    is empty. With no spread at all (both rates 0 or both 1) there is no test: z and p None."""
    if control_n <= 0 or n <= 0:
        return None
    p0, p1 = control_hits / control_n, hits / n
    difference = p1 - p0
    unpooled = math.sqrt(p0 * (1 - p0) / control_n + p1 * (1 - p1) / n)
    pooled_rate = (control_hits + hits) / (control_n + n)
    pooled = math.sqrt(pooled_rate * (1 - pooled_rate) * (1 / control_n + 1 / n))
    z = difference / pooled if pooled else None
    p = None if z is None else two_sided_p(z)
    return {
        "difference": difference,
        "ci": [difference - z95 * unpooled, difference + z95 * unpooled],
        "z": z,
        "p": p,
        "significant": p is not None and p < ALPHA,
    }
