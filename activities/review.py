"""Review phase: compute and store the campaign's report (docs/lifecycle.md#review)."""

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating
from db.engine import session_scope
from models.contracts import CampaignRef, ReviewResult
from reporting.review import compute_review
from reporting.store import save_report


@activity.defn
def review_campaign(ref: CampaignRef) -> ReviewResult:
    with heartbeating(), session_scope(current().engine) as session:
        # the workflow runs this once the attribution window is over: the report is final
        report = compute_review(session, ref.campaign_id, ref.at, final=True)
        save_report(session, ref.campaign_id, "review", report, ref.at)
        total, groups = report["total"], report["groups"]
        return ReviewResult(
            sent=total["sent"],
            conversions=total["conversions"],
            revenue=total["revenue"],
            cost=total["cost"],
            roi=total["roi"],
            lift=groups["lift"],
        )
