"""The rule-by-rule outcome of a campaign's last compliance check, as the audit log recorded it
(`compliance.checked`), with each rule's title and, when not applicable now, why; the research's
rules the check does not run are listed too, with where they act or that they are missing."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from compliance.catalogue import NOT_IN_CHECK
from compliance.registry import all_rules
from models.tables import AuditEntry

NOT_CHECKED = "not checked"


def rule_outcomes(session: Session, campaign_id: str) -> list[dict[str, str]]:
    """One row per rule id, sorted: id, title, status ('not checked' before any check), reason."""
    detail = session.execute(
        select(AuditEntry.detail)
        .where(AuditEntry.campaign_id == campaign_id, AuditEntry.action == "compliance.checked")
        .order_by(AuditEntry.id.desc())
        .limit(1)
    ).scalar()
    recorded: dict[str, str] = (detail or {}).get("rules", {})
    why: dict[str, str] = (detail or {}).get("not_applicable", {})
    rows = [
        {
            "rule_id": rule_id,
            "title": rule.title,
            "status": recorded.get(rule_id, NOT_CHECKED),
            "reason": why.get(rule_id, ""),
        }
        for rule_id, rule in all_rules().items()
    ]
    rows += [listed.as_dict() for listed in NOT_IN_CHECK]
    return sorted(rows, key=lambda row: row["rule_id"])
