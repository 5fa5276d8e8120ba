"""The A/B comparison's arithmetic against a worked example done by hand.

Control 40/400 (10 %), variant 60/400 (15 %): difference 0.05.
Interval, unpooled: se = √(0.10·0.90/400 + 0.15·0.85/400) = √0.00054375 = 0.0233184;
0.05 ± 1.959964 · 0.0233184 = 0.004297 … 0.095703.
Test, pooled: p = 100/800 = 0.125; se = √(0.125·0.875·(1/400 + 1/400)) = 0.0233854;
z = 0.05 / 0.0233854 = 2.13809; two-sided p = 2·(1 − Φ(2.13809)) = 0.032509 < 0.05.
"""

from __future__ import annotations

import pytest

from reporting.proportions import compare, two_sided_p


def test_the_worked_example() -> None:
    got = compare(40, 400, 60, 400)
    assert got is not None
    assert got["difference"] == pytest.approx(0.05)
    assert got["ci"] == pytest.approx([0.004297, 0.095703], abs=1e-6)
    assert got["z"] == pytest.approx(2.13809, abs=1e-5)
    assert got["p"] == pytest.approx(0.032509, abs=1e-6)
    assert got["significant"] is True


def test_a_small_difference_is_not_significant_and_its_interval_spans_zero() -> None:
    # 10/190 against 12/200: +0.74 pp, z 0.3153, p 0.7526
    got = compare(10, 190, 12, 200)
    assert got is not None
    assert got["ci"][0] < 0 < got["ci"][1]
    assert got["z"] == pytest.approx(0.315256, abs=1e-6)
    assert got["p"] == pytest.approx(0.752567, abs=1e-6)
    assert got["significant"] is False


def test_swapping_the_groups_mirrors_the_result() -> None:
    there, back = compare(40, 400, 60, 400), compare(60, 400, 40, 400)
    assert there is not None and back is not None
    assert back["difference"] == pytest.approx(-there["difference"])
    assert back["ci"] == pytest.approx([-there["ci"][1], -there["ci"][0]])
    assert back["p"] == pytest.approx(there["p"])


def test_the_normal_tail_at_known_points() -> None:
    assert two_sided_p(1.959963984540054) == pytest.approx(0.05, abs=1e-12)
    assert two_sided_p(0) == 1.0
    assert two_sided_p(-2.575829) == pytest.approx(0.01, abs=1e-6)


def test_an_empty_group_or_no_spread_gives_no_test() -> None:
    assert compare(0, 0, 3, 10) is None and compare(3, 10, 0, 0) is None
    flat = compare(0, 50, 0, 60)
    assert flat == {
        "difference": 0.0,
        "ci": [0.0, 0.0],
        "z": None,
        "p": None,
        "significant": False,
    }
