"""The rule registry: each rule is a small unit with an id, a source, a default severity,
the stage it runs in, the channels it can apply to, a parameter model and a check function.

Rule modules register themselves on import (`compliance.rules`); configuration decides which
registered rules run, where, and with which parameters.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from compliance.findings import Finding, Severity, Stage
from compliance.plan_stats import PlanStats
from models.spec import CampaignSpec, ChannelPlan

if TYPE_CHECKING:
    from compliance.config import ComplianceConfig


class NoParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class RuleContext:
    """Everything a check may look at, already narrowed to the channels the rule covers."""

    rule: Rule
    spec: CampaignSpec
    plan: PlanStats
    config: ComplianceConfig
    params: Any
    severity: Severity
    channels: tuple[ChannelPlan, ...]

    def provider(self, channel: str) -> str:
        return self.config.channel(channel).provider

    def provider_named(self, channel: str) -> str:
        """How a finding names the channel's provider, never "default" when none is set."""
        name = self.config.named_provider(channel)
        return f"provider {name}" if name else "no provider configured"

    def finding(
        self,
        message: str,
        evidence: str = "",
        *,
        channel: str | None = None,
        severity: Severity | None = None,
    ) -> Finding:
        """A finding of this rule; a configured severity override beats the check's own choice."""
        override = self.config.rules[self.rule.id].severity
        sev = override or severity or self.severity
        scope = f"{channel} messages" if channel else "the plan"
        blocked = f"campaign stopped before any send ({scope})" if sev is Severity.BLOCK else ""
        return Finding(
            rule_id=self.rule.id,
            severity=sev,
            message=message,
            evidence=evidence,
            blocked=blocked,
            source=self.rule.source,
            channel=channel,
        )


Check = Callable[[RuleContext], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """One rule. `channels` None: not tied to a channel type (plan rules, CN-06)."""

    id: str
    source: str
    severity: Severity
    stage: Stage
    check: Check
    title: str
    channels: frozenset[str] | None = None
    params: type[BaseModel] = field(default=NoParams)


_RULES: dict[str, Rule] = {}


def rule(
    id: str,
    *,
    source: str,
    severity: Severity,
    stage: Stage,
    title: str,
    channels: Iterable[str] | None = None,
    params: type[BaseModel] = NoParams,
) -> Callable[[Check], Check]:
    """Decorator registering a check function as a rule."""

    def register(check: Check) -> Check:
        if id in _RULES:
            raise ValueError(f"rule {id} is registered twice")
        chans = frozenset(channels) if channels is not None else None
        _RULES[id] = Rule(id, source, severity, stage, check, title, chans, params)
        return check

    return register


def all_rules() -> dict[str, Rule]:
    """Every registered rule by id (importing the rule modules on first use)."""
    importlib.import_module("compliance.rules")
    return dict(_RULES)
