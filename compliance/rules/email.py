"""Email rules: an unsubscribe link in every marketing mail (CN-03), the 广告/AD subject label
for Chinese recipients (CN-12), and RFC 8058 one-click unsubscribe switched on (INT-08)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from pydantic import BaseModel, ConfigDict, Field, field_validator

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from content.sandbox import ALLOWED_VARIABLES, template_variables


class UnsubscribeParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variable: str = "unsubscribe_url"

    @field_validator("variable")
    @classmethod
    def _allowed(cls, v: str) -> str:
        if v not in ALLOWED_VARIABLES:
            raise ValueError(f"{v!r} is not a template variable templates may use")
        return v


@rule(
    "CN-03",
    source="广告法 Art 43(2); 互联网电子邮件服务管理办法 Art 13–14; CAN-SPAM; PECR reg 22",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    channels=["email"],
    params=UnsubscribeParams,
    title="every marketing email carries an unsubscribe link",
)
def email_unsubscribe_link(ctx: RuleContext) -> Iterator[Finding]:
    p: UnsubscribeParams = ctx.params
    for plan in (c for c in ctx.channels if c.marketing):
        if p.variable not in template_variables(plan.body):
            yield ctx.finding(
                f"marketing email body has no unsubscribe link: add {{{{ {p.variable} }}}}",
                f"variables used: {', '.join(sorted(template_variables(plan.body))) or 'none'}",
                channel=plan.channel,
            )


class AdLabelParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[str] = Field(default=["广告", "AD"], min_length=1)


def has_ad_label(subject: str, labels: list[str]) -> bool:
    """The subject starts with a label, optionally inside a leading bracket: 【广告】, [AD], AD:."""
    alternatives = "|".join(re.escape(label) for label in labels)
    return re.match(rf"^\s*[【\[(（]?\s*(?:{alternatives})(?![A-Za-z])", subject) is not None


@rule(
    "CN-12",
    source="互联网电子邮件服务管理办法 (MII Order 38) Art 13",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    channels=["email"],
    params=AdLabelParams,
    title="marketing email subject starts with 广告 or AD",
)
def email_ad_label(ctx: RuleContext) -> Iterator[Finding]:
    p: AdLabelParams = ctx.params
    for plan in (c for c in ctx.channels if c.marketing):
        subject = plan.subject or ""
        if not has_ad_label(subject, p.labels):
            yield ctx.finding(
                f"marketing email subject must start with {' or '.join(p.labels)}",
                f"subject: {subject[:40]}",
                channel=plan.channel,
            )


@rule(
    "INT-08",
    source="RFC 8058; Gmail/Yahoo bulk-sender requirements (2024)",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    channels=["email"],
    title="marketing email goes out with List-Unsubscribe one-click headers",
)
def email_one_click(ctx: RuleContext) -> Iterator[Finding]:
    for plan in (c for c in ctx.channels if c.marketing):
        if not ctx.config.channel(plan.channel).one_click_unsubscribe:
            yield ctx.finding(
                "the email channel is not configured for RFC 8058 one-click unsubscribe "
                "(channels.email.one_click_unsubscribe)",
                "one_click_unsubscribe: false",
                channel=plan.channel,
            )
