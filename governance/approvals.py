"""Checks that make an approval mean something: the right role, and never one's own campaign."""

from __future__ import annotations

from sqlalchemy.orm import Session

from governance.roles import NotAllowed, has_role
from models.identity import identity


def _check(
    session: Session, *, campaign_id: str, person: str, requested_by: str, role: str, what: str
) -> None:
    if identity(person) == identity(requested_by):
        raise NotAllowed(f"{person} requested campaign {campaign_id} and cannot {what} it")
    if not has_role(session, person, role):
        raise NotAllowed(
            f"{person} does not hold the {role} role and cannot {what} campaign {campaign_id}"
        )


def check_approver(session: Session, *, campaign_id: str, approver: str, requested_by: str) -> None:
    """Raise NotAllowed unless `approver` holds the approver role and is not the requester."""
    _check(
        session,
        campaign_id=campaign_id,
        person=approver,
        requested_by=requested_by,
        role="approver",
        what="approve",
    )


def check_compliance_officer(
    session: Session, *, campaign_id: str, officer: str, requested_by: str
) -> None:
    """The same rule for clearing a compliance review (compliance-ok / compliance-reject)."""
    _check(
        session,
        campaign_id=campaign_id,
        person=officer,
        requested_by=requested_by,
        role="compliance_officer",
        what="decide the compliance review of",
    )
