"""Compliance of website pop-up lines (弹窗规定 2022; 广告法 Art 14, 44; 互联网广告管理办法 2023).

- CN-16.popup: the pop-up is labelled 广告 and shows who pushes it (provider identity).
- CN-17: it closes with one click, from the first moment (no countdown, no second step).
- CN-18: its frequency per user and day is declared (and within the configured cap), and so
  is how a user turns the pop-ups off.

`popup_problems` is the plain check; the three rules report its problems with their ids. They
look at the spec's `broadcast` lines, so they run on every campaign and find nothing when it
has no pop-up line.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from compliance.findings import Finding, Severity, Stage
from compliance.registry import RuleContext, rule
from models.broadcast_lines import BroadcastLine
from models.spec import CampaignSpec

AD_LABEL = "广告"
DEFAULT_MAX_PER_DAY = 3


@dataclass(frozen=True)
class Problem:
    rule_id: str
    message: str
    evidence: str
    severity: Severity = Severity.BLOCK


def popup_problems(line: BroadcastLine, max_per_day: int = DEFAULT_MAX_PER_DAY) -> list[Problem]:
    """What is wrong with one line (nothing for lines that are not pop-ups)."""
    if line.channel != "website_popup":
        return []
    where = f"line {line.key}"
    found = []
    if (line.ad_label or "").strip() != AD_LABEL:
        found.append(
            Problem(
                "CN-16.popup",
                f"the pop-up must carry the label {AD_LABEL}",
                f"{where}: ad_label {line.ad_label or 'missing'}",
            )
        )
    if not (line.provider_identity or "").strip():
        found.append(
            Problem(
                "CN-16.popup",
                "the pop-up must show who pushes it (provider_identity)",
                f"{where}: provider_identity missing",
            )
        )
    if line.close_behaviour != "one_click":
        found.append(
            Problem(
                "CN-17",
                "the pop-up must close with one click at once (close_behaviour: one_click)",
                f"{where}: close_behaviour {line.close_behaviour or 'missing'}",
            )
        )
    if line.max_per_day is None:
        found.append(
            Problem(
                "CN-18",
                "the pop-up frequency per user and day must be declared (max_per_day)",
                f"{where}: max_per_day missing",
            )
        )
    elif line.max_per_day > max_per_day:
        found.append(
            Problem(
                "CN-18",
                f"the pop-up shows more than {max_per_day} times a day per user",
                f"{where}: max_per_day {line.max_per_day}",
                Severity.REVIEW,
            )
        )
    if not (line.cancel_path or "").strip():
        found.append(
            Problem(
                "CN-18",
                "users must be told how to turn the pop-ups off (cancel_path)",
                f"{where}: cancel_path missing",
            )
        )
    return found


def check_popup_line(line: BroadcastLine, max_per_day: int = DEFAULT_MAX_PER_DAY) -> list[str]:
    """The problems of one line as text, each starting with its rule id."""
    return [f"{p.rule_id}: {p.message} ({p.evidence})" for p in popup_problems(line, max_per_day)]


def _lines(spec: CampaignSpec) -> Sequence[BroadcastLine]:
    """The spec's broadcast lines (the `broadcast` field; absent in specs without it)."""
    return getattr(spec, "broadcast", None) or ()


def _findings(ctx: RuleContext, max_per_day: int = DEFAULT_MAX_PER_DAY) -> Iterator[Finding]:
    for line in _lines(ctx.spec):
        for problem in popup_problems(line, max_per_day):
            if problem.rule_id == ctx.rule.id:
                yield ctx.finding(problem.message, problem.evidence, severity=problem.severity)


class FrequencyParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_per_day: int = Field(default=DEFAULT_MAX_PER_DAY, ge=1, le=100)


@rule(
    "CN-16.popup",
    source="广告法 Art 14; 互联网广告管理办法 (2023); 互联网弹窗信息推送服务管理规定",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    title="website pop-ups are labelled 广告 and show the provider's identity",
)
def popup_identified(ctx: RuleContext) -> Iterator[Finding]:
    return _findings(ctx)


@rule(
    "CN-17",
    source="广告法 Art 44(2); 互联网广告管理办法 (2023); 互联网弹窗信息推送服务管理规定",
    severity=Severity.BLOCK,
    stage=Stage.CONTENT,
    title="website pop-ups close with one click",
)
def popup_one_click_close(ctx: RuleContext) -> Iterator[Finding]:
    return _findings(ctx)


@rule(
    "CN-18",
    source="互联网弹窗信息推送服务管理规定 (2022)",
    severity=Severity.BLOCK,
    stage=Stage.PLAN,
    params=FrequencyParams,
    title="website pop-ups declare their frequency and how to turn them off",
)
def popup_frequency(ctx: RuleContext) -> Iterator[Finding]:
    params: FrequencyParams = ctx.params
    return _findings(ctx, params.max_per_day)
