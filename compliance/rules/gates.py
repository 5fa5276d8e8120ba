"""Plan rules of the channel gates (compliance.gates): nobody is planned past one, and a
channel closed or narrowed by cross-border rules is shown to the officer."""

from __future__ import annotations

from collections.abc import Iterator

from compliance.findings import Finding, Severity, Stage
from compliance.gates import CrossBorderParams, PushParams, channel_gates
from compliance.registry import RuleContext, rule


def _past(ctx: RuleContext, message: str) -> Iterator[Finding]:
    n = ctx.plan.planned_past_gates.get(ctx.rule.id, 0)
    if n:
        yield ctx.finding(message, f"{n} planned sends")


@rule(
    "CN-23",
    source="Apple App Store Review Guideline 4.5.4; 互联网弹窗信息推送服务管理规定",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    channels=["app_push"],
    params=PushParams,
    title="promotional app pushes only with the separate push-marketing consent",
)
def push_consent(ctx: RuleContext) -> Iterator[Finding]:
    yield from _past(
        ctx, "promotional app pushes are planned to customers without push-marketing consent"
    )


@rule(
    "CN-28",
    source="PIPL Art 38, Art 39; CAC 促进和规范数据跨境流动规定 (2024)",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    params=CrossBorderParams,
    title="no customer data to an overseas provider without a recorded mechanism and consent",
)
def cross_border(ctx: RuleContext) -> Iterator[Finding]:
    for gate in channel_gates(ctx.spec, ctx.config):
        if gate.rule_id == ctx.rule.id:
            yield ctx.finding(gate.why, gate.reason, channel=gate.channel, severity=Severity.WARN)
    yield from _past(
        ctx, "customer data is planned to go to an overseas provider without its legal basis"
    )
