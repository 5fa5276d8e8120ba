"""Template safety (CN-06): only allow-listed variables, nothing that can execute code."""

from __future__ import annotations

from collections.abc import Iterator

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from compliance.text import texts
from content.sandbox import validate_template


@rule(
    "CN-06",
    source="provider template rules (variables only in approved slots); PIPL Art 6 "
    "data minimisation",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    title="templates use only allow-listed variables and no code",
)
def template_safety(ctx: RuleContext) -> Iterator[Finding]:
    for plan in ctx.channels:
        for part, text in texts(plan):
            problems = validate_template(text)
            if problems:
                yield ctx.finding(
                    f"the {plan.channel} {part} template uses {len(problems)} forbidden construct(s)",
                    "; ".join(problems),
                    channel=plan.channel,
                )
