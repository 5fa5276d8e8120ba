"""Channel gates: a channel closed to some customers, or open to them only with a separate
consent, decided by the compliance configuration and the deployment's providers.

- CN-23: a promotional app push needs the separate push-marketing consent (purpose
  `push_marketing`); the OS permission to show notifications is not marketing consent.
- CN-28: a channel whose provider is overseas is closed to mainland customers unless the legal
  transfer mechanism is recorded, and then needs their separate consent (`cross_border`) when
  the mechanism does.
Planning leaves gated customers off the channel (the reason in the plan), the send-time check
stops them again, and the plan rules CN-23 and CN-28 count any that got through.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from compliance.config import ComplianceConfig
from models.spec import CampaignSpec

Mechanism = Literal["security_assessment", "certification", "standard_contract", "exemption"]


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PushParams(_Params):
    purpose: Literal["push_marketing"] = "push_marketing"


class Transfer(_Params):
    """A recorded legal basis for sending customer data to one overseas provider (PIPL art. 38)."""

    mechanism: Mechanism
    reference: str = Field(min_length=1, max_length=200)  # filing no., contract id, …
    recorded: date
    separate_consent: bool = True  # PIPL art. 39; false only where an exemption applies


class CrossBorderParams(_Params):
    overseas_providers: list[str] = Field(default_factory=list)
    transfers: dict[str, Transfer] = Field(default_factory=dict)
    countries: list[str] = ["CN"]  # whose data may not leave without a basis
    purpose: Literal["cross_border"] = "cross_border"

    @model_validator(mode="after")
    def _overseas_only(self) -> CrossBorderParams:
        stray = sorted(set(self.transfers) - set(self.overseas_providers))
        if stray:
            raise ValueError(
                f"transfers: {', '.join(stray)} not in overseas_providers (a transfer mechanism "
                "is recorded for an overseas provider)"
            )
        return self


@dataclass(frozen=True)
class Gate:
    """Customers (of `countries`, None: all) reach `channel` only with a current grant for
    `purpose` (None: not at all); the others are left off with `reason`."""

    rule_id: str
    channel: str
    reason: str
    purpose: str | None
    countries: frozenset[str] | None
    default_country: str
    why: str


def _on(config: ComplianceConfig, rule_id: str) -> bool:
    return rule_id in config.rules and config.rules[rule_id].enabled


def _push(spec: CampaignSpec, config: ComplianceConfig) -> list[Gate]:
    p: PushParams = config.params("CN-23")
    return [
        Gate(
            "CN-23",
            plan.channel,
            "no_push_consent",
            p.purpose,
            None,
            config.default_jurisdiction,
            "promotional app pushes need the separate push-marketing consent",
        )
        for plan in spec.channels
        if plan.channel == "app_push" and plan.marketing
    ]


def _cross_border(spec: CampaignSpec, config: ComplianceConfig) -> list[Gate]:
    p: CrossBorderParams = config.params("CN-28")
    gates = []
    for plan in spec.channels:
        provider = config.named_provider(plan.channel)
        if provider not in p.overseas_providers:
            continue
        transfer = p.transfers.get(provider)
        if transfer is not None and not transfer.separate_consent:
            continue
        where = ", ".join(p.countries)
        if transfer is None:
            reason, purpose = "cross_border", None
            why = f"no legal transfer mechanism recorded, so it is closed to customers in {where}"
        else:
            reason, purpose = "no_xb_consent", p.purpose
            why = (
                f"customers in {where} need their separate cross-border consent "
                f"({transfer.mechanism} {transfer.reference})"
            )
        gates.append(
            Gate(
                "CN-28",
                plan.channel,
                reason,
                purpose,
                frozenset(p.countries),
                config.default_jurisdiction,
                f"{plan.channel} goes to overseas provider {provider}: {why}",
            )
        )
    return gates


def channel_gates(spec: CampaignSpec, config: ComplianceConfig) -> list[Gate]:
    """The gates of this campaign's channels under the configuration and providers."""
    return [
        *(_push(spec, config) if _on(config, "CN-23") else []),
        *(_cross_border(spec, config) if _on(config, "CN-28") else []),
    ]
