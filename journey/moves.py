"""Moving a set of customers to their next steps, in one transaction: the visit is counted,
a send step's sends are planned, a wait's due time is set, a branch is due at once.

The set is a work table (customer_id, target) filled by the caller, so every statement of the
move sees the same customers even while sends finish around it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Column,
    SQLColumnExpression,
    String,
    Table,
    and_,
    case,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from db.upsert import dialect_insert
from journey.waits import due_at
from models.journey import END
from models.journey_tables import JourneyPosition as JP
from models.journey_tables import JourneyVisit as JV
from models.spec import CampaignSpec
from models.tables import Customer, UtcDateTime
from planning.step_sends import assignment, has_step_send, plan_step_sends
from profiles.sqlutil import analyze, temp_table


@dataclass(frozen=True)
class Journey:
    """One campaign's journey as one advance sees it."""

    campaign_id: str
    spec: CampaignSpec
    now: datetime
    dialect: str
    winners: dict[str, str] = field(default_factory=dict)  # send step → winning variant


@contextmanager
def moving_table(session: Session) -> Iterator[Table]:
    with temp_table(
        session,
        "tmp_moving",
        Column("customer_id", BigInteger),
        Column("target", String(32)),
    ) as table:
        yield table


def fill(session: Session, moving: Table, rows: object) -> int:
    """Put the selected (customer_id, target) rows in the work table; returns how many."""
    result = session.execute(moving.insert().from_select(["customer_id", "target"], rows))  # type: ignore[arg-type]
    analyze(session, moving)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def move(session: Session, j: Journey, moving: Table) -> None:
    """Every customer in `moving` goes to `target` (NULL: their journey is done)."""
    targets = list(session.execute(select(moving.c.target).distinct()).scalars())
    for target in targets:
        ids = select(moving.c.customer_id).where(
            moving.c.target == target if target is not None else moving.c.target.is_(None)
        )
        mine = and_(JP.campaign_id == j.campaign_id, JP.customer_id.in_(ids))
        if target is None or target == END:
            session.execute(
                update(JP).where(mine).values(state="done", due_at=None),
                execution_options={"synchronize_session": False},
            )
            continue
        step = j.spec.step(target)
        due: ColumnElement[datetime]
        if step.send is not None:
            plan_step_sends(
                session, j.campaign_id, j.spec, step, ids, j.now, j.winners.get(step.id)
            )
            state, due = "sending", literal(None, UtcDateTime())
        elif step.wait is not None:
            zones = session.execute(
                select(Customer.timezone).distinct().where(Customer.id.in_(ids))
            ).scalars()
            state, due = "due", due_at(step.wait, j.now, zones)
        else:
            state, due = "due", literal(j.now, UtcDateTime())
        _visit(session, j, moving, target)
        session.execute(
            update(JP).where(mine).values(step=target, step_at=j.now, state=state, due_at=due),
            execution_options={"synchronize_session": False},
        )


def _visit(session: Session, j: Journey, moving: Table, target: str) -> None:
    """Count the visit; a send step notes the customer's variant, or `no_channel`."""
    step = j.spec.step(target)
    variant: SQLColumnExpression[str | None] = literal(None, String())
    outcome: SQLColumnExpression[str | None] = literal(None, String())
    if step.send is not None:
        # the variant is the hash's (as its send's); no send at the step: no channel reached
        # them. Both per row on the customer's key: no join over the campaign's sends.
        variant = assignment(j.campaign_id, step, moving.c.customer_id, j.winners.get(target))[0]
        sent_here = has_step_send(j.campaign_id, j.spec, step, moving.c.customer_id)
        outcome = case((~sent_here, "no_channel"), else_=None)
    rows = select(
        literal(j.campaign_id),
        literal(target),
        moving.c.customer_id,
        literal(j.now, UtcDateTime()),
        literal(1),
        variant,
        outcome,
    ).where(moving.c.target == target)
    stmt = dialect_insert(session, JV.__table__).from_select(
        ["campaign_id", "step", "customer_id", "entered_at", "visits", "variant", "outcome"], rows
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["campaign_id", "step", "customer_id"],
            set_={
                "visits": JV.__table__.c.visits + 1,
                "entered_at": stmt.excluded.entered_at,
                "variant": stmt.excluded.variant,
                "outcome": stmt.excluded.outcome,
            },
        )
    )
