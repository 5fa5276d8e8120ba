"""Approvals that mean something: role, not the requester, the exact plan, enough approvers."""

from __future__ import annotations

import logging

from temporalio import activity

from activities.context import current
from db.campaigns import get_campaign
from db.engine import session_scope
from governance.approvals import approvals_needed, verify_role, verify_signed
from governance.plan_digest import plan_digest
from governance.roles import NotAllowed
from models.contracts import ApprovalCheck, ApprovalVerdict, CampaignRef

log = logging.getLogger(__name__)


@activity.defn
def verify_decision(check: ApprovalCheck) -> ApprovalVerdict:
    """Refuse a decision not signed by the enrolled decider, a decider without the role, or a
    plan that is not the one shown: the verdict says why, in one line."""
    with session_scope(current().engine) as session:
        try:
            verify_signed(session, check)
            verify_role(session, check)
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


@activity.defn
def current_plan_digest(ref: CampaignRef) -> str:
    with session_scope(current().engine) as session:
        return plan_digest(session, ref.campaign_id)
