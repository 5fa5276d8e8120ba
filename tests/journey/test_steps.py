"""Moving through send steps: no reachable channel, loops back to a send already made, advances
that repeat, and a journey stopped or its sends closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from engagement.events import EventType
from journey.advance import enter, stop
from sending.close import close_open
from tests.journey.harness import (
    EMAIL,
    SMS,
    T0,
    launch,
    mark,
    message_events,
    people,
    positions,
    sends,
    step_on,
    visits,
)
from tests.profiles.seed import consent


def test_no_reachable_channel_is_noted_and_the_customer_moves_on(
    engine: Engine, session: Session
) -> None:
    people(session, [1], email=True)
    people(session, [2])
    steps: list[dict[str, Any]] = [
        {"id": "first", "send": {"channels": ["sms"]}, "next": "pause"},
        {"id": "pause", "wait": "1h", "next": "mail"},
        {"id": "mail", "send": {"channels": ["email"]}, "next": "after"},
        {"id": "after", "wait": "1d"},
    ]
    j = launch(session, "s1", steps, channels=[SMS, EMAIL])
    assert {k: s["channel"] for k, s in sends(engine, "s1").items()} == {
        (1, "first"): "sms",
        (2, "first"): "sms",
    }
    mark(engine, "s1", "first")
    step_on(engine, j, T0)
    reached = T0 + timedelta(hours=1)
    step_on(engine, j, reached)
    assert positions(engine, "s1") == {
        1: ("mail", "sending", None),
        2: ("after", "due", reached + timedelta(days=1)),
    }
    seen = visits(engine, "s1")
    assert seen[(1, "mail")] == (1, None, None)
    assert seen[(2, "mail")] == (1, None, "no_channel")
    assert (2, "mail") not in sends(engine, "s1")
    assert sends(engine, "s1")[(1, "mail")]["channel"] == "email"


LOOP: list[dict[str, Any]] = [
    {"id": "first", "send": {}, "next": "pause"},
    {"id": "pause", "wait": "1d", "next": "check"},
    {
        "id": "check",
        "branch": {
            "when": [{"if": {"engaged": {"step": "first", "did": "clicked"}}, "then": "thanks"}],
            "else": "first",
        },
    },
    {"id": "thanks", "wait": "1h"},
]


def test_a_loop_back_counts_visits_and_never_sends_twice(engine: Engine, session: Session) -> None:
    people(session, [1, 2])
    j = launch(session, "s2", LOOP)
    ids = mark(engine, "s2", "first")
    step_on(engine, j, T0)
    made = sends(engine, "s2")
    step_on(engine, j, T0 + timedelta(days=1))
    assert positions(engine, "s2") == {c: ("pause", "due", T0 + timedelta(days=2)) for c in (1, 2)}
    assert sends(engine, "s2") == made  # the step's send was made once; the loop adds none
    seen = visits(engine, "s2")
    assert {s: seen[(1, s)][0] for s in ("first", "pause", "check")} == {
        "first": 2,
        "pause": 2,
        "check": 1,
    }
    message_events(engine, "s2", [(ids[1], 1)], EventType.CLICKED, T0 + timedelta(days=1, hours=1))
    step_on(engine, j, T0 + timedelta(days=2))
    assert positions(engine, "s2") == {
        1: ("thanks", "due", T0 + timedelta(days=2, hours=1)),
        2: ("pause", "due", T0 + timedelta(days=3)),
    }
    seen = visits(engine, "s2")
    assert seen[(2, "first")][0] == 3 and seen[(2, "check")][0] == 2
    assert seen[(1, "first")][0] == 2 and seen[(1, "thanks")][0] == 1
    assert sends(engine, "s2") == made


def _state(engine: Engine, campaign_id: str) -> tuple[object, ...]:
    return positions(engine, campaign_id), visits(engine, campaign_id), sends(engine, campaign_id)


def test_advance_and_enter_repeat_without_change(engine: Engine, session: Session) -> None:
    people(session, range(1, 51))
    steps: list[dict[str, Any]] = [
        {"id": "first", "send": {}, "next": "pause"},
        {"id": "pause", "wait": "1h", "next": "check"},
        {
            "id": "check",
            "branch": {"when": [{"if": {"random": 50}, "then": "more"}], "else": "last"},
        },
        {"id": "more", "send": {"body": "more"}},
        {"id": "last", "wait": "1d"},
    ]
    j = launch(session, "s3", steps)
    mark(engine, "s3", "first", customers=range(1, 41))
    step_on(engine, j, T0)
    now = T0 + timedelta(hours=1)
    first = step_on(engine, j, now)
    assert first.moved > 0 and set(first.by_step) == {"first", "more", "last"}
    before = _state(engine, "s3")
    again = step_on(engine, j, now)
    assert again.moved == 0 and again.by_step == first.by_step
    assert _state(engine, "s3") == before
    enter(session, j)
    session.commit()
    assert _state(engine, "s3") == before


def test_stop_ends_whoever_is_still_in_the_journey(engine: Engine, session: Session) -> None:
    people(session, [1, 2, 3])
    steps: list[dict[str, Any]] = [
        {"id": "first", "send": {}, "next": "pause"},
        {"id": "pause", "wait": "1d"},
    ]
    j = launch(session, "s4", steps)
    mark(engine, "s4", "first", customers=[1, 2])
    step_on(engine, j, T0)
    step_on(engine, j, T0 + timedelta(days=1))
    assert {c: p[:2] for c, p in positions(engine, "s4").items()} == {
        1: ("pause", "done"),
        2: ("pause", "done"),
        3: ("first", "sending"),
    }
    assert stop(session, "s4", "cancelled") == 1
    session.commit()
    assert positions(engine, "s4")[3] == ("first", "cancelled", None)
    mark(engine, "s4", "first")
    progress = step_on(engine, j, T0 + timedelta(days=2))
    assert progress.moved == 0 and progress.active == 0
    assert progress.ended == {"done": 2, "cancelled": 1}


def test_closing_a_campaign_closes_the_sends_held_for_a_winner(
    engine: Engine, session: Session
) -> None:
    people(session, range(1, 41))
    first = {
        "variants": [{"id": "A", "body": "a"}, {"id": "B", "body": "b"}],
        "pick_winner": {"after": "1d", "metric": "click", "test_percent": 50},
    }
    launch(session, "s5", [{"id": "first", "send": first}])
    status = {c: s["status"] for (c, _), s in sends(engine, "s5").items()}
    tested = sorted(c for c, s in status.items() if s == "planned")
    mark(engine, "s5", "first", customers=tested[:2])
    mark(engine, "s5", "first", "sending", customers=tested[2:3])
    closed = close_open(session, "s5", "cancelled", "campaign_cancelled", datetime.now(UTC))
    session.commit()
    assert closed == 40 - 2
    after = {c: (s["status"], s["reason"]) for (c, _), s in sends(engine, "s5").items()}
    assert after == {
        c: ("sent", None) if c in tested[:2] else ("cancelled", "campaign_cancelled")
        for c in range(1, 41)
    }


def test_a_loop_back_after_the_channel_changed_does_not_send_again(
    engine: Engine, session: Session
) -> None:
    people(session, [1, 2], email=True)
    j = launch(session, "s6", LOOP, channels=[SMS, EMAIL])
    made = sends(engine, "s6")
    used = made[(1, "first")]["channel"]
    mark(engine, "s6", "first")
    step_on(engine, j, T0)
    consent(session, 1, used, granted=False, at=T0 + timedelta(hours=1))
    session.commit()
    step_on(engine, j, T0 + timedelta(days=1))
    assert positions(engine, "s6") == {c: ("pause", "due", T0 + timedelta(days=2)) for c in (1, 2)}
    assert set(sends(engine, "s6")) == set(made)
    assert visits(engine, "s6")[(1, "first")] == (2, None, None)
