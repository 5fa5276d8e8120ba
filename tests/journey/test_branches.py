"""Branch steps: engagement with an earlier send (events, conversion in the attribution
window), an audience filter, a random split."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from audience.holdout import bucket, threshold
from engagement.events import EventType
from tests.journey.harness import T0, launch, mark, message_events, people, positions, step_on
from tests.profiles.seed import order, tag

ENDS = ("a", "b", "c", "d", "e")


def _branching(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send, wait a day, then the cases to the ends a, b, … in order; the rest to the last."""
    return [
        {"id": "first", "send": {}, "next": "pause"},
        {"id": "pause", "wait": "1d", "next": "check"},
        {
            "id": "check",
            "branch": {
                "when": [{"if": c, "then": end} for c, end in zip(cases, ENDS, strict=False)],
                "else": ENDS[len(cases)],
            },
        },
        *({"id": end, "wait": "1h"} for end in ENDS[: len(cases) + 1]),
    ]


def _ends(engine: Engine, campaign_id: str) -> dict[int, str]:
    return {c: p[0] for c, p in positions(engine, campaign_id).items()}


def test_engaged_branches_on_the_step_message_events(engine: Engine, session: Session) -> None:
    people(session, range(1, 7))
    kinds = ("delivered", "opened", "clicked", "replied")
    j = launch(
        session,
        "b1",
        _branching([{"engaged": {"step": "first", "did": k}} for k in kinds]),
    )
    ids = mark(engine, "b1", "first")
    for cid, kind in zip((1, 2, 3, 4), kinds, strict=True):
        message_events(engine, "b1", [(ids[cid], cid)], EventType(kind), T0 + timedelta(hours=1))
    message_events(engine, "b1", [(None, 5)], EventType.CLICKED, T0)  # not about this send
    step_on(engine, j, T0)
    step_on(engine, j, T0 + timedelta(days=1) - timedelta(seconds=1))
    assert set(_ends(engine, "b1").values()) == {"pause"}
    step_on(engine, j, T0 + timedelta(days=1))
    assert _ends(engine, "b1") == {1: "a", 2: "b", 3: "c", 4: "d", 5: "e", 6: "e"}
    assert positions(engine, "b1")[1] == ("a", "due", T0 + timedelta(days=1, hours=1))


def test_converted_counts_orders_within_the_attribution_window(
    engine: Engine, session: Session
) -> None:
    people(session, range(1, 6))
    j = launch(
        session,
        "b2",
        _branching([{"engaged": {"step": "first", "did": "converted"}}]),
        review={"attribution_window": "1h"},
    )
    mark(engine, "b2", "first", customers=[1, 2, 3, 4], delivered_at=T0)
    mark(engine, "b2", "first", customers=[5])  # made, but no delivery row
    order(session, 1, 0, "10", at=T0 + timedelta(minutes=30))
    order(session, 2, 0, "10", at=T0 + timedelta(hours=2))  # after the window
    order(session, 3, 0, "10", at=T0 - timedelta(minutes=1))  # before the message
    order(session, 5, 0, "10", at=T0 + timedelta(minutes=30))
    session.commit()
    step_on(engine, j, T0)
    step_on(engine, j, T0 + timedelta(days=1))
    assert _ends(engine, "b2") == {1: "a", 2: "b", 3: "b", 4: "b", 5: "b"}


def test_filter_branch_on_tag_then_profile(engine: Engine, session: Session) -> None:
    people(session, [1, 2], city="上海")
    people(session, [3, 4], city="北京")
    tag(session, 1, "vip")
    tag(session, 3, "vip")
    session.commit()
    j = launch(
        session,
        "b3",
        _branching(
            [
                {"filter": {"tag": ["vip"]}},
                {"filter": {"profile": {"field": "city", "op": "eq", "value": "上海"}}},
            ]
        ),
    )
    mark(engine, "b3", "first")
    step_on(engine, j, T0)
    step_on(engine, j, T0 + timedelta(days=1))
    assert _ends(engine, "b3") == {1: "a", 2: "b", 3: "a", 4: "c"}


def test_random_split_share_and_determinism(engine: Engine, session: Session) -> None:
    ids = range(1, 2001)
    people(session, ids)
    j = launch(session, "b4", _branching([{"random": 30}]))
    mark(engine, "b4", "first")
    step_on(engine, j, T0)
    step_on(engine, j, T0 + timedelta(days=1))
    taken = {c for c, end in _ends(engine, "b4").items() if end == "a"}
    assert 0.27 < len(taken) / 2000 < 0.33
    # the split is the campaign's hash of the customer and the case: the same on every run
    # and backend
    assert taken == {c for c in ids if bucket(c, "b4:check:0") < threshold(30)}
