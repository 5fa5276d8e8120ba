"""CN-27 impact assessments: recorded only by a compliance officer's signed statement (`pia
add|list`), cited by a campaign's `pia`, and a campaign that segments automatically or uses an
outside provider without an approved, unexpired one gets a `review` finding (held)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

import cli.governance_commands  # noqa: F401  (registers the commands)
import cli.people_commands  # noqa: F401
import cli.pia_commands  # noqa: F401
from cli.common import app
from cli.errors import OperatorError
from compliance.check import check_campaign
from compliance.plan_stats import PlanStats
from db.engine import session_scope
from governance.pia import assessment_status, record_assessment
from governance.roles import NotAllowed
from models.spec import CampaignSpec
from models.tables import AuditEntry
from tests.governance.dbkit import fresh_database
from tests.people import KEYS, enroll_people

NOW = datetime.now(UTC)


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, dict[str, str]]]:
    with fresh_database() as (made, url):
        monkeypatch.setenv("DATABASE_URL", url)
        yield made, {"DATABASE_URL": url}


def run(env: dict[str, str], *args: str):
    return CliRunner().invoke(app, list(args), env=env)


def _pem(tmp_path: Path, person: str) -> str:
    from cryptography.hazmat.primitives import serialization

    path = tmp_path / f"{person}.pem"
    path.write_bytes(
        KEYS[person].private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(path)


def test_only_a_compliance_officer_records_an_assessment(
    db: tuple[Engine, dict[str, str]], tmp_path: Path
) -> None:
    engine, env = db
    with session_scope(engine) as s:
        enroll_people(s)
    officer, approver = _pem(tmp_path, "陈静"), _pem(tmp_path, "李娜")
    add = ("pia", "add", "PIA-2026-001", "--title", "会员唤醒画像", "--scope", "RFM, 短信服务商")
    refused = run(env, *add, "--as", "李娜", "--key", approver)
    assert isinstance(refused.exception, OperatorError)
    assert "not a compliance officer" in str(refused.exception)
    unsigned = run(env, *add, "--as", "陈静")
    assert isinstance(unsigned.exception, OperatorError)
    forged = run(env, *add, "--as", "陈静", "--key", approver)
    assert "belongs to 李娜" in str(forged.exception)
    ok = run(env, *add, "--valid-until", "2099-12-31", "--as", "陈静", "--key", officer)
    assert ok.exit_code == 0 and "PIA-2026-001 recorded, approved by 陈静" in ok.output
    twice = run(env, *add, "--as", "陈静", "--key", officer)
    assert "already recorded" in str(twice.exception)
    bad_id = run(env, "pia", "add", "no spaces!", "--title", "t", "--scope", "s", "--as", "陈静")
    assert isinstance(bad_id.exception, OperatorError) and bad_id.exception.code == 2
    assert "id: 'no spaces!'" in str(bad_id.exception)
    bad_date = run(env, *add, "--valid-until", "next year", "--as", "陈静", "--key", officer)
    assert bad_date.exception.code == 2 and "--valid-until" in str(bad_date.exception)
    [listed] = json.loads(run(env, "pia", "list", "--json").output)
    assert (listed["id"], listed["approved_by"]) == ("PIA-2026-001", "陈静")
    assert listed["valid_until"].startswith("2099-12-31")
    assert "PIA-2026-001" in run(env, "pia", "list").output
    with session_scope(engine) as s:
        actions = s.execute(select(AuditEntry.action, AuditEntry.actor)).all()
        assert ("pia.approved", "陈静") in actions
        assert assessment_status(s, "PIA-2026-001", NOW) == "approved"
        assert assessment_status(s, "PIA-2026-001", datetime(2100, 1, 2, tzinfo=UTC)) == "expired"
        assert assessment_status(s, "PIA-404", NOW) == "unknown"
        assert assessment_status(s, None, NOW) is None


def test_an_unsigned_record_is_refused(db: tuple[Engine, dict[str, str]]) -> None:
    engine, _ = db
    with session_scope(engine) as s, pytest.raises(NotAllowed, match="unsigned"):
        record_assessment(s, None, pia_id="PIA-1", title="t", scope="s", valid_until=None, at=NOW)
    with session_scope(engine) as s, pytest.raises(ValueError, match="valid_until"):
        record_assessment(
            s, None, pia_id="PIA-1", title="t", scope="s", valid_until=NOW - timedelta(1), at=NOW
        )


def spec(**overrides: Any) -> CampaignSpec:
    doc: dict[str, Any] = {
        "name": "唤醒",
        "objective": "reactivate",
        "owner": "ops",
        "audience": {"consent": "app_push"},
        "channels": [{"channel": "app_push", "template": "t", "body": "{{ honorific }}您好"}],
        "send_window": {"start": "2025-03-01T09:00:00+08:00", "end": "2025-03-03T20:00:00+08:00"},
        "quiet_hours": None,
        "budget": {"limit": "1000"},
    }
    return CampaignSpec.model_validate(doc | overrides)


def cn27(campaign: CampaignSpec, plan: PlanStats) -> list[tuple[str, str]]:
    return [
        (f.severity.value, f.evidence)
        for f in check_campaign(campaign, plan)
        if f.rule_id == "CN-27"
    ]


@pytest.fixture
def no_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OMNIREACH_CHANNEL_PROVIDERS", raising=False)


SEGMENTED = {"any": [{"not": {"rfm": {"r_score": {"gte": 4}}}}, {"tag": ["vip"]}]}


def test_automated_segmentation_needs_an_approved_assessment(no_providers: None) -> None:
    assert cn27(spec(), PlanStats()) == []  # consent only, sandbox: nothing to assess
    held = cn27(spec(audience=SEGMENTED), PlanStats())
    assert held == [("review", "pia: cites none")]
    for computed in ({"segment": ["loyal"]}, {"all": [{"lifecycle": ["at_risk"]}]}):
        assert cn27(spec(audience=computed), PlanStats()) == [("review", "pia: cites none")]
    assert cn27(spec(audience={"tag": ["vip"]}), PlanStats()) == []  # given, not computed
    finding = next(
        f for f in check_campaign(spec(audience=SEGMENTED), PlanStats()) if f.rule_id == "CN-27"
    )
    assert "automated segmentation (rfm)" in finding.message
    unknown = cn27(spec(audience=SEGMENTED, pia="PIA-9"), PlanStats(impact_assessment="unknown"))
    assert unknown == [("review", "pia: cites PIA-9, unknown")]
    expired = PlanStats(impact_assessment="expired")
    assert cn27(spec(audience={"lifecycle": ["dormant"]}, pia="PIA-1"), expired) == [
        ("review", "pia: cites PIA-1, expired")
    ]
    approved = PlanStats(impact_assessment="approved")
    assert cn27(spec(audience=SEGMENTED, pia="PIA-1"), approved) == []


def test_an_outside_processor_needs_one_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "app_push=jpush")
    [finding] = [f for f in check_campaign(spec(), PlanStats()) if f.rule_id == "CN-27"]
    assert "outside processors (app_push: jpush)" in finding.message
    assert cn27(spec(pia="PIA-1"), PlanStats(impact_assessment="approved")) == []
