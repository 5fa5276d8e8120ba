"""Impact assessment (CN-27, PIPL Art 55): a campaign that targets by automated segmentation
(RFM, scores, segments, lifecycle) or hands customer data to an outside provider cites an
approved personal-information impact assessment (spec `pia`, recorded with `pia add`); without
one it is held for a compliance officer's review."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from models.audience import Filter

AUTOMATED = ("rfm", "segment", "lifecycle")  # filter keys computed from behaviour, not given


class ImpactParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    segmentation: list[str] = list(AUTOMATED)  # filter keys that count as automated
    outside_processors: bool = True  # a configured provider (not the sandbox) needs one too


def automated_keys(audience: Filter, keys: list[str]) -> list[str]:
    """Which of `keys` the filter uses anywhere, walked without recursion."""
    found: set[str] = set()
    stack = [audience]
    while stack:
        node = stack.pop()
        found.update(k for k in keys if getattr(node, k, None) is not None)
        stack.extend(node.all or [])
        stack.extend(node.any or [])
        if node.not_ is not None:
            stack.append(node.not_)
    return sorted(found)


@rule(
    "CN-27",
    source="PIPL Art 55, Art 56",
    severity=Severity.REVIEW,
    stage=Stage.PLAN,
    params=ImpactParams,
    title="automated segmentation or outside processors rest on an approved impact assessment",
)
def impact_assessment(ctx: RuleContext) -> Iterator[Finding]:
    p: ImpactParams = ctx.params
    reasons = (
        [f"automated segmentation ({', '.join(k)})"]
        if (k := automated_keys(ctx.spec.audience, p.segmentation))
        else []
    )
    if p.outside_processors:
        outside = [
            f"{c.channel}: {name}"
            for c in ctx.channels
            if (name := ctx.config.named_provider(c.channel)) is not None
        ]
        if outside:
            reasons.append(f"outside processors ({', '.join(outside)})")
    if not reasons or ctx.plan.impact_assessment == "approved":
        return
    cited = ctx.spec.pia
    state = "cites none" if cited is None else f"cites {cited}, {ctx.plan.impact_assessment}"
    yield ctx.finding(
        f"the campaign uses {' and '.join(reasons)} without an approved personal-information "
        f"impact assessment (spec `pia`; `pia add` records one)",
        f"pia: {state}",
    )
