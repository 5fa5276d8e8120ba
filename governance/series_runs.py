"""Each scheduled time of a series: start a campaign with the approved spec and what the
total budget still allows, or record why none starts. Decided once per scheduled time, with
the series row locked: a retried start gets the same answer, and two runs never share budget."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import append as audit
from governance.series import UnknownSeries, approvers, get_series
from models.contracts import SeriesApproval, SeriesRunPlan
from models.series_tables import CampaignSeries, SeriesRun
from models.spec import CampaignSpec, SendWindow
from policy.series_budget import run_budget


def run_id(series_id: str, scheduled_at: datetime) -> str:
    """The campaign id of the run at `scheduled_at`: the series id and that time (UTC)."""
    return f"{series_id}-{scheduled_at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def run_spec(stored: dict[str, object], budget: Decimal, scheduled_at: datetime) -> CampaignSpec:
    """The series spec as one campaign: its budget, and a send window as long as the spec's
    starting at the scheduled time."""
    spec = CampaignSpec.model_validate(stored)
    window = SendWindow(start=scheduled_at, end=scheduled_at + spec.window_length)
    return spec.model_copy(
        update={
            "budget": spec.budget.model_copy(update={"limit": budget}),
            "send_window": window,
            "schedule": None,
        }
    )


def _refusal(series: CampaignSeries, scheduled_at: datetime) -> str | None:
    if series.approved_fingerprint != series.fingerprint:
        changed = " (it changed since)" if series.approved_fingerprint else ""
        return f"series {series.id} is not approved{changed}: no run, nothing sent"
    until = CampaignSpec.model_validate(series.spec).schedule
    if until is not None and until.until is not None and scheduled_at > until.until:
        return f"series {series.id} ended at {until.until.isoformat()}: no run"
    return None


def _plan(session: Session, series: CampaignSeries, row: SeriesRun) -> SeriesRunPlan:
    if row.campaign_id is None:
        return SeriesRunPlan(detail=row.detail)
    return SeriesRunPlan(
        detail=row.detail,
        campaign_id=row.campaign_id,
        spec=run_spec(series.spec, row.budget, row.scheduled_at),
        approval=SeriesApproval(
            series_id=series.id,
            fingerprint=row.fingerprint,
            approved_by=approvers(session, series, row.fingerprint),
        ),
    )


def plan_run(
    session: Session, series_id: str, scheduled_at: datetime, at: datetime
) -> SeriesRunPlan:
    """The run of `series_id` at `scheduled_at`, decided now or as decided before."""
    try:
        series = get_series(session, series_id, lock=True)
    except UnknownSeries as exc:
        return SeriesRunPlan(detail=f"{exc}: no run")
    done = session.scalars(
        select(SeriesRun).where(
            SeriesRun.series_id == series_id, SeriesRun.scheduled_at == scheduled_at
        )
    ).first()
    if done is not None:
        return _plan(session, series, done)
    refusal = _refusal(series, scheduled_at)
    budget = Decimal(0)
    if refusal is None:
        budget = run_budget(session, series_id, series.run_budget, series.total_budget)
        if budget <= 0:
            refusal = (
                f"series {series_id} has used its total budget {series.total_budget}: "
                "no run, nothing sent"
            )
    cid = None if refusal else run_id(series_id, scheduled_at)
    detail = refusal or f"run {cid} started with budget {budget}"
    row = SeriesRun(
        series_id=series_id,
        scheduled_at=scheduled_at,
        campaign_id=cid,
        fingerprint=series.fingerprint,
        budget=max(budget, Decimal(0)),
        detail=detail,
        at=at,
    )
    session.add(row)
    audit(
        session,
        at=at,
        actor="schedule",
        action="series.run" if cid else "series.run_refused",
        campaign_id=series_id,
        detail={"scheduled_at": scheduled_at.isoformat(), "run": cid, "detail": detail},
    )
    session.flush()
    return _plan(session, series, row)
