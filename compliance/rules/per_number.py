"""CN-08 in the compliance check: the campaign's channels go to providers whose per-number
limits our caps stay within (the worker refuses to start otherwise; see
compliance.provider_limits)."""

from __future__ import annotations

from collections.abc import Iterator

from compliance.findings import Finding, Severity, Stage
from compliance.provider_limits import LimitParams, overruns
from compliance.registry import RuleContext, rule
from policy.frequency_cap import load_caps


@rule(
    "CN-08",
    source="provider per-number flow control (Alibaba Cloud, Tencent Cloud, Huawei Cloud SMS)",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    params=LimitParams,
    title="our per-customer caps stay within every provider's per-number limits",
)
def per_number_limits(ctx: RuleContext) -> Iterator[Finding]:
    p: LimitParams = ctx.params
    providers: dict[str, str] = {
        c.channel: name for c in ctx.channels if (name := ctx.config.named_provider(c.channel))
    }
    for overrun in overruns(load_caps(), providers, p.provider_limits):
        yield ctx.finding(
            overrun.describe(),
            f"{overrun.cap}; {overrun.provider} {overrun.limit}/{overrun.window}",
            channel=overrun.channel,
        )
