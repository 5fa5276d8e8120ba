"""Planning phase: channel and send time per customer, and the budget report
(docs/lifecycle.md#planning)."""

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating
from db.campaigns import load_spec
from db.engine import session_scope
from models.contracts import CampaignRef, PlanResult
from planning.plan import make_plan


@activity.defn
def plan_campaign(ref: CampaignRef) -> PlanResult:
    with heartbeating(), session_scope(current().engine) as session:
        spec = load_spec(session, ref.campaign_id)
        return make_plan(session, ref.campaign_id, spec, ref.at)
