"""Recurring campaigns (series): what was asked for, and which version of it is approved.

A series is approved once, by the same signed decisions and role checks as a campaign, for
its fingerprint: the spec (content, audience, schedule) with its per-run and total budget.
A new spec for the series changes the fingerprint, and its runs stop until that version is
approved in turn.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import append as audit
from governance.approvals import approvals_needed, verify_role, verify_signed
from governance.roles import NotAllowed
from models.contracts import ApprovalCheck, Decision
from models.identity import identity
from models.series_tables import CampaignSeries, SeriesDecision
from models.spec import CampaignSpec


class UnknownSeries(LookupError):
    """No series with this id (or it was deleted)."""


def fingerprint(spec: CampaignSpec) -> str:
    """sha256 over everything the approver approves: the spec, and the budgets. Of the send
    window only its length counts: each run's window starts at its scheduled time, so the same
    spec started again (its relative window resolved anew) is the same version."""
    assert spec.schedule is not None
    doc = {
        "spec": spec.model_dump(mode="json", exclude={"send_window"}),
        "window_seconds": spec.window_length.total_seconds(),
        "run_budget": str(spec.budget.limit),
        "total_budget": str(spec.schedule.total_budget),
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:16]


def get_series(session: Session, series_id: str, *, lock: bool = False) -> CampaignSeries:
    query = select(CampaignSeries).where(
        CampaignSeries.id == series_id, CampaignSeries.deleted_at.is_(None)
    )
    found = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if found is None:
        raise UnknownSeries(f"no series with id {series_id!r}")
    return found


def live_series(session: Session) -> list[CampaignSeries]:
    return list(
        session.scalars(
            select(CampaignSeries)
            .where(CampaignSeries.deleted_at.is_(None))
            .order_by(CampaignSeries.created_at)
        )
    )


def save_series(
    session: Session, series_id: str, spec: CampaignSpec, requested_by: str, at: datetime
) -> str:
    """Create the series or give it a new spec; returns created, changed or unchanged. A
    changed series awaits approval of its new version (its approved one no longer runs)."""
    assert spec.schedule is not None
    found = session.get(CampaignSeries, series_id, with_for_update=True)
    if found is not None and found.deleted_at is not None:
        raise NotAllowed(f"series {series_id} was deleted; start the spec under another id")
    version = fingerprint(spec)
    if found is not None and found.fingerprint == version:
        return "unchanged"
    values = dict(
        name=spec.name,
        cron=spec.schedule.cron,
        timezone=spec.schedule.timezone,
        spec=spec.model_dump(mode="json"),
        fingerprint=version,
        run_budget=spec.budget.limit,
        total_budget=spec.schedule.total_budget,
        requested_by=requested_by,
        updated_at=at,
    )
    if found is None:
        session.add(CampaignSeries(id=series_id, created_at=at, **values))
    else:
        for name, value in values.items():
            setattr(found, name, value)
    change = "created" if found is None else "changed"
    audit(
        session,
        at=at,
        actor=requested_by,
        action=f"series.{change}",
        campaign_id=series_id,
        detail={"fingerprint": version, "cron": spec.schedule.cron, "tz": spec.schedule.timezone},
    )
    return change


def approvers(session: Session, series: CampaignSeries, version: str) -> list[str]:
    return list(
        session.scalars(
            select(SeriesDecision.approver)
            .where(
                SeriesDecision.series_id == series.id,
                SeriesDecision.fingerprint == version,
                SeriesDecision.decision == "approved",
            )
            .order_by(SeriesDecision.id)
        )
    )


def _rejection(session: Session, series: CampaignSeries) -> SeriesDecision | None:
    return session.scalars(
        select(SeriesDecision).where(
            SeriesDecision.series_id == series.id,
            SeriesDecision.fingerprint == series.fingerprint,
            SeriesDecision.decision == "rejected",
        )
    ).first()


def approval_state(session: Session, series: CampaignSeries) -> str:
    """approved, rejected by …, or awaiting approval (n of m) of the current version."""
    if series.approved_fingerprint == series.fingerprint:
        return "approved"
    rejected = _rejection(session, series)
    if rejected is not None:
        return f"rejected by {rejected.approver}: {rejected.comment}"
    have = len(approvers(session, series, series.fingerprint))
    return f"awaiting approval ({have} of {approvals_needed(series.total_budget)})"


@dataclass(frozen=True)
class SeriesVerdict:
    message: str
    approved: bool  # the current version is approved (runs may start)


def decide_series(
    session: Session, series_id: str, update: str, decision: Decision, at: datetime
) -> SeriesVerdict:
    """Verify and record a signed approval or rejection of the series' current version;
    NotAllowed naming why it does not count."""
    series = get_series(session, series_id, lock=True)
    if decision.plan_digest is not None and decision.plan_digest != series.fingerprint:
        raise NotAllowed(
            f"series {series_id} changed since it was shown (shown {decision.plan_digest}, now "
            f"{series.fingerprint}): read `schedules list` again"
        )
    state = approval_state(session, series)
    if not state.startswith("awaiting"):
        raise NotAllowed(f"series {series_id} is {state}, not awaiting approval")
    if update == "reject" and not decision.comment.strip():
        raise NotAllowed("a rejection needs a reason")
    check = ApprovalCheck(
        campaign_id=series_id,
        kind="approve",
        by=decision.by,
        requested_by=series.requested_by,
        plan_digest=decision.plan_digest,
        decision=update,
        comment=decision.comment,
        signed=decision.signed,
        use=f"{series_id}/{series.fingerprint}/{update}",
    )
    verify_signed(session, check)
    verify_role(session, check)
    person = identity(decision.by)
    if person in approvers(session, series, series.fingerprint):
        raise NotAllowed(
            f"{decision.by} has already approved; a second approver must be someone else"
        )
    kind = "approved" if update == "approve" else "rejected"
    session.add(
        SeriesDecision(
            series_id=series_id,
            fingerprint=series.fingerprint,
            decision=kind,
            approver=person,
            comment=decision.comment,
            decided_at=at,
        )
    )
    audit(
        session,
        at=at,
        actor=person,
        action=f"series.{kind}",
        campaign_id=series_id,
        detail={"fingerprint": series.fingerprint, "comment": decision.comment}
        | ({"signed": decision.signed.model_dump()} if decision.signed else {}),
    )
    session.flush()
    if kind == "rejected":
        return SeriesVerdict(f"series {series_id} rejected by {person}", approved=False)
    have = approvers(session, series, series.fingerprint)
    missing = approvals_needed(series.total_budget) - len(have)
    if missing > 0:
        return SeriesVerdict(
            f"approval by {person} recorded; the series needs {missing} more approver(s)",
            approved=False,
        )
    series.approved_fingerprint = series.fingerprint
    return SeriesVerdict(f"series {series_id} approved by {', '.join(have)}", approved=True)
