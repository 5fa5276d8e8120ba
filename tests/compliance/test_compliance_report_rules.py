"""The compliance report lists every registered rule with its outcome for the campaign (pass,
warn, review, block, not applicable), then the findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from typer.testing import CliRunner

import cli.main  # noqa: F401  (registers the commands)
from audit.log import append
from cli.common import app
from compliance.catalogue import NOT_IMPLEMENTED, NOT_IN_CHECK, OUTSIDE_CHECK
from compliance.check import evaluate_campaign
from compliance.outcome import Status
from compliance.plan_stats import PlanStats
from compliance.registry import all_rules
from db.engine import make_engine, session_scope
from models.tables import Campaign, ComplianceFinding
from tests.conftest import create_database, drop_database, migrate

AT = datetime(2025, 3, 1, tzinfo=UTC)
# every rule id of the compliance research: CN-01…CN-30 and INT-01…INT-09
RESEARCH_IDS = {f"CN-{n:02}" for n in range(1, 31)} | {f"INT-{n:02}" for n in range(1, 10)}


def test_the_report_knows_every_rule_of_the_research() -> None:
    registered = {rule_id.split(".")[0] for rule_id in all_rules()}
    elsewhere = {listed.rule_id for listed in NOT_IN_CHECK}
    assert not registered & elsewhere  # a rule the check runs is reported by the check
    assert RESEARCH_IDS <= registered | elsewhere


def test_every_registered_rule_has_an_outcome(make_spec, config) -> None:
    spec = make_spec(channels=[{"channel": "sms", "template": "t", "body": "全网最低价"}])
    result = evaluate_campaign(spec, PlanStats(planned_by_jurisdiction={"CN": 3}), config)
    outcome = {r.rule_id: r for r in result.rules}
    assert set(outcome) == set(all_rules())
    assert outcome["CN-13"].status is Status.BLOCK
    assert outcome["CN-06"].status is Status.PASS
    assert outcome["CN-03"].status is Status.NOT_APPLICABLE  # no email channel
    assert outcome["CN-03"].reason == "no channel it covers"
    assert {f.rule_id for f in result.findings} >= {"CN-13", "CN-04"}


def test_jurisdiction_and_switched_off_rules_say_why(make_spec, config_with) -> None:
    cfg = config_with({"CN-15": {"enabled": False}})
    result = evaluate_campaign(make_spec(), PlanStats(planned_by_jurisdiction={"US": 3}), cfg)
    outcome = {r.rule_id: r for r in result.rules}
    assert outcome["CN-12"].reason == "no recipient in CN"
    assert outcome["CN-15"].reason == "switched off in the compliance configuration"
    record = result.record()
    assert record["rules"]["CN-12"] == "not applicable"
    assert record["not_applicable"]["CN-12"] == "no recipient in CN"


@pytest.fixture
def db_url() -> Iterator[str]:
    url = create_database("omni_rules")
    migrate(url)
    yield url
    drop_database(url)


def test_report_lists_rules_and_findings(make_spec, config, db_url, monkeypatch) -> None:
    spec = make_spec(channels=[{"channel": "sms", "template": "t", "body": "全网最低价"}])
    result = evaluate_campaign(spec, PlanStats(), config)
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        session.add(
            Campaign(
                id="cmp-r",
                name="n",
                objective="promote",
                owner="ops",
                requested_by="ops",
                spec={},
                phase="compliance_failed",
                budget_limit=Decimal(1),
                created_at=AT,
                updated_at=AT,
            )
        )
        session.flush()
        session.add_all(
            ComplianceFinding(
                campaign_id="cmp-r",
                rule_id=f.rule_id,
                severity=f.severity.value,
                message=f.message,
                checked_at=AT,
            )
            for f in result.findings
        )
        append(
            session,
            at=AT,
            actor="compliance-check",
            action="compliance.checked",
            campaign_id="cmp-r",
            detail=result.record(),
        )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", db_url)
    out = CliRunner().invoke(app, ["compliance", "cmp-r", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    rules = {r["rule_id"]: r for r in doc["rules"]}
    assert [r["rule_id"] for r in doc["rules"]] == sorted(rules)
    assert set(rules) == set(all_rules()) | {listed.rule_id for listed in NOT_IN_CHECK}
    assert RESEARCH_IDS <= {rule_id.split(".")[0] for rule_id in rules}
    assert (rules["CN-10"]["status"], rules["INT-06"]["status"]) == (OUTSIDE_CHECK, NOT_IMPLEMENTED)
    assert rules["CN-10"]["reason"].startswith("acts at event")
    assert rules["CN-13"]["status"] == "block" and rules["CN-06"]["status"] == "pass"
    assert rules["CN-03"] == {
        "rule_id": "CN-03",
        "title": all_rules()["CN-03"].title,
        "status": "not applicable",
        "reason": "no channel it covers",
    }
    assert {f["rule_id"] for f in doc["findings"]} >= {"CN-13"}
    table = CliRunner().invoke(app, ["compliance", "cmp-r"])
    assert "CN-03" in table.stdout and "not applicable" in table.stdout
    assert "INT-07" in table.stdout and NOT_IMPLEMENTED in table.stdout


def test_report_before_any_check_says_not_checked(db_url, monkeypatch) -> None:
    engine = make_engine(db_url)
    with session_scope(engine) as session:
        session.add(
            Campaign(
                id="cmp-n",
                name="n",
                objective="promote",
                owner="ops",
                requested_by="ops",
                spec={},
                phase="research",
                budget_limit=Decimal(1),
                created_at=AT,
                updated_at=AT,
            )
        )
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", db_url)
    doc = json.loads(CliRunner().invoke(app, ["compliance", "cmp-n", "--json"]).stdout)
    checked = [r["status"] for r in doc["rules"] if r["rule_id"] in all_rules()]
    assert doc["findings"] == [] and set(checked) == {"not checked"}
