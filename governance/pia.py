"""Personal-information protection impact assessments (PIPL Art 55, rule CN-27).

A compliance officer records each approved assessment with a statement signed by their enrolled
key; a campaign that targets by automated segmentation or hands data to an outside provider
cites one by id (spec `pia`), and without an approved, unexpired one it is held for review.
Assessments are never edited: a new version is a new id. Every record is in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.log import append as audit
from governance.enrollment import accept
from governance.roles import NotAllowed, has_role
from governance.signing import Signed
from models.compliance_tables import AssessmentStatus, ImpactAssessment
from models.spec import PIA_ID

OFFICER = "compliance_officer"
KIND = "pia_approve"
ID = re.compile(PIA_ID)


@dataclass(frozen=True)
class Assessment:
    id: str
    title: str
    scope: str
    approved_by: str
    approved_at: datetime
    valid_until: datetime | None


def check_id(pia_id: str) -> str:
    """The id as given, or ValueError naming it (letters, digits, . _ : -; at most 64)."""
    if not ID.match(pia_id):
        raise ValueError(
            f"id: {pia_id[:70]!r} is not an assessment id (letters, digits, . _ : -; "
            "at most 64 characters, e.g. PIA-2026-001)"
        )
    return pia_id


def record_assessment(
    session: Session,
    signed: Signed | None,
    *,
    pia_id: str,
    title: str,
    scope: str,
    valid_until: datetime | None,
    at: datetime,
) -> Assessment:
    """Record an approved assessment on a compliance officer's signed statement (`pia_approve`
    of the id); NotAllowed when the signer is no compliance officer or the id is taken."""
    check_id(pia_id)
    if not title.strip() or not scope.strip():
        raise ValueError("title and scope: say what the assessment is and what it covers")
    if valid_until is not None and valid_until <= at:
        raise ValueError(f"valid_until: {valid_until.isoformat()} is not in the future")
    statement = accept(session, signed, kind=KIND, subject=pia_id, use=KIND, at=at)
    if not has_role(session, statement.by, OFFICER):
        raise NotAllowed(
            f"{statement.by} is not a compliance officer and cannot approve an impact assessment"
        )
    if session.get(ImpactAssessment, pia_id) is not None:
        raise NotAllowed(f"assessment {pia_id} is already recorded: give a new version a new id")
    row = ImpactAssessment(
        id=pia_id,
        title=title.strip()[:200],
        scope=scope.strip(),
        approved_by=statement.by,
        approved_at=at,
        valid_until=valid_until,
    )
    session.add(row)
    audit(
        session,
        at=at,
        actor=statement.by,
        action="pia.approved",
        detail={
            "id": pia_id,
            "title": row.title,
            "valid_until": valid_until.isoformat() if valid_until else None,
            "signed": signed.model_dump() if signed else None,
        },
    )
    return _view(row)


def _view(row: ImpactAssessment) -> Assessment:
    return Assessment(
        row.id, row.title, row.scope, row.approved_by, row.approved_at, row.valid_until
    )


def list_assessments(session: Session) -> list[Assessment]:
    rows = session.execute(select(ImpactAssessment).order_by(ImpactAssessment.approved_at))
    return [_view(r) for r in rows.scalars()]


def assessment_status(
    session: Session, pia_id: str | None, at: datetime
) -> AssessmentStatus | None:
    """approved | expired | unknown for a cited id as of `at`; None when none is cited."""
    if pia_id is None:
        return None
    row = session.get(ImpactAssessment, pia_id)
    if row is None:
        return "unknown"
    return "expired" if row.valid_until is not None and row.valid_until <= at else "approved"
