"""Review phase: compute and store the campaign's report (SPEC §9)."""

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating
from db.engine import session_scope
from models.contracts import CampaignRef, Phase, ReviewResult
from reporting.review import compute_review
from reporting.store import save_report


@activity.defn
def review_campaign(ref: CampaignRef) -> ReviewResult:
    with heartbeating(), session_scope(current().engine) as session:
        report = compute_review(session, ref.campaign_id, ref.at)
        report["phase"] = Phase.COMPLETED  # the review is the campaign's last act
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
