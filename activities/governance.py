"""Approvals that mean something: role, not the requester, the exact plan, enough approvers."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.orm import Session
from temporalio import activity

from activities.context import current
from db.campaigns import get_campaign
from db.engine import session_scope
from governance.approvals import check_approver, check_compliance_officer
from governance.enrollment import accept
from governance.plan_digest import plan_digest
from governance.roles import NotAllowed
from models.contracts import ApprovalCheck, ApprovalVerdict, CampaignRef
from models.identity import identity
from settings import settings

log = logging.getLogger(__name__)


def approvals_needed(budget: Decimal) -> int:
    """Two different approvers above OMNIREACH_DUAL_APPROVAL_ABOVE, else one."""
    return 2 if budget > settings().dual_approval_above else 1


@activity.defn
def verify_decision(check: ApprovalCheck) -> ApprovalVerdict:
    """Refuse a decision not signed by the enrolled decider, a decider without the role, or a
    plan that is not the one shown: the verdict says why, in one line."""
    with session_scope(current().engine) as session:
        try:
            _verify_signed(session, check)
            _verify_role(session, check)
        except NotAllowed as exc:
            return _refused(str(exc))
        digest = plan_digest(session, check.campaign_id)
        if check.plan_digest and check.plan_digest != digest:
            return _refused(
                f"the plan changed since it was shown (shown {check.plan_digest}, "
                f"now {digest}): read `plan {check.campaign_id}` again"
            )
        budget = get_campaign(session, check.campaign_id).budget_limit
    return ApprovalVerdict(digest=digest, approvals_needed=approvals_needed(budget))


def _refused(reason: str) -> ApprovalVerdict:
    log.info("decision refused: %s", reason)
    return ApprovalVerdict(digest="", approvals_needed=0, refused=reason)


def _verify_signed(session: Session, check: ApprovalCheck) -> None:
    """The decision is the statement its decider signed, word for word."""
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


def _verify_role(session: Session, check: ApprovalCheck) -> None:
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


@activity.defn
def current_plan_digest(ref: CampaignRef) -> str:
    with session_scope(current().engine) as session:
        return plan_digest(session, ref.campaign_id)
