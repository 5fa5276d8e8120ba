"""SMS template rules: provider opt-out wording (CN-04), no signature in the body (CN-05),
and the segment count a message will be billed at (OPS-01)."""

from __future__ import annotations

import math
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from compliance.text import find_terms, snippet
from content.render import TemplateError, render_text
from content.sandbox import ALLOWED_VARIABLES

_TRAILING = " \t\r\n。.!！"


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OptOutParams(_Params):
    opt_out_texts: dict[str, str] = {"default": "拒收请回复R"}
    at_end: bool = True
    forbidden_symbols: dict[str, str] = Field(default_factory=dict)
    notice_forbidden_terms: list[str] = ["优惠", "促销", "折扣", "特价", "领券", "优惠券", "红包"]

    @field_validator("opt_out_texts")
    @classmethod
    def _has_default(cls, v: dict[str, str]) -> dict[str, str]:
        if "default" not in v:
            raise ValueError("needs a 'default' entry (used for providers not listed)")
        return v


@rule(
    "CN-04",
    source="广告法 Art 43(2); MIIT Order 31 Art 18; Aliyun/Huawei/Tencent/Qiniu SMS template rules",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    channels=["sms"],
    params=OptOutParams,
    title="marketing SMS ends with the provider's opt-out text; notices don't",
)
def sms_opt_out(ctx: RuleContext) -> Iterator[Finding]:
    p: OptOutParams = ctx.params
    for plan in ctx.channels:
        provider = ctx.provider(plan.channel)
        body = plan.body
        wanted = p.opt_out_texts.get(provider, p.opt_out_texts["default"])
        if plan.marketing and wanted not in body:
            yield ctx.finding(
                f"marketing SMS lacks the opt-out text {wanted!r} "
                f"({ctx.provider_named(plan.channel)})",
                f"ends: …{body[-20:]}",
                channel=plan.channel,
            )
        elif plan.marketing and p.at_end and not body.rstrip(_TRAILING).endswith(wanted):
            yield ctx.finding(
                f"marketing SMS must end with {wanted!r} ({ctx.provider_named(plan.channel)})",
                f"ends: …{body[-20:]}",
                channel=plan.channel,
            )
        if not plan.marketing:
            found = find_terms(body, [*p.opt_out_texts.values(), *p.notice_forbidden_terms])
            if found:
                yield ctx.finding(
                    "notification SMS must not carry marketing words or opt-out text",
                    snippet(body, *found[0].span()),
                    channel=plan.channel,
                )
        symbols = sorted({c for c in p.forbidden_symbols.get(provider, "") if c in body})
        if symbols:
            yield ctx.finding(
                f"provider {provider} rejects the symbols {' '.join(symbols)} in SMS bodies",
                snippet(body, body.index(symbols[0]), body.index(symbols[0]) + 1),
                channel=plan.channel,
            )


@rule(
    "CN-05",
    source="Huawei/Tencent/Aliyun SMS signature rules (provider adds 【签名】)",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    channels=["sms"],
    title="no 【…】 signature in the SMS body: the provider supplies it",
)
def sms_signature(ctx: RuleContext) -> Iterator[Finding]:
    for plan in ctx.channels:
        at = min((i for i in (plan.body.find("【"), plan.body.find("】")) if i >= 0), default=-1)
        if at >= 0:
            yield ctx.finding(
                "the SMS body contains 【 or 】: the provider adds the approved signature itself",
                snippet(plan.body, at, at + 1),
                channel=plan.channel,
            )


class SegmentParams(_Params):
    chars_per_segment: int = Field(default=70, gt=0)
    chars_per_long_segment: int = Field(default=67, gt=0)
    max_segments: int = Field(default=1, ge=1)
    default_signature_length: int = Field(default=6, ge=0)
    variable_lengths: dict[str, int] = {
        "honorific": 3,
        "member_level": 4,
        "city": 4,
        "home_store": 10,
        "campaign_name": 12,
        "unsubscribe_url": 30,
        "coupon_code": 12,
        "end_time": 12,
    }


def estimate_length(body: str, signature: str | None, p: SegmentParams) -> int | None:
    """Characters of the body with typical variable values plus 【signature】; None if invalid."""
    sample = {name: "字" * p.variable_lengths.get(name, 8) for name in ALLOWED_VARIABLES}
    try:
        rendered = render_text(body, sample)
    except TemplateError:
        return None  # CN-06 reports the template itself
    sig = len(signature) + 2 if signature else p.default_signature_length
    return len(rendered) + sig


@rule(
    "OPS-01",
    source="carrier billing: 70 characters per SMS, 67 per part of a long SMS",
    severity=Severity.WARN,
    stage=Stage.CONTENT,
    channels=["sms"],
    params=SegmentParams,
    title="SMS fits the configured number of segments",
)
def sms_segments(ctx: RuleContext) -> Iterator[Finding]:
    p: SegmentParams = ctx.params
    for plan in ctx.channels:
        length = estimate_length(plan.body, ctx.config.channel(plan.channel).signature, p)
        if length is None:
            continue
        parts = 1 if length <= p.chars_per_segment else math.ceil(length / p.chars_per_long_segment)
        if parts > p.max_segments:
            yield ctx.finding(
                f"SMS of about {length} characters (with signature) is sent and billed as "
                f"{parts} segments (limit {p.max_segments})",
                f"{length} characters",
                channel=plan.channel,
            )
