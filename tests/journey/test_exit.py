"""The exit goal takes a customer out at whatever step they are, and calls back what was not
yet sent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.journey.harness import T0, launch, mark, people, positions, sends, step_on, visits
from tests.profiles.seed import event, order

AB_FIRST: dict[str, Any] = {
    "variants": [{"id": "A", "body": "a"}, {"id": "B", "body": "b"}],
    "pick_winner": {"after": "2d", "metric": "click", "test_percent": 50},
}
STEPS: list[dict[str, Any]] = [
    {"id": "first", "send": AB_FIRST, "next": "pause"},
    {"id": "pause", "wait": "2d", "next": "remind"},
    {"id": "remind", "send": {"body": "again"}},
]
PLAIN = [STEPS[0] | {"send": {}}, *STEPS[1:]]


def test_an_order_after_entry_exits_at_any_step(engine: Engine, session: Session) -> None:
    people(session, range(1, 41))
    j = launch(session, "x1", STEPS, exit_when={"order": {}})
    status = {c: s["status"] for (c, _), s in sends(engine, "x1").items()}
    tested = sorted(c for c, s in status.items() if s == "planned")
    held = sorted(c for c, s in status.items() if s == "held")
    assert len(tested) >= 4 and held
    at_wait, bought_before, in_flight, unsent = tested[:4]
    mark(engine, "x1", "first", customers=[at_wait, bought_before])
    mark(engine, "x1", "first", "sending", customers=[in_flight])
    step_on(engine, j, T0 + timedelta(hours=1))
    assert positions(engine, "x1")[at_wait][:2] == ("pause", "due")
    for cid in (at_wait, in_flight, unsent, held[0]):
        order(session, cid, 0, "20", at=T0 + timedelta(hours=2))
    order(session, bought_before, 0, "20", at=T0 - timedelta(days=1))
    session.commit()
    progress = step_on(engine, j, T0 + timedelta(hours=3))
    assert progress.exited_now == 4 and progress.ended == {"exited": 4}
    where = positions(engine, "x1")
    assert where[at_wait] == ("pause", "exited", None)
    for cid in (in_flight, unsent, held[0]):
        assert where[cid] == ("first", "exited", None)
    assert where[bought_before] == ("pause", "due", T0 + timedelta(days=2, hours=1))
    seen = visits(engine, "x1")
    assert seen[(at_wait, "pause")][2] == "exited" and seen[(at_wait, "first")][2] is None
    assert seen[(in_flight, "first")][2] == "exited"
    assert seen[(bought_before, "pause")][2] is None
    after = sends(engine, "x1")
    assert after[(at_wait, "first")]["status"] == "sent"
    assert after[(in_flight, "first")]["status"] == "sending"  # with the provider already
    assert after[(in_flight, "first")]["reason"] is None
    for cid in (unsent, held[0]):
        assert (after[(cid, "first")]["status"], after[(cid, "first")]["reason"]) == (
            "cancelled",
            "goal_reached",
        )
    # later advances (the A/B winner, the wait's end) leave the exited alone
    step_on(engine, j, T0 + timedelta(days=3))
    later = positions(engine, "x1")
    assert later[bought_before][0] == "remind"
    assert {c: later[c] for c in (at_wait, in_flight, unsent)} == {
        c: where[c] for c in (at_wait, in_flight, unsent)
    }
    assert sends(engine, "x1")[(held[0], "first")]["status"] == "cancelled"
    assert (at_wait, "remind") not in sends(engine, "x1")


def test_an_event_goal(engine: Engine, session: Session) -> None:
    people(session, [1, 2, 3])
    j = launch(session, "x2", PLAIN, exit_when={"event": "add_to_cart"})
    event(session, 1, "add_to_cart", T0 + timedelta(minutes=5))
    event(session, 2, "add_to_cart", T0 - timedelta(minutes=5))
    event(session, 3, "browse", T0 + timedelta(minutes=5))
    session.commit()
    progress = step_on(engine, j, T0 + timedelta(hours=1))
    assert progress.exited_now == 1
    assert positions(engine, "x2") == {
        1: ("first", "exited", None),
        2: ("first", "sending", None),
        3: ("first", "sending", None),
    }
    assert sends(engine, "x2")[(1, "first")]["reason"] == "goal_reached"
    assert visits(engine, "x2")[(1, "first")] == (1, None, "exited")


def test_an_order_goal_of_a_category_and_amount(engine: Engine, session: Session) -> None:
    people(session, [1, 2, 3])
    j = launch(
        session,
        "x3",
        PLAIN,
        exit_when={"order": {"category": "shoes", "min_amount": "100"}},
    )
    order(session, 1, 0, "150", "shoes", at=T0 + timedelta(minutes=5))
    order(session, 2, 0, "50", "shoes", at=T0 + timedelta(minutes=5))
    order(session, 3, 0, "200", "bags", at=T0 + timedelta(minutes=5))
    session.commit()
    step_on(engine, j, T0 + timedelta(hours=1))
    assert {c: p[1] for c, p in positions(engine, "x3").items()} == {
        1: "exited",
        2: "sending",
        3: "sending",
    }
