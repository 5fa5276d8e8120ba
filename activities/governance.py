"""Approvals that mean something: role, not the requester, the exact plan, enough approvers."""

from __future__ import annotations

import os
from decimal import Decimal

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.context import current
from db.campaigns import get_campaign
from db.engine import session_scope
from governance.approvals import check_approver, check_compliance_officer
from governance.plan_digest import plan_digest
from governance.roles import NotAllowed
from models.contracts import ApprovalCheck, ApprovalVerdict, CampaignRef

DUAL_APPROVAL_ABOVE = Decimal(os.environ.get("OMNIREACH_DUAL_APPROVAL_ABOVE", "100000"))


@activity.defn
def verify_decision(check: ApprovalCheck) -> ApprovalVerdict:
    """Refuse (non-retryable) a decider without the role, or a plan that is not the one shown."""
    with session_scope(current().engine) as session:
        try:
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
        except NotAllowed as exc:
            raise ApplicationError(str(exc), type="NotAllowed", non_retryable=True) from None
        digest = plan_digest(session, check.campaign_id)
        if check.plan_digest and check.plan_digest != digest:
            raise ApplicationError(
                f"the plan changed since it was shown (shown {check.plan_digest}, now {digest}): "
                f"read `plan {check.campaign_id}` again",
                type="PlanChanged",
                non_retryable=True,
            )
        budget = get_campaign(session, check.campaign_id).budget_limit
    return ApprovalVerdict(digest=digest, approvals_needed=2 if budget > DUAL_APPROVAL_ABOVE else 1)


@activity.defn
def current_plan_digest(ref: CampaignRef) -> str:
    with session_scope(current().engine) as session:
        return plan_digest(session, ref.campaign_id)
