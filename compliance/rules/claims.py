"""Claims and gifts (CN-15): a claim with numbers (销量10万+, 第一, 领先 N%) names its source in
the channel plan (`claim_source`), and a gift offer states its terms (`gift`), so an advert
never carries a figure nobody can prove nor a gift whose terms the customer cannot see."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, field_validator

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from compliance.rules.content_terms import MAX_EVIDENCE, compile_all
from compliance.text import snippet, texts
from models.spec import ChannelPlan

_STOP = r"[^，。,.!！?？\s]"


class ClaimParams(BaseModel):
    """Regular expressions: what counts as a claim with numbers, and as a gift offer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim_patterns: list[str] = [
        r"\d+(?:\.\d+)?\s*[万亿千百]?\s*\+",
        rf"(?:销量|销售额|售出|已售|热销|卖出|好评|回购|复购){_STOP}{{0,6}}\d",
        r"\d+(?:\.\d+)?\s*[万亿]\s*\+?\s*[位名个]?(?:用户|顾客|会员|消费者|家庭|人)",
        rf"(?:领先|提升|增长|提高|超过|超越|高出){_STOP}{{0,8}}\d+(?:\.\d+)?\s*[%％倍]",
        r"\d+(?:\.\d+)?\s*[%％]\s*的?(?:用户|顾客|消费者|好评|满意|回购|推荐)",
        r"第一|NO\.?\s*1\b|TOP\s*\.?\s*1\b",
    ]
    gift_patterns: list[str] = [
        r"赠品|赠送|附赠|加赠|礼品|好礼|豪礼|礼包|免费领",
        rf"买{_STOP}{{0,4}}送",
        rf"满\s*\d+{_STOP}{{0,4}}送",
    ]

    @field_validator("claim_patterns", "gift_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return compile_all(v)


def _matches(text: str, patterns: list[str]) -> list[tuple[int, int]]:
    return sorted(m.span() for p in patterns for m in re.finditer(p, text, re.IGNORECASE))


def _found(plan: ChannelPlan, patterns: list[str]) -> tuple[str, list[str], list[str]] | None:
    """The first part with a match: (part, offending words, evidence snippets)."""
    for part, text in texts(plan):
        spans = _matches(text, patterns)
        if spans:
            words = sorted({text[s:e] for s, e in spans})
            return part, words, [snippet(text, s, e) for s, e in spans[:MAX_EVIDENCE]]
    return None


@rule(
    "CN-15",
    source="广告法 Art 11 (data and statistics with their source); Art 8 (gift terms)",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    params=ClaimParams,
    title="numeric claims name their source; gift offers state their terms",
)
def claims_and_gifts(ctx: RuleContext) -> Iterator[Finding]:
    p: ClaimParams = ctx.params
    for plan in (c for c in ctx.channels if c.marketing):
        claim = _found(plan, p.claim_patterns) if plan.claim_source is None else None
        if claim:
            part, words, evidence = claim
            yield ctx.finding(
                f"claim with numbers ({'、'.join(words)}) in the {plan.channel} {part} without "
                "a source: set claim_source in the channel plan",
                " | ".join(evidence),
                channel=plan.channel,
            )
        gift = _found(plan, p.gift_patterns) if plan.gift is None else None
        if gift:
            part, words, evidence = gift
            yield ctx.finding(
                f"gift offer ({'、'.join(words)}) in the {plan.channel} {part} without its terms: "
                "set gift (kind, specification, quantity, period, method) in the channel plan",
                " | ".join(evidence),
                channel=plan.channel,
            )
