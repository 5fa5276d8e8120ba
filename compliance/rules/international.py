"""The international pack's content rules, for campaigns with recipients in their countries
(config: `jurisdictions`, groups such as EU in `jurisdiction_groups`; a customer's country comes
from the import, ingest.country): an opt-out in every EU/UK marketing message (INT-03) and a
postal address in US marketing email (INT-05)."""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from compliance.text import find_terms, texts
from content.sandbox import template_variables


class OptOutParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variable: str = "unsubscribe_url"
    wording: list[str] = Field(
        default=["STOP", "unsubscribe", "opt out", "退订", "拒收请回复R"], min_length=1
    )


@rule(
    "INT-03",
    source="ePrivacy Directive 2002/58/EC Art 13; UK PECR reg 22 (ICO guidance)",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    channels=["sms", "email", "app_push", "wechat_oa", "wechat_mini", "wecom", "alipay"],
    params=OptOutParams,
    title="every marketing message to EU/UK recipients carries a way to opt out",
)
def opt_out_in_every_message(ctx: RuleContext) -> Iterator[Finding]:
    p: OptOutParams = ctx.params
    for plan in (c for c in ctx.channels if c.marketing):
        parts = texts(plan)
        linked = any(p.variable in template_variables(text) for _, text in parts)
        if not linked and not any(find_terms(text, p.wording) for _, text in parts):
            yield ctx.finding(
                f"marketing {plan.channel} message to EU/UK recipients offers no opt-out: add "
                f"{{{{ {p.variable} }}}} or opt-out wording ({', '.join(p.wording)})",
                f"{plan.channel} template {plan.template}",
                channel=plan.channel,
            )


class PostalAddressParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    postal_address: str | None = Field(default=None, min_length=5, max_length=300)


@rule(
    "INT-05",
    source="US CAN-SPAM Act (15 U.S.C. 7704(a)(5); 16 CFR 316)",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    channels=["email"],
    params=PostalAddressParams,
    title="marketing email to US recipients shows the sender's postal address",
)
def postal_address(ctx: RuleContext) -> Iterator[Finding]:
    p: PostalAddressParams = ctx.params
    for plan in (c for c in ctx.channels if c.marketing):
        if p.postal_address is None:
            yield ctx.finding(
                "marketing email to US recipients needs the sender's postal address: set "
                "rules.INT-05.params.postal_address in the compliance configuration",
                "postal_address not configured",
                channel=plan.channel,
            )
        elif p.postal_address not in plan.body:
            yield ctx.finding(
                "marketing email to US recipients does not show the sender's postal address",
                p.postal_address,
                channel=plan.channel,
            )
