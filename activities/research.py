"""Research phase: select, score and snapshot the audience (docs/lifecycle.md#research)."""

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating
from audience.snapshot import take_snapshot
from db.campaigns import load_spec
from db.engine import session_scope
from models.contracts import CampaignRef, ResearchResult


@activity.defn
def research_audience(ref: CampaignRef) -> ResearchResult:
    with heartbeating(), session_scope(current().engine) as session:
        spec = load_spec(session, ref.campaign_id)
        return take_snapshot(session, ref.campaign_id, spec, ref.at)
