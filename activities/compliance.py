"""Compliance check: runs after approval and before any send; stores every finding
(docs/lifecycle.md#compliance-check)."""

from __future__ import annotations

from sqlalchemy import delete
from temporalio import activity

from activities.context import current
from audit.log import append
from compliance.check import evaluate_campaign, minimum_age
from compliance.findings import Severity
from db.campaigns import load_spec
from db.engine import session_scope
from models.contracts import CampaignRef, ComplianceFindingOut, ComplianceResult
from models.tables import ComplianceFinding
from planning.plan_stats import plan_stats


@activity.defn
def check_compliance(ref: CampaignRef) -> ComplianceResult:
    with session_scope(current().engine) as session:
        spec = load_spec(session, ref.campaign_id)
        stats = plan_stats(session, ref.campaign_id, spec, minimum_age(), ref.at)
        evaluation = evaluate_campaign(spec, stats)
        findings = evaluation.findings
        session.execute(
            delete(ComplianceFinding).where(ComplianceFinding.campaign_id == ref.campaign_id)
        )
        session.add_all(
            ComplianceFinding(
                campaign_id=ref.campaign_id,
                rule_id=f.rule_id,
                severity=f.severity.value,
                message=f.message,
                evidence=f.evidence or None,
                blocked=f.blocked or None,
                checked_at=ref.at,
            )
            for f in findings
        )
        summary = {s.value: sum(f.severity == s for f in findings) for s in Severity}
        append(
            session,
            at=ref.at,
            actor="compliance-check",
            action="compliance.checked",
            campaign_id=ref.campaign_id,
            detail={**summary, **evaluation.record()},
        )

    def out(severity: Severity) -> list[ComplianceFindingOut]:
        return [
            ComplianceFindingOut(rule_id=f.rule_id, severity=f.severity.value, message=f.message)
            for f in findings
            if f.severity == severity
        ]

    return ComplianceResult(
        blocking=out(Severity.BLOCK),
        review=out(Severity.REVIEW),
        warnings=summary[Severity.WARN.value],
    )
