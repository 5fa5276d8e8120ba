"""Checks that make an approval mean something: the right role, and never one's own campaign."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from governance.enrollment import accept
from governance.roles import NotAllowed, has_role
from models.contracts import ApprovalCheck
from models.identity import identity
from settings import settings


def approvals_needed(budget: Decimal) -> int:
    """Two different approvers above OMNIREACH_DUAL_APPROVAL_ABOVE, else one."""
    return 2 if budget > settings().dual_approval_above else 1


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


def verify_signed(session: Session, check: ApprovalCheck) -> None:
    """The decision is the statement its decider signed, word for word (NotAllowed if not)."""
    statement = accept(
        session,
        check.signed,
        kind=check.decision,
        subject=check.campaign_id,
        use=check.use,
        at=datetime.now(UTC),
    )
    if identity(statement.by) != identity(check.by):
        raise NotAllowed(f"the statement is signed by {statement.by}, not {check.by}")
    if (statement.plan_digest, statement.comment) != (check.plan_digest, check.comment):
        raise NotAllowed("the decision differs from the signed statement (plan or comment)")


def verify_role(session: Session, check: ApprovalCheck) -> None:
    """The decider holds the role the decision needs and did not request what they decide."""
    if check.kind == "compliance":
        check_compliance_officer(
            session,
            campaign_id=check.campaign_id,
            officer=check.by,
            requested_by=check.requested_by,
        )
    else:
        check_approver(
            session,
            campaign_id=check.campaign_id,
            approver=check.by,
            requested_by=check.requested_by,
        )
