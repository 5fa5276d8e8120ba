"""A rule's outcome for one campaign, so a compliance officer sees the whole list of rules, not
only the findings: pass, warn, review, block, or not applicable (and why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from compliance.findings import SEVERITY_ORDER, Finding
from compliance.registry import Rule


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    REVIEW = "review"
    BLOCK = "block"
    NOT_APPLICABLE = "not applicable"


@dataclass(frozen=True)
class RuleResult:
    rule_id: str
    title: str
    status: Status
    reason: str = ""

    @classmethod
    def of(cls, rule: Rule, findings: Sequence[Finding]) -> RuleResult:
        """The worst of the rule's findings; pass when it found nothing."""
        if not findings:
            return cls(rule.id, rule.title, Status.PASS)
        worst = min((f.severity for f in findings), key=SEVERITY_ORDER.__getitem__)
        return cls(rule.id, rule.title, Status(worst.value))

    @classmethod
    def not_applicable(cls, rule: Rule, reason: str) -> RuleResult:
        return cls(rule.id, rule.title, Status.NOT_APPLICABLE, reason)

    def as_dict(self) -> dict[str, str]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "status": self.status.value,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Evaluation:
    """What the compliance check of one campaign found, rule by rule."""

    rules: list[RuleResult]
    findings: list[Finding]

    def record(self) -> dict[str, dict[str, str]]:
        """What the audit log keeps with the check: rule id → status, and rule id → why not
        applicable."""
        return {
            "rules": {r.rule_id: r.status.value for r in self.rules},
            "not_applicable": {r.rule_id: r.reason for r in self.rules if r.reason},
        }
