"""On PostgreSQL the refresh's aggregates run side by side on their own connections: same
profiles as one after another, on the refresh's snapshot, and no work table outlives it."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from models.tables import CustomerProfile, Order
from profiles import worktables
from profiles.refresh import refresh_profiles
from profiles.tags import COLUMNS as TAG_COLUMNS
from tests.profiles.dbutil import clear, postgres_engine
from tests.profiles.seed import D, customer
from tests.profiles.test_best_hour_and_tags import _seed as seed_activity
from tests.profiles.test_rfm import _base as seed_orders

FIELDS = (
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "lifecycle",
    "best_hour",
    "preferred_channel",
    *TAG_COLUMNS,
)


@pytest.fixture(scope="module")
def pg() -> Iterator[Engine]:
    with postgres_engine() as engine:
        yield engine


def _profiles(engine: Engine) -> dict[int, tuple[object, ...]]:
    with Session(engine) as s:
        return {
            p.customer_id: tuple(getattr(p, f) for f in FIELDS)
            for p in s.execute(select(CustomerProfile)).scalars()
        }


def _work_tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text("SELECT tablename FROM pg_tables WHERE tablename LIKE 'profile_work_%'")
            ).scalars()
        )


def _seeded(engine: Engine) -> None:
    clear(engine)
    with Session(engine) as s:
        seed_orders(s)
        seed_activity(s)
        s.commit()


def test_side_by_side_equals_one_after_another(pg: Engine, monkeypatch) -> None:
    _seeded(pg)
    threads: set[str] = set()
    fill = worktables._fill

    def spy(*args):
        threads.add(threading.current_thread().name)
        return fill(*args)

    monkeypatch.setattr(worktables, "_fill", spy)
    with Session(pg) as s:  # nothing written in this transaction: side by side
        refresh_profiles(s, D)
        s.commit()
    side_by_side = _profiles(pg)
    assert len(threads) == 2 and all(t.startswith("profile-stats") for t in threads)
    threads.clear()
    with Session(pg) as s:  # this transaction wrote first: the others could not see it
        s.execute(text("DELETE FROM customer_profiles"))
        refresh_profiles(s, D)
        s.commit()
    assert not threads
    assert _profiles(pg) == side_by_side
    assert side_by_side[1][:3] == (2, 5, 400)
    assert side_by_side[13][-5] == "age:65+" and side_by_side[13][-3] == "category:shoes"
    assert _work_tables(pg) == []


def test_aggregates_read_the_refresh_snapshot_not_later_commits(pg: Engine, monkeypatch) -> None:
    _seeded(pg)
    fill = worktables._fill

    def commit_an_order_first(*args):
        with Session(pg) as other:
            other.add(
                Order(
                    external_id=f"late-{uuid.uuid4().hex}",
                    customer_id=1,
                    ordered_at=D - timedelta(days=1),
                    amount=Decimal("999"),
                )
            )
            other.commit()
        return fill(*args)

    monkeypatch.setattr(worktables, "_fill", commit_an_order_first)
    with Session(pg) as s:
        refresh_profiles(s, D)
        s.commit()
    assert _profiles(pg)[1][:3] == (2, 5, 400)  # none of the three 999 orders counted
    with Session(pg) as s:
        late = s.execute(select(Order).where(Order.external_id.startswith("late-"))).all()
        assert len(late) == 3


def test_a_crashed_refresh_leaves_nothing_for_long(pg: Engine) -> None:
    _seeded(pg)
    with pg.begin() as conn:
        conn.execute(text("CREATE UNLOGGED TABLE profile_work_orders_crashed (x int)"))
    with Session(pg) as s:
        refresh_profiles(s, D)
        s.commit()
    assert _work_tables(pg) == []


def test_a_failing_aggregate_fails_the_refresh_and_writes_nothing(pg: Engine, monkeypatch) -> None:
    _seeded(pg)
    with Session(pg) as s:
        customer(s, 99)
        s.commit()

    def broken(db, table, as_of):
        db.execute(text("SELECT 1 / 0"))

    monkeypatch.setattr(worktables, "fill_channel_stats", broken)
    with Session(pg) as s, pytest.raises(Exception, match="division by zero"):
        refresh_profiles(s, D)
    assert _profiles(pg) == {}
    monkeypatch.undo()
    with Session(pg) as s:
        refresh_profiles(s, D)
        s.commit()
    assert _work_tables(pg) == []
