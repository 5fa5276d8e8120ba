"""Service-notice-only channels: WeChat OA template messages (CN-19), mini-program subscribe
messages (CN-20) and, until Alipay's rules are checked, Alipay subscribe messages (CN-21)."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from compliance.text import find_terms, snippet, texts


class ServiceOnlyParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    marketing_terms: list[str] = [
        "优惠券",
        "代金券",
        "红包",
        "会员卡",
        "返利",
        "积分",
        "消费优惠",
        "折扣",
        "促销",
        "特价",
    ]
    marketing_terms_severity: Severity = Severity.REVIEW


def _service_only(ctx: RuleContext) -> Iterator[Finding]:
    p: ServiceOnlyParams = ctx.params
    for plan in ctx.channels:
        if plan.marketing:
            yield ctx.finding(
                f"{plan.channel} carries service notices only (order, delivery, appointment); "
                "this channel plan is marked marketing",
                "marketing: true",
                channel=plan.channel,
            )
            continue
        for part, text in texts(plan):
            found = find_terms(text, p.marketing_terms)
            if found:
                yield ctx.finding(
                    f"service notice on {plan.channel} contains marketing wording in its {part}",
                    snippet(text, *found[0].span()),
                    channel=plan.channel,
                    severity=p.marketing_terms_severity,
                )
                break


rule(
    "CN-19",
    source="WeChat OA template-message rules (2016 anti-abuse announcement)",
    severity=Severity.BLOCK,
    channels=["wechat_oa"],
    title="no marketing in WeChat official-account template messages",
    stage=Stage.CONTENT,
    params=ServiceOnlyParams,
)(_service_only)
rule(
    "CN-20",
    source="WeChat mini-program subscribe-message rules",
    severity=Severity.BLOCK,
    channels=["wechat_mini"],
    title="no marketing in WeChat mini-program subscribe messages",
    stage=Stage.CONTENT,
    params=ServiceOnlyParams,
)(_service_only)
rule(
    "CN-21",
    source="Alipay mini-program subscribe messages (marketing rules not yet verified)",
    severity=Severity.REVIEW,
    channels=["alipay"],
    title="marketing in Alipay subscribe messages needs review",
    stage=Stage.CONTENT,
    params=ServiceOnlyParams,
)(_service_only)
