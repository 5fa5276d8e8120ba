"""The international pack applies per recipient country: INT-03 (opt-out in every EU/UK
marketing message) and INT-05 (US email postal address) run only when a planned customer's
country is in their jurisdictions (groups such as EU expand to member states)."""

from __future__ import annotations

import pytest

from compliance.check import evaluate_campaign
from compliance.findings import Severity
from compliance.outcome import Status
from compliance.plan_stats import PlanStats

NO_OPT_OUT = [{"channel": "sms", "template": "t", "body": "新品到店。拒收请回复R"}]
BARE = [{"channel": "app_push", "template": "p", "body": "Spring sale in store now"}]
WITH_STOP = [{"channel": "app_push", "template": "p", "body": "Spring sale. Reply STOP to opt out"}]
ADDRESS = "1 Main St, Springfield, IL 62701"


def outcome(spec, config, **countries: int):
    result = evaluate_campaign(spec, PlanStats(planned_by_jurisdiction=countries), config)
    return {r.rule_id: r for r in result.rules}, result.findings


@pytest.mark.parametrize("country", ["DE", "FR", "NO", "GB", "EU"])
def test_eu_and_uk_recipients_bring_int03(make_spec, config, country) -> None:
    rules, findings = outcome(make_spec(channels=BARE), config, CN=5, **{country: 1})
    assert rules["INT-03"].status is Status.BLOCK
    [finding] = [f for f in findings if f.rule_id == "INT-03"]
    assert finding.channel == "app_push" and "{{ unsubscribe_url }}" in finding.message


def test_opt_out_wording_passes(make_spec, config) -> None:
    rules, _ = outcome(make_spec(channels=WITH_STOP), config, DE=1)
    assert rules["INT-03"].status is Status.PASS


def test_mainland_only_campaign_leaves_the_pack_out(make_spec, config) -> None:
    rules, findings = outcome(make_spec(channels=BARE), config, CN=5)
    assert rules["INT-03"].status is Status.NOT_APPLICABLE
    assert rules["INT-03"].reason == "no recipient in EU, EEA, GB"
    assert rules["INT-05"].status is Status.NOT_APPLICABLE
    assert not [f for f in findings if f.rule_id.startswith("INT-0") and f.rule_id != "INT-08"]


def test_us_email_needs_the_postal_address(make_spec, config, config_with) -> None:
    rules, findings = outcome(make_spec(), config, US=2)
    assert rules["INT-05"].status is Status.BLOCK
    [finding] = [f for f in findings if f.rule_id == "INT-05"]
    assert "postal_address" in finding.message and finding.severity is Severity.BLOCK
    cfg = config_with({"INT-05": {"jurisdictions": ["US"], "params": {"postal_address": ADDRESS}}})
    assert outcome(make_spec(), cfg, US=2)[0]["INT-05"].status is Status.BLOCK  # not in body
    channels = [
        {
            "channel": "email",
            "template": "m",
            "subject": "AD Spring",
            "body": f"Spring sale. {ADDRESS}. {{{{ unsubscribe_url }}}}",
        }
    ]
    assert outcome(make_spec(channels=channels), cfg, US=2)[0]["INT-05"].status is Status.PASS
