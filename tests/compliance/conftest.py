"""Factories for compliance tests: a clean campaign spec to vary, and a runner for one rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from compliance.check import check_campaign
from compliance.config import ComplianceConfig, load_config, parse_config
from compliance.findings import Finding
from compliance.plan_stats import PlanStats
from models.spec import CampaignSpec

CLEAN_SMS = "{{ honorific }}您好，{{ home_store }}春季新品到店，欢迎选购。拒收请回复R"
CLEAN_EMAIL = "{{ honorific }}您好，春季新品已到店。退订：{{ unsubscribe_url }}"


def spec_doc(**overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": "春季焕新",
        "objective": "promote",
        "owner": "ops",
        "audience": {"segment": ["loyal"]},
        "channels": [
            {"channel": "sms", "template": "spring_sms", "body": CLEAN_SMS},
            {
                "channel": "email",
                "template": "spring_mail",
                "subject": "【广告】春季新品",
                "body": CLEAN_EMAIL,
            },
        ],
        "send_window": {"start": "2025-03-01T09:00:00+08:00", "end": "2025-03-03T20:00:00+08:00"},
        "budget": {"limit": "1000"},
    }
    doc.update(overrides)
    return doc


@pytest.fixture(autouse=True)
def providers(monkeypatch: pytest.MonkeyPatch) -> None:
    """The deployment the rules are read against: SMS through aliyun, email over SMTP (a rule's
    provider is the configured one; tests about another or none change it)."""
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "sms=aliyun,email=smtp")


@pytest.fixture
def make_spec() -> Callable[..., CampaignSpec]:
    """A compliant spec; pass `channels=[...]` or any top-level field to change it."""

    def build(**overrides: Any) -> CampaignSpec:
        return CampaignSpec.model_validate(spec_doc(**overrides))

    return build


@pytest.fixture
def config() -> ComplianceConfig:
    return load_config()


@pytest.fixture
def run_rule(config: ComplianceConfig) -> Callable[..., list[Finding]]:
    """Findings of one rule only, with the default configuration (optionally changed)."""

    def run(
        rule_id: str,
        spec: CampaignSpec,
        plan: PlanStats | None = None,
        cfg: ComplianceConfig | None = None,
    ) -> list[Finding]:
        found = check_campaign(spec, plan or PlanStats(), cfg or config)
        return [f for f in found if f.rule_id == rule_id]

    return run


@pytest.fixture
def config_with(config: ComplianceConfig) -> Callable[..., ComplianceConfig]:
    """The default configuration with some top-level keys or rule settings replaced."""

    def build(rules: dict[str, Any] | None = None, **top: Any) -> ComplianceConfig:
        doc = config.model_dump(mode="json")
        for rule_id, settings in (rules or {}).items():
            doc["rules"][rule_id] = settings
        doc.update(top)
        return parse_config(doc)

    return build
