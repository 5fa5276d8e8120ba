"""Each scheduled time of a series, decided in the database (PostgreSQL, and SQLite as `make
demo` runs it): once per time, only for the approved version, never past the total budget,
also when runs are decided at the same moment on different workers."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, update

from db.engine import make_engine, session_scope
from governance.series import save_series
from governance.series_runs import plan_run
from models.contracts import SeriesRunPlan
from models.series_tables import CampaignSeries
from models.spec import CampaignSpec
from models.tables import Campaign
from tests.campaigns import spec_at
from tests.conftest import migrate

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def series_spec(**schedule: object) -> CampaignSpec:
    return spec_at(
        NOW,
        budget={"limit": "1.00"},
        schedule={"cron": "0 10 * * MON", "timezone": "Asia/Shanghai", "total_budget": "1.50"}
        | schedule,
    )


@pytest.fixture(params=["postgresql", "sqlite"])
def engine(request: pytest.FixtureRequest, pg_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "postgresql":
        yield pg_engine
        return
    url = f"sqlite:///{tmp_path / 'series.db'}"
    migrate(url)
    made = make_engine(url)
    yield made
    made.dispose()


def new_series(engine: Engine, sid: str, *, approved: bool = True, **schedule: object) -> None:
    with session_scope(engine) as session:
        assert save_series(session, sid, series_spec(**schedule), "王芳", NOW) == "created"
        if approved:
            row = session.get(CampaignSeries, sid)
            assert row is not None
            row.approved_fingerprint = row.fingerprint


def plan(engine: Engine, sid: str, minutes: int) -> SeriesRunPlan:
    with session_scope(engine) as session:
        return plan_run(session, sid, NOW + timedelta(minutes=minutes), NOW)


def finish(engine: Engine, cid: str | None, spent: str) -> None:
    """The run's campaign as the worker leaves it: registered, sending over, this spent."""
    assert cid is not None
    with session_scope(engine) as session:
        spec = series_spec().model_copy(update={"schedule": None})
        session.add(
            Campaign(
                id=cid,
                name=spec.name,
                objective=spec.objective,
                owner=spec.owner,
                requested_by="王芳",
                spec=spec.model_dump(mode="json"),
                phase="awaiting_review",
                budget_limit=Decimal("1.00"),
                spent=Decimal(spent),
                created_at=NOW,
                updated_at=NOW,
            )
        )


def test_runs_get_the_per_run_budget_until_the_total_is_used(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    sid = f"s-{request.node.callspec.id}-total"
    new_series(engine, sid)
    first = plan(engine, sid, 0)
    assert first.campaign_id == f"{sid}-20261207T020000Z"
    assert first.spec is not None and first.spec.budget.limit == Decimal("1.00")
    assert first.spec.schedule is None
    assert first.spec.send_window.start == NOW
    assert first.spec.window_length == series_spec().window_length
    assert first.approval is not None and first.approval.series_id == sid
    # the same scheduled time again (a retried activity): the same answer, no second run
    assert plan(engine, sid, 0) == first
    # a run still sending counts at its whole budget
    second = plan(engine, sid, 1)
    assert second.spec is not None and second.spec.budget.limit == Decimal("0.50")
    third = plan(engine, sid, 2)
    assert third.campaign_id is None and "used its total budget" in third.detail
    # once they finished sending, what they did not spend is there again
    finish(engine, first.campaign_id, "0.20")
    finish(engine, second.campaign_id, "0.30")
    fourth = plan(engine, sid, 3)
    assert fourth.spec is not None and fourth.spec.budget.limit == Decimal("1.00")


def test_no_run_unless_approved_or_after_the_end(
    engine: Engine, request: pytest.FixtureRequest
) -> None:
    sid = f"s-{request.node.callspec.id}-gate"
    new_series(engine, sid, approved=False)
    assert "is not approved: no run, nothing sent" in plan(engine, sid, 0).detail
    ended = f"{sid}-ended"
    new_series(engine, ended, until=(NOW + timedelta(minutes=30)).isoformat())
    assert plan(engine, ended, 10).campaign_id is not None
    assert "ended at" in plan(engine, ended, 40).detail
    assert "no series with id 'nope'" in plan(engine, "nope", 0).detail
    with session_scope(engine) as session:
        session.execute(
            update(CampaignSeries).where(CampaignSeries.id == sid).values(deleted_at=NOW)
        )
    assert plan(engine, sid, 5).campaign_id is None


def test_runs_decided_at_once_share_the_total(pg_engine: Engine) -> None:
    """Eight runs decided concurrently (each in its own transaction, as on eight workers):
    together they get exactly the total."""
    sid = "s-concurrent"
    new_series(pg_engine, sid, total_budget="3.50")
    with ThreadPoolExecutor(max_workers=8) as pool:
        plans = list(pool.map(lambda m: plan(pg_engine, sid, m), range(8)))
    budgets = sorted(p.spec.budget.limit for p in plans if p.spec is not None)
    assert budgets == [Decimal("0.50"), Decimal("1.00"), Decimal("1.00"), Decimal("1.00")]
    assert sum(p.campaign_id is None for p in plans) == 4
