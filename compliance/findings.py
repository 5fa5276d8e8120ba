"""What a compliance check reports: one finding per problem, with the rule that found it."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class Severity(StrEnum):
    """`block` stops the campaign, `review` holds it for a compliance officer, `warn` informs."""

    BLOCK = "block"
    REVIEW = "review"
    WARN = "warn"


SEVERITY_ORDER = {Severity.BLOCK: 0, Severity.REVIEW: 1, Severity.WARN: 2}


class Stage(StrEnum):
    """When a rule runs, before approval or per customer/event later: see
    docs/compliance-rules.md#when-a-rule-acts."""

    PLAN = "plan"
    CONTENT = "content"
    PRE_SEND = "pre-send"
    EVENT = "event"


class Finding(BaseModel):
    """One problem: the rule, how serious, what is wrong, the offending text or count, what stopped.

    `blocked` is empty unless the finding blocks; then it names what it stopped.
    """

    model_config = ConfigDict(frozen=True)

    rule_id: str
    severity: Severity
    message: str
    evidence: str = ""
    blocked: str = ""
    source: str = ""
    channel: str | None = None


def worst_first(findings: list[Finding]) -> list[Finding]:
    """Blocks, then reviews, then warnings; stable by rule id within each."""
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], f.rule_id))
