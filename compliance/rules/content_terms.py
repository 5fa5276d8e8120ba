"""Wording rules: absolute terms of the Advertising Law (CN-13) and promotion periods (CN-14)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from compliance.text import find_terms, mask_spans, snippet, texts
from content.sandbox import template_variables

Tier = Literal["A", "B", "C"]
MAX_EVIDENCE = 3


def compile_all(patterns: list[str]) -> list[str]:
    for i, pattern in enumerate(patterns):
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"pattern {i} {pattern!r} is not a valid regex: {exc}") from None
    return patterns


class TermParams(BaseModel):
    """Tiers A and B are literal terms; tier C are patterns for context-dependent uses."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tier_a: list[str] = ["国家级", "最高级", "最佳"]
    tier_b: list[str] = Field(default_factory=list)
    tier_c: list[str] = Field(default_factory=list)
    tier_severity: dict[Tier, Severity] = {
        "A": Severity.BLOCK,
        "B": Severity.BLOCK,
        "C": Severity.REVIEW,
    }

    @field_validator("tier_c")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return compile_all(v)


def _tier_c_spans(text: str, patterns: list[str]) -> list[tuple[int, int]]:
    return [m.span() for p in patterns for m in re.finditer(p, text, re.IGNORECASE)]


def _scan(text: str, p: TermParams) -> Iterator[tuple[Tier, list[tuple[int, int]]]]:
    """Spans per tier; tier C first so a lawful context is reviewed, not blocked."""
    c_spans = _tier_c_spans(text, p.tier_c)
    yield "C", c_spans
    remaining = mask_spans(text, c_spans)
    a_spans = [m.span() for m in find_terms(remaining, p.tier_a)]
    yield "A", a_spans
    remaining = mask_spans(remaining, a_spans)
    yield "B", [m.span() for m in find_terms(remaining, p.tier_b)]


@rule(
    "CN-13",
    source="广告法 Art 9(3); SAMR 广告绝对化用语执法指南 (2023 No. 6)",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    params=TermParams,
    title="no absolute terms (最/第一/国家级 …); context-dependent uses go to review",
)
def absolute_terms(ctx: RuleContext) -> Iterator[Finding]:
    p: TermParams = ctx.params
    for plan in ctx.channels:
        for part, text in texts(plan):
            for tier, spans in _scan(text, p):
                if not spans:
                    continue
                spans.sort()
                found = sorted({text[s:e] for s, e in spans})
                what = "context-dependent superlative" if tier == "C" else "absolute term"
                yield ctx.finding(
                    f"{what} ({'、'.join(found)}, tier {tier}) in the {plan.channel} {part}",
                    " | ".join(snippet(text, s, e) for s, e in spans[:MAX_EVIDENCE]),
                    channel=plan.channel,
                    severity=p.tier_severity[tier],
                )


class PromotionParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    urgency_terms: list[str] = [
        "限时",
        "今日",
        "今天",
        "仅限",
        "倒计时",
        "趁现在",
        "周年庆",
        "闪购",
    ]
    banned_terms: list[str] = ["随时结束", "随时涨价", "马上降价"]
    banned_severity: Severity = Severity.REVIEW
    end_time_variable: str = "end_time"
    end_time_patterns: list[str] = [
        r"\d{1,2}\s*月\s*\d{1,2}\s*[日号]",
        r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}",
        r"\d{1,2}\s*[:：]\s*\d{2}",
        r"\d{1,2}/\d{1,2}",
    ]

    @field_validator("end_time_patterns")
    @classmethod
    def _patterns(cls, v: list[str]) -> list[str]:
        return compile_all(v)


def _has_end_time(text: str, p: PromotionParams) -> bool:
    if p.end_time_variable in template_variables(text):
        return True
    return any(re.search(pattern, text) for pattern in p.end_time_patterns)


@rule(
    "CN-14",
    source="规范促销行为暂行规定 (SAMR 2020); platform urgency-word rules",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    params=PromotionParams,
    title="limited-time promotions state their end time",
)
def promotion_period(ctx: RuleContext) -> Iterator[Finding]:
    p: PromotionParams = ctx.params
    for plan in (c for c in ctx.channels if c.marketing):
        parts = texts(plan)
        for part, text in parts:
            for m in find_terms(text, p.banned_terms)[:1]:
                yield ctx.finding(
                    f"urgency claim {m.group()!r} in the {plan.channel} {part} is commonly banned",
                    snippet(text, *m.span()),
                    channel=plan.channel,
                    severity=p.banned_severity,
                )
        urgent = [
            (part, text, m) for part, text in parts for m in find_terms(text, p.urgency_terms)
        ]
        if urgent and not any(_has_end_time(text, p) for _, text in parts):
            part, text, m = urgent[0]
            yield ctx.finding(
                f"limited-time wording {m.group()!r} in the {plan.channel} {part} without an end "
                f"time: add {{{{ {p.end_time_variable} }}}} or a date/time",
                snippet(text, *m.span()),
                channel=plan.channel,
            )
