"""One advance of a campaign's journey: every customer due at any step moves on, set-based, in
bounded batches, each batch its own transaction (a crash loses nothing: the next advance
finds the same customers still due).

In each round, step by step: a send step lets go of customers whose send is no longer open
(made, suppressed, failed — or never planned, no channel); a wait lets go of those due (or,
waiting for an event, those who did it); a branch sends each customer down its first case that
holds. Rounds repeat until nothing moves or the time bound is reached."""

from __future__ import annotations

import time
from datetime import datetime

from sqlalchemy import Engine, String, and_, case, exists, func, literal, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from db.engine import session_scope
from db.upsert import dialect_insert
from journey.conditions import condition, did_event, goal_reached
from journey.moves import Journey, fill, move, moving_table
from journey.winner import decide_winners
from models.contracts import JourneyProgress
from models.journey import Step
from models.journey_tables import JourneyPosition as JP
from models.journey_tables import JourneyVisit as JV
from models.tables import PlannedSend as PS
from observability.metrics import JOURNEY_ADVANCE_SECONDS, JOURNEY_MOVES

ACTIVE = ("due", "sending")
UNSENT = ("planned", "sending", "held")
BATCH = 50_000  # customers per move (one transaction)
MAX_SECONDS = 20.0  # per advance: the workflow calls again at once when there is more


def _leaving(j: Journey, step: Step) -> tuple[ColumnElement[bool], ColumnElement[str]]:
    """Which of the step's customers move on now, and where to."""
    here = and_(JP.campaign_id == j.campaign_id, JP.step == step.id)
    onward: ColumnElement[str] = literal(step.next, String())
    if step.send is not None:
        open_send = exists().where(
            PS.campaign_id == j.campaign_id,
            PS.customer_id == JP.customer_id,
            PS.step == step.id,
            PS.status.in_(UNSENT),
        )
        return and_(here, JP.state == "sending", ~open_send), onward
    due = and_(here, JP.state == "due")
    if step.wait is not None:
        if step.wait.event is not None:
            arrived = did_event(step.wait.event.event, JP.step_at, j.now)
            return and_(due, or_(JP.due_at <= j.now, arrived)), onward
        return and_(due, JP.due_at <= j.now), onward
    assert step.branch is not None
    window = j.spec.review.attribution_window
    cases = [
        (condition(c.if_, j.campaign_id, f"{step.id}:{i}", j.now, window, j.dialect), c.then)
        for i, c in enumerate(step.branch.when)
    ]
    return and_(due, JP.due_at <= j.now), case(*cases, else_=step.branch.else_)


def advance(engine: Engine, j: Journey) -> JourneyProgress:
    started = time.monotonic()
    with session_scope(engine) as session:
        winner_due = decide_winners(session, j)
    moved, more = 0, False
    exited = _exit_on_goal(engine, j) if j.spec.exit_when is not None else 0
    while True:
        this_round = 0
        for step in j.spec.steps or []:
            where, target = _leaving(j, step)
            with session_scope(engine) as session, moving_table(session) as moving:
                n = fill(
                    session,
                    moving,
                    select(JP.customer_id, target).where(where).limit(BATCH),
                )
                if n:
                    move(session, j, moving)
            this_round += n
        moved += this_round
        if not this_round:
            break
        if time.monotonic() - started > MAX_SECONDS:
            more = True
            break
    with session_scope(engine) as session:
        progress = where_they_are(session, j.campaign_id)
    JOURNEY_MOVES.inc(moved + exited)
    JOURNEY_ADVANCE_SECONDS.observe(time.monotonic() - started)
    progress.moved, progress.exited_now, progress.more = moved, exited, more
    dues = [d for d in (progress.next_due_at, winner_due) if d is not None]
    progress.next_due_at = min(dues) if dues else None
    return progress


def _exit_on_goal(engine: Engine, j: Journey) -> int:
    """Customers who reached the goal leave at whatever step they are; their unsent messages
    are cancelled (a send already with the provider is not called back)."""
    assert j.spec.exit_when is not None
    with session_scope(engine) as session, moving_table(session) as moving:
        n = fill(
            session,
            moving,
            select(JP.customer_id, JP.step).where(
                JP.campaign_id == j.campaign_id,
                JP.state.in_(ACTIVE),
                goal_reached(j.spec.exit_when, j.now),
            ),
        )
        if not n:
            return 0
        ids = select(moving.c.customer_id)
        session.execute(
            update(JV)
            .where(
                JV.campaign_id == j.campaign_id,
                exists().where(moving.c.customer_id == JV.customer_id, moving.c.target == JV.step),
            )
            .values(outcome="exited"),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            update(PS)
            .where(
                PS.campaign_id == j.campaign_id,
                PS.status.in_(("planned", "held")),
                PS.customer_id.in_(ids),
            )
            .values(status="cancelled", reason="goal_reached"),
            execution_options={"synchronize_session": False},
        )
        session.execute(
            update(JP)
            .where(JP.campaign_id == j.campaign_id, JP.customer_id.in_(ids))
            .values(state="exited", due_at=None),
            execution_options={"synchronize_session": False},
        )
    return n


def where_they_are(session: Session, campaign_id: str) -> JourneyProgress:
    """Customers per step (still in the journey) and per end state, and the next due time."""
    rows = session.execute(
        select(JP.step, JP.state, func.count(), func.min(JP.due_at))
        .where(JP.campaign_id == campaign_id)
        .group_by(JP.step, JP.state)
    ).all()
    progress = JourneyProgress()
    dues: list[datetime] = []
    for step, state, n, due in rows:
        if state in ACTIVE:
            progress.by_step[step] = progress.by_step.get(step, 0) + n
            progress.active += n
            if state == "due" and due is not None:
                dues.append(due)
        else:
            progress.ended[state] = progress.ended.get(state, 0) + n
    progress.next_due_at = min(dues) if dues else None
    return progress


def enter(session: Session, j: Journey) -> None:
    """Everyone with a first-step send planned enters the journey there (again: no change)."""
    first = (j.spec.steps or [])[0]
    mine = and_(PS.campaign_id == j.campaign_id, PS.step == first.id)
    session.execute(
        dialect_insert(session, JP.__table__)
        .from_select(
            ["campaign_id", "customer_id", "step", "state", "entered_at", "step_at"],
            select(
                literal(j.campaign_id),
                PS.customer_id,
                literal(first.id),
                literal("sending"),
                literal(j.now, JP.__table__.c.entered_at.type),
                literal(j.now, JP.__table__.c.step_at.type),
            ).where(mine),
        )
        .on_conflict_do_nothing()
    )
    session.execute(
        dialect_insert(session, JV.__table__)
        .from_select(
            ["campaign_id", "step", "customer_id", "entered_at", "visits", "variant"],
            select(
                literal(j.campaign_id),
                literal(first.id),
                PS.customer_id,
                literal(j.now, JV.__table__.c.entered_at.type),
                literal(1),
                PS.variant,
            ).where(mine),
        )
        .on_conflict_do_nothing()
    )


def stop(session: Session, campaign_id: str, state: str) -> int:
    """A cancelled or failed campaign: every customer still in the journey ends there."""
    result = session.execute(
        update(JP)
        .where(JP.campaign_id == campaign_id, JP.state.in_(ACTIVE))
        .values(state=state, due_at=None),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
