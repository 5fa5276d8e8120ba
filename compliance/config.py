"""Which rules apply (per jurisdiction, channel, provider) and with what parameters.

The rule set is configuration: `config/compliance/default.yaml`, or the file named by
OMNIREACH_COMPLIANCE_CONFIG. A rule not listed there does not run. Every problem in the file
is reported with its place (`rules.CN-13.params.tier_a`), never as a traceback.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from channels.configured import real_provider
from compliance.findings import Severity
from compliance.registry import all_rules
from models.audience import ChannelName
from settings import ROOT, settings

DEFAULT_PATH = ROOT / "config" / "compliance" / "default.yaml"


class ConfigError(ValueError):
    """The compliance configuration file is missing or invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ChannelSettings(_Strict):
    """Facts about how a channel is set up, which rules check (provider, one-click, signature).

    `provider` left out: the one the deployment configures (`OMNIREACH_CHANNEL_PROVIDERS`), or
    "default" (rules then apply their strictest setting) when the channel has none.
    """

    provider: str = "default"
    one_click_unsubscribe: bool = False
    signature: str | None = Field(default=None, min_length=2, max_length=16, pattern=r"^[^【】]+$")


class RuleSettings(_Strict):
    """Whether a rule runs, where, how severe, with which parameters (None = everywhere)."""

    enabled: bool = True
    severity: Severity | None = None
    jurisdictions: list[str] | None = None
    channels: list[ChannelName] | None = None
    providers: list[str] | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ComplianceConfig(_Strict):
    version: Literal[1] = 1
    default_jurisdiction: str = "CN"
    # Names a rule's `jurisdictions` may use for several countries (EU: its member states), so
    # a pack of rules (INT-…) applies to every customer whose country is in it.
    jurisdiction_groups: dict[str, list[str]] = Field(default_factory=dict)
    channels: dict[ChannelName, ChannelSettings] = Field(default_factory=dict)
    rules: dict[str, RuleSettings]

    @model_validator(mode="after")
    def _known_rules(self) -> ComplianceConfig:
        registered = all_rules()
        for rule_id, given in self.rules.items():
            rule = registered.get(rule_id)
            if rule is None:
                known = ", ".join(sorted(registered))
                raise ValueError(f"rules.{rule_id}: no such rule (known: {known})")
            if given.channels and rule.channels is not None:
                extra = sorted(set(given.channels) - rule.channels)
                if extra:
                    raise ValueError(
                        f"rules.{rule_id}.channels: {', '.join(extra)} not covered by this rule "
                        f"(it applies to {', '.join(sorted(rule.channels))})"
                    )
            try:
                rule.params.model_validate(given.params)
            except ValidationError as exc:
                raise ValueError(f"rules.{rule_id}.params: {_describe(exc)}") from None
        return self

    def countries(self, jurisdictions: list[str]) -> set[str]:
        """The jurisdictions with every group expanded to its countries (the group name kept:
        a recipient known only as "EU" still matches)."""
        return {c for j in jurisdictions for c in (j, *self.jurisdiction_groups.get(j, []))}

    def channel(self, name: str) -> ChannelSettings:
        settings: ChannelSettings = self.channels.get(  # type: ignore[call-overload]
            name, ChannelSettings()
        )
        configured = real_provider(name)
        if "provider" in settings.model_fields_set or configured is None:
            return settings
        return settings.model_copy(update={"provider": configured})

    def named_provider(self, name: str) -> str | None:
        """The channel's provider, or None when none is configured (never "default")."""
        provider = self.channel(name).provider
        return None if provider == "default" else provider

    def params(self, rule_id: str) -> Any:
        """The parsed parameters of a configured rule."""
        return all_rules()[rule_id].params.model_validate(self.rules[rule_id].params)


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)


def parse_config(doc: object, origin: str = "compliance config") -> ComplianceConfig:
    """Validate an already-loaded YAML/JSON document."""
    try:
        return ComplianceConfig.model_validate(doc)
    except ValidationError as exc:
        raise ConfigError(f"{origin}: {_describe(exc)}") from None


@lru_cache(maxsize=8)
def _load(path: Path, mtime: float) -> ComplianceConfig:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{path.name}{where}: not valid YAML ({exc})") from None
    return parse_config(doc, path.name)


def load_config(path: Path | None = None) -> ComplianceConfig:
    """Load and validate the compliance configuration (cached until the file changes)."""
    path = path or settings().compliance_config or DEFAULT_PATH
    try:
        mtime = path.stat().st_mtime
    except OSError as exc:
        raise ConfigError(f"cannot read compliance config {path.name}: {exc.strerror}") from None
    return _load(path.resolve(), mtime)
