"""Outbound marketing calls (CN-11): only consented numbers on the call whitelist are planned.

The whitelist is also required where calls are researched, planned and screened at send time
(policy.call_whitelist); this rule stops a plan that holds a call to a number off the list
anyway. A refusal during a call sets do-not-call (engagement.handlers.apply_call), the call
window is CN-07's, and the evidence of each call is kept (engagement.call_evidence).
"""

from __future__ import annotations

from collections.abc import Iterator

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule


@rule(
    "CN-11",
    source="消费者权益保护法实施条例 Art 24; 综合整治骚扰电话专项行动方案 (2018); MIIT call-centre notice",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    channels=["outbound_call"],
    title="marketing calls only to consented numbers on the call whitelist",
)
def call_whitelist(ctx: RuleContext) -> Iterator[Finding]:
    if not any(c.marketing for c in ctx.channels):
        return
    if ctx.plan.calls_not_whitelisted:
        yield ctx.finding(
            "marketing calls are planned to numbers not on the call whitelist",
            f"{ctx.plan.calls_not_whitelisted} calls",
            channel="outbound_call",
        )
