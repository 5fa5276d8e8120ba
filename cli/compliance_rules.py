"""The rule-by-rule outcome of a campaign's last compliance check, as the audit log recorded it
(`compliance.checked`), with each rule's title and, when not applicable now, why."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.registry import all_rules
from models.tables import AuditEntry

NOT_CHECKED = "not checked"


def rule_outcomes(session: Session, campaign_id: str) -> list[dict[str, str]]:
    """One row per registered rule: id, title, status ('not checked' before any check), reason."""
    detail = session.execute(
        select(AuditEntry.detail)
        .where(AuditEntry.campaign_id == campaign_id, AuditEntry.action == "compliance.checked")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).scalar()
    recorded: dict[str, str] = (detail or {}).get("rules", {})
    why: dict[str, str] = (detail or {}).get("not_applicable", {})
    return [
        {
            "rule_id": rule_id,
            "title": rule.title,
            "status": recorded.get(rule_id, NOT_CHECKED),
            "reason": why.get(rule_id, ""),
        }
        for rule_id, rule in sorted(all_rules().items())
    ]
