"""RFM, scores with ties, segments and lifecycle on a hand-computed data set."""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import CustomerProfile
from profiles.freshness import last_refresh
from profiles.refresh import refresh_profiles
from profiles.thresholds import SegmentThresholds
from tests.profiles.dbutil import clear
from tests.profiles.seed import D, customer, order


def _base(session: Session) -> None:
    customer(session, 1)
    for days, amount in ((2, "100"), (10, "100"), (20, "100"), (40, "50"), (60, "50")):
        order(session, 1, days, amount)
    customer(session, 2, registered_days=300)
    order(session, 2, 5.5, "50")  # 5.5 days → R = 5 whole days
    order(session, 2, 15, "30")
    customer(session, 3)
    order(session, 3, 100, "50")
    customer(session, 4)
    order(session, 4, 100, "150")
    customer(session, 5, registered_days=10)  # no orders, recent registration
    customer(session, 6, registered_days=5)
    order(session, 6, 0, "10")  # exactly at D: counts
    order(session, 6, -1, "999")  # after D: ignored
    customer(session, 7, registered_days=200)  # no orders, long ago
    customer(session, 8, registered_days=None)  # no orders, unknown registration
    customer(session, 9)
    order(session, 9, 50, "120")
    order(session, 9, 50.2, "120")
    session.flush()


def _profiles(session: Session) -> dict[int, CustomerProfile]:
    return {p.customer_id: p for p in session.execute(select(CustomerProfile)).scalars()}


def test_rfm_values_scores_segments_and_lifecycle(session: Session) -> None:
    _base(session)
    assert refresh_profiles(session, D) == 9
    p = _profiles(session)
    rfm = {cid: (x.recency_days, x.frequency, x.monetary) for cid, x in p.items()}
    assert rfm == {
        1: (2, 5, Decimal("400.00")),
        2: (5, 2, Decimal("80.00")),
        3: (100, 1, Decimal("50.00")),
        4: (100, 1, Decimal("150.00")),
        5: (None, 0, Decimal("0.00")),
        6: (0, 1, Decimal("10.00")),
        7: (None, 0, Decimal("0.00")),
        8: (None, 0, Decimal("0.00")),
        9: (50, 2, Decimal("240.00")),
    }
    # Six customers with orders → NTILE(5) buckets of 2,1,1,1,1.
    # R worst→best: 3(100) 4(100) | 9(50) | 2(5) | 1(2) | 6(0): tie 3,4 → both 1.
    # F: 3,4,6 (1) | 2,9 (2) | 1 (5): tiles 1,1,2,3,4,5 → F=1 group min 1, F=2 group min 3.
    # M: 6(10) 3(50) | 2(80) | 4(150) | 9(240) | 1(400).
    scores = {cid: (x.r_score, x.f_score, x.m_score) for cid, x in p.items()}
    assert scores == {
        1: (4, 5, 5),
        2: (3, 3, 2),
        3: (1, 1, 1),
        4: (1, 1, 3),
        6: (5, 1, 1),
        9: (2, 3, 4),
        5: (None,) * 3,
        7: (None,) * 3,
        8: (None,) * 3,
    }
    segments = {cid: x.segment for cid, x in p.items()}
    assert segments == {
        1: "loyal",
        2: "potential",
        3: "dormant",
        4: "regular",
        5: "none",
        6: "regular",
        7: "none",
        8: "none",
        9: "regular",
    }
    stages = {cid: x.lifecycle for cid, x in p.items()}
    assert stages == {
        1: "active",
        2: "active",
        3: "dormant",
        4: "dormant",
        5: "new",
        6: "new",
        7: "churned",
        8: "churned",
        9: "at_risk",
    }
    assert last_refresh(session) == D


def test_window_and_custom_thresholds(session: Session) -> None:
    _base(session)
    refresh_profiles(session, D, window_days=30)
    p = _profiles(session)
    assert (p[1].recency_days, p[1].frequency, p[1].monetary) == (2, 3, Decimal("300.00"))
    assert p[1].segment == "potential"
    assert p[3].recency_days is None and p[3].segment == "none"
    strict = SegmentThresholds(
        loyal_min_frequency=6, potential_max_frequency=1, potential_min_frequency=1
    )
    refresh_profiles(session, D, thresholds=strict)
    p = _profiles(session)
    assert p[1].segment == "regular" and p[2].segment == "regular" and p[6].segment == "potential"


def test_refresh_is_repeatable_and_moves_with_as_of(session: Session) -> None:
    _base(session)
    assert refresh_profiles(session, D) == 9  # every profile is new
    first = {cid: (x.recency_days, x.r_score, x.segment) for cid, x in _profiles(session).items()}
    assert refresh_profiles(session, D) == 0  # nothing moved: no row rewritten
    again = {cid: (x.recency_days, x.r_score, x.segment) for cid, x in _profiles(session).items()}
    assert first == again
    assert refresh_profiles(session, D + timedelta(days=10)) == 6  # the six buyers: R moved
    later = _profiles(session)
    assert (later[1].recency_days, later[1].segment) == (12, "regular")
    assert later[6].recency_days == 9 and later[6].frequency == 2  # the D+1 order now counts


def _ntile_scores(values: dict[int, int], descending: bool = False) -> dict[int, int]:
    """The definition, row by row: NTILE(5) in (value, id) order, then each tie group takes
    the lowest bucket any of its members got."""
    order_ = sorted(values, key=lambda cid: (-values[cid] if descending else values[cid], cid))
    n = len(order_)
    q, rem = divmod(n, 5)
    tile, bucket, filled = {}, 1, 0
    for cid in order_:
        size = q + 1 if bucket <= rem else q
        if filled == size:
            bucket, filled = bucket + 1, 0
        tile[cid] = bucket
        filled += 1
    lowest: dict[int, int] = {}
    for cid in order_:
        lowest.setdefault(values[cid], tile[cid])
    return {cid: lowest[values[cid]] for cid in values}


def test_scores_match_ntile_with_ties_for_every_base_size(session: Session) -> None:
    """Bases of 1 to 13 buyers, values with many ties: every score equals the definition."""
    rnd = random.Random(7)
    for size in range(1, 14):
        session.commit()
        clear(session.get_bind().engine)
        session.expunge_all()
        orders: dict[int, int] = {}
        for cid in range(1, size + 1):
            customer(session, cid)
            orders[cid] = rnd.choice((1, 1, 2, 3, 3, 4))
            for n in range(orders[cid]):
                order(session, cid, rnd.choice((3, 3, 40, 200)) + n / 10, "10")
        session.commit()
        refresh_profiles(session, D)
        got = _profiles(session)
        recency = {cid: p.recency_days for cid, p in got.items() if p.recency_days is not None}
        assert len(recency) == len(got), size
        assert {cid: p.f_score for cid, p in got.items()} == _ntile_scores(orders), size
        assert {cid: p.m_score for cid, p in got.items()} == _ntile_scores(orders), size
        assert {cid: p.r_score for cid, p in got.items()} == _ntile_scores(
            recency, descending=True
        ), size
