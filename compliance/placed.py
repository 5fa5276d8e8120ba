"""A journey's content rules run on each step's and A/B variant's copy apart, so a finding says
which copy it is in; a finding every copy shares (the campaign's own copy, or one not about
copy at all) reads as it does for a one-send campaign."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from compliance.findings import Finding, Stage
from compliance.registry import RuleContext
from models.spec import ChannelPlan, ContentKey

Keyed = tuple[ContentKey, ChannelPlan]


def place(key: ContentKey) -> str:
    """How a finding names a journey step's content: `remind` or `first variant B`."""
    _, step, variant = key
    return f"{step} variant {variant}" if variant else str(step)


def run_rule(ctx: RuleContext, scoped: Sequence[Keyed]) -> list[Finding]:
    """The rule's findings over `scoped`; per step and variant for a journey's content rules."""
    if ctx.rule.stage is not Stage.CONTENT or not ctx.spec.journey:
        return list(ctx.rule.check(replace(ctx, channels=tuple(p for _, p in scoped))))
    groups: dict[str, list[ChannelPlan]] = {}
    for key, plan in scoped:
        groups.setdefault(place(key), []).append(plan)
    places: dict[Finding, list[str]] = {}
    for where, plans in groups.items():
        for finding in ctx.rule.check(replace(ctx, channels=tuple(plans))):
            places.setdefault(finding, []).append(where)
    return [
        f
        if len(where) == len(groups)
        else f.model_copy(update={"message": f"{f.message} (journey step {', '.join(where)})"})
        for f, where in places.items()
    ]
