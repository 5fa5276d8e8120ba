"""Plan rules: what the plan phase counted must be zero (consent, suppression, profiling
opt-outs, minors), within caps, and within budget."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule


def _by_channel(counts: dict[str, int]) -> str:
    return ", ".join(f"{ch}: {n}" for ch, n in sorted(counts.items()) if n)


@rule(
    "CN-01",
    source="广告法 Art 43(1); 消费者权益保护法实施条例 Art 24; MIIT Order 31 Art 18",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    title="no planned send without current consent for the channel and purpose",
)
def consent(ctx: RuleContext) -> Iterator[Finding]:
    if sum(ctx.plan.planned_without_consent.values()):
        yield ctx.finding(
            "customers without current marketing consent for the channel are planned",
            _by_channel(ctx.plan.planned_without_consent),
        )


@rule(
    "CN-02",
    source="消费者权益保护法实施条例 Art 24; PIPL Art 15; MIIT Order 31 Art 18",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    title="no planned send to a suppressed address",
)
def suppression(ctx: RuleContext) -> Iterator[Finding]:
    if sum(ctx.plan.planned_suppressed.values()):
        yield ctx.finding(
            "customers on the suppression list (opted out / blacklisted) are planned",
            _by_channel(ctx.plan.planned_suppressed),
        )


class CapParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_per_customer: int = Field(default=1, ge=1)


@rule(
    "CN-09",
    source="T/CCAGM 002—2023 anti-disturbance limits; WeCom receive caps",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    params=CapParams,
    title="messages per customer within the campaign cap",
)
def frequency(ctx: RuleContext) -> Iterator[Finding]:
    p: CapParams = ctx.params
    if ctx.plan.max_messages_per_customer > p.max_per_customer:
        yield ctx.finding(
            f"a customer is planned {ctx.plan.max_messages_per_customer} messages; "
            f"the cap per campaign is {p.max_per_customer}",
            f"max {ctx.plan.max_messages_per_customer} per customer",
        )


@rule(
    "CN-24",
    source="PIPL Art 24(2); 电子商务法 Art 18",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    title="customers who refused profiling are not targeted by profile",
)
def profiling_opt_out(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.plan.profiling_opted_out_planned:
        yield ctx.finding(
            "customers who opted out of profiling are in a profile-targeted plan",
            f"{ctx.plan.profiling_opted_out_planned} customers",
        )


class MinorParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    min_age: int = Field(default=14, ge=1, le=21)
    unknown_age_severity: Severity = Severity.WARN


@rule(
    "CN-26",
    source="PIPL Art 28, Art 31; 未成年人保护法 Art 72",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    params=MinorParams,
    title="minors are not marketed to",
)
def minors(ctx: RuleContext) -> Iterator[Finding]:
    p: MinorParams = ctx.params
    if ctx.plan.minors_planned:
        yield ctx.finding(
            f"customers younger than {p.min_age} are planned without guardian consent",
            f"{ctx.plan.minors_planned} customers",
        )
    if ctx.plan.unknown_age_planned:
        yield ctx.finding(
            "customers with an unknown age are planned",
            f"{ctx.plan.unknown_age_planned} customers",
            severity=p.unknown_age_severity,
        )


@rule(
    "OPS-02",
    source="budget approval (docs/lifecycle.md#budget-approval)",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    title="planned cost within the approved budget",
)
def budget(ctx: RuleContext) -> Iterator[Finding]:
    limit = ctx.spec.budget.limit
    if ctx.plan.planned_cost > limit:
        yield ctx.finding(
            f"planned cost exceeds the budget of {limit} {ctx.spec.budget.currency}",
            f"planned {ctx.plan.planned_cost} > {limit}",
        )
