"""Retention (CN-29): the deployment deletes data past its period on its own. The purge itself
is optout/retention.py on a Temporal Schedule; this rule tells every campaign's compliance
check when that schedule is switched off (OMNIREACH_RETENTION_PURGE_HOURS=0)."""

from __future__ import annotations

from collections.abc import Iterator

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from settings import settings


@rule(
    "CN-29",
    source="PIPL Art 47 (retention period expired)",
    severity=Severity.WARN,
    stage=Stage.PLAN,
    title="data past its retention period is purged on a schedule",
)
def retention_purge(ctx: RuleContext) -> Iterator[Finding]:
    if settings().retention_purge_hours == 0:
        yield ctx.finding(
            "the retention purge is switched off: customer data past its retention period is "
            "not deleted",
            "OMNIREACH_RETENTION_PURGE_HOURS=0",
        )
