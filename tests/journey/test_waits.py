"""Wait steps: a duration, a local time of day per customer time zone, an event or its timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from models.tables import Customer
from tests.journey.harness import T0, launch, mark, people, positions, step_on, visits
from tests.profiles.seed import event, order


def _then(wait: object) -> list[dict[str, object]]:
    return [
        {"id": "first", "send": {}, "next": "pause"},
        {"id": "pause", "wait": wait, "next": "last"},
        {"id": "last", "send": {"body": "again"}},
    ]


def test_duration_wait_moves_at_its_end(engine: Engine, session: Session) -> None:
    people(session, [1, 2])
    j = launch(session, "w1", _then("2d"))
    assert positions(engine, "w1") == {c: ("first", "sending", None) for c in (1, 2)}
    mark(engine, "w1", "first", customers=[1])
    reached = T0 + timedelta(hours=1)
    step_on(engine, j, reached)
    assert positions(engine, "w1") == {
        1: ("pause", "due", reached + timedelta(days=2)),
        2: ("first", "sending", None),
    }
    step_on(engine, j, reached + timedelta(days=2) - timedelta(seconds=1))
    assert positions(engine, "w1")[1] == ("pause", "due", reached + timedelta(days=2))
    progress = step_on(engine, j, reached + timedelta(days=2))
    assert positions(engine, "w1")[1] == ("last", "sending", None)
    assert progress.by_step == {"first": 1, "last": 1}
    assert visits(engine, "w1")[(1, "pause")] == (1, None, None)


def test_time_of_day_wait_in_each_customer_zone(engine: Engine, session: Session) -> None:
    people(session, [1], tz="Asia/Shanghai")
    people(session, [2], tz="America/New_York")
    people(session, [3], tz="Europe/London")
    people(session, [4])
    j = launch(session, "w2", _then("10:00"))
    # the planner drops a zone that does not exist; one can still come in with a later import
    session.execute(update(Customer).where(Customer.id == 4).values(timezone="Mars/Olympus_Mons"))
    session.commit()
    mark(engine, "w2", "first")
    # Saturday 20:00 UTC: New York moves its clocks forward the next morning, London does not
    # until the 29th, Shanghai keeps no daylight saving time.
    now = datetime(2026, 3, 7, 20, 0, tzinfo=UTC)
    progress = step_on(engine, j, now)
    shanghai = datetime(2026, 3, 8, 2, 0, tzinfo=UTC)
    assert positions(engine, "w2") == {
        1: ("pause", "due", shanghai),
        2: ("pause", "due", datetime(2026, 3, 8, 14, 0, tzinfo=UTC)),  # 10:00 EDT
        3: ("pause", "due", datetime(2026, 3, 8, 10, 0, tzinfo=UTC)),  # 10:00 GMT
        4: ("pause", "due", shanghai),  # an unknown zone reads as Asia/Shanghai
    }
    assert progress.next_due_at == shanghai
    step_on(engine, j, shanghai)
    assert {c: p[0] for c, p in positions(engine, "w2").items()} == {
        1: "last",
        2: "pause",
        3: "pause",
        4: "last",
    }


def test_time_of_day_already_past_today_waits_for_tomorrow(
    engine: Engine, session: Session
) -> None:
    people(session, [1], tz="Asia/Shanghai")
    j = launch(session, "w3", _then("10:00"))
    mark(engine, "w3", "first")
    step_on(engine, j, datetime(2026, 3, 7, 2, 0, tzinfo=UTC))  # exactly 10:00 in Shanghai
    assert positions(engine, "w3")[1] == (
        "pause",
        "due",
        datetime(2026, 3, 8, 2, 0, tzinfo=UTC),
    )


def test_event_wait_moves_early_on_the_event_or_at_the_timeout(
    engine: Engine, session: Session
) -> None:
    people(session, [1, 2, 3])
    j = launch(session, "w4", _then({"event": "add_to_cart", "timeout": "3d"}))
    mark(engine, "w4", "first")
    reached = T0 + timedelta(hours=1)
    event(session, 3, "add_to_cart", T0)  # before the wait began: does not count
    session.commit()
    step_on(engine, j, reached)
    timeout = reached + timedelta(days=3)
    assert positions(engine, "w4") == {c: ("pause", "due", timeout) for c in (1, 2, 3)}
    event(session, 1, "add_to_cart", reached + timedelta(hours=5))
    event(session, 2, "browse", reached + timedelta(hours=5))  # another event
    session.commit()
    step_on(engine, j, reached + timedelta(days=1))
    assert positions(engine, "w4") == {
        1: ("last", "sending", None),
        2: ("pause", "due", timeout),
        3: ("pause", "due", timeout),
    }
    step_on(engine, j, timeout)
    assert {c: p[0] for c, p in positions(engine, "w4").items()} == {
        1: "last",
        2: "last",
        3: "last",
    }


def test_an_event_after_now_does_not_move_a_customer_yet(engine: Engine, session: Session) -> None:
    people(session, [1])
    j = launch(session, "w5", _then({"event": "add_to_cart", "timeout": "3d"}))
    mark(engine, "w5", "first")
    step_on(engine, j, T0)
    event(session, 1, "add_to_cart", T0 + timedelta(days=2))
    session.commit()
    step_on(engine, j, T0 + timedelta(days=1))
    assert positions(engine, "w5")[1][0] == "pause"
    step_on(engine, j, T0 + timedelta(days=2))
    assert positions(engine, "w5")[1][0] == "last"


def test_order_wait_is_met_by_an_orders_row(engine: Engine, session: Session) -> None:
    people(session, [1, 2])
    j = launch(session, "w6", _then({"event": "order", "timeout": "3d"}))
    mark(engine, "w6", "first")
    step_on(engine, j, T0)
    order(session, 1, 0, "88", at=T0 + timedelta(hours=3))
    session.commit()
    step_on(engine, j, T0 + timedelta(hours=4))
    assert positions(engine, "w6") == {
        1: ("last", "sending", None),
        2: ("pause", "due", T0 + timedelta(days=3)),
    }
