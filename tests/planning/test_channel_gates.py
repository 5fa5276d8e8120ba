"""Channel gates, where they act: planning leaves gated customers off the channel with the
reason in the plan (CN-23 push-marketing consent, CN-28 cross-border transfer), the send-time
check stops them again, and the plan rules count any that got through."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from compliance.check import check_campaign, minimum_age
from compliance.config import DEFAULT_PATH
from compliance.findings import Severity
from models.spec import CampaignSpec
from models.tables import ConsentEvent, PlannedSend
from planning.plan import make_plan
from planning.plan_stats import plan_stats
from planning.report import load_plan_report
from sending.checks import screen
from sending.claim import Claimed
from tests.profiles.seed import D, campaign, consent, customer, make_spec

PUSH = {"channel": "app_push", "template": "t_push", "body": "新品到店"}
NOTICE = PUSH | {"marketing": False, "body": "您的订单已发货"}


def grant(session: Session, cid: int, purpose: str, granted: bool = True, days: int = 1) -> None:
    session.add(
        ConsentEvent(
            customer_id=cid,
            channel="app_push",
            purpose=purpose,
            granted=granted,
            source="app",
            recorded_at=D.replace(hour=days),
        )
    )
    session.flush()


def pushable(session: Session, cid: int, country: str | None = None) -> None:
    customer(session, cid, device_id=f"dev-{cid}", country=country)
    consent(session, cid, "app_push")


def plan(session: Session, campaign_id: str, spec: CampaignSpec) -> None:
    campaign(session, campaign_id, spec)
    take_snapshot(session, campaign_id, spec, D)
    make_plan(session, campaign_id, spec, D)


def planned(session: Session, campaign_id: str) -> set[int]:
    return set(
        session.execute(
            select(PlannedSend.customer_id).where(PlannedSend.campaign_id == campaign_id)
        ).scalars()
    )


def not_planned(session: Session, campaign_id: str) -> dict[str, int]:
    report = load_plan_report(session, campaign_id)
    assert report is not None
    return dict(report["not_planned"])


def claims(session: Session, campaign_id: str) -> list[Claimed]:
    rows = session.execute(
        select(PlannedSend).where(PlannedSend.campaign_id == campaign_id)
    ).scalars()
    return [
        Claimed(r.id, r.customer_id, r.channel, r.template, Decimal(0), r.idempotency_key, 0)
        for r in rows
    ]


def test_promotional_push_needs_push_marketing_consent(session: Session) -> None:
    for cid in (1, 2, 3):
        pushable(session, cid)
    grant(session, 2, "push_marketing")
    grant(session, 3, "push_marketing")
    grant(session, 3, "push_marketing", granted=False, days=2)  # opted out in the app later
    spec = make_spec(channels=[PUSH], holdout_percent=0)
    plan(session, "g1", spec)
    assert planned(session, "g1") == {2}
    assert not_planned(session, "g1") == {"no_push_consent": 2}


def test_transactional_push_does_not(session: Session) -> None:
    for cid in (1, 2):
        pushable(session, cid)
    spec = make_spec(channels=[NOTICE], holdout_percent=0)
    plan(session, "g2", spec)
    assert planned(session, "g2") == {1, 2}
    out = screen(session, claims(session, "g2"), spec, D)
    assert not out.suppressed and {c.customer_id for c, _ in out.ready} == {1, 2}


def test_an_opt_out_after_planning_stops_the_send_and_the_plan_rule(session: Session) -> None:
    for cid in (1, 2):
        pushable(session, cid)
        grant(session, cid, "push_marketing")
    spec = make_spec(channels=[PUSH], holdout_percent=0)
    plan(session, "g3", spec)
    assert planned(session, "g3") == {1, 2}
    grant(session, 2, "push_marketing", granted=False, days=3)
    stats = plan_stats(session, "g3", spec, minimum_age(), D)
    assert stats.planned_past_gates == {"CN-23": 1}
    [finding] = [f for f in check_campaign(spec, stats) if f.rule_id == "CN-23"]
    assert finding.severity is Severity.BLOCK and finding.evidence == "1 planned sends"
    out = screen(session, claims(session, "g3"), spec, D)
    assert [(c.customer_id, why) for c, why in out.suppressed] == [(2, "no_push_consent")]
    assert [c.customer_id for c, _ in out.ready] == [1]


def _transfers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **fcm: object) -> None:
    doc = yaml.safe_load(DEFAULT_PATH.read_text(encoding="utf-8"))
    doc["rules"]["CN-28"]["params"]["transfers"] = {
        "fcm": {"mechanism": "standard_contract", "reference": "SC-2025-001", **fcm}
    }
    path = tmp_path / "compliance.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("OMNIREACH_COMPLIANCE_CONFIG", str(path))


@pytest.fixture
def overseas(session: Session, monkeypatch: pytest.MonkeyPatch) -> Session:
    """App pushes through FCM (overseas); customers 1 (CN), 2 (country unknown), 3 (DE), all
    with push-marketing consent; 1 also consented to the transfer abroad."""
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "app_push=fcm")
    for cid, country in ((1, "CN"), (2, None), (3, "DE")):
        pushable(session, cid, country=country)
        grant(session, cid, "push_marketing")
    grant(session, 1, "cross_border")
    return session


def test_no_recorded_mechanism_closes_the_channel_to_mainland_customers(overseas) -> None:
    spec = make_spec(channels=[PUSH], holdout_percent=0)
    plan(overseas, "x1", spec)
    assert planned(overseas, "x1") == {3}
    assert not_planned(overseas, "x1") == {"cross_border": 2}
    stats = plan_stats(overseas, "x1", spec, minimum_age(), D)
    [finding] = [f for f in check_campaign(spec, stats) if f.rule_id == "CN-28"]
    assert finding.severity is Severity.WARN and "overseas provider fcm" in finding.message
    assert "closed to customers in CN" in finding.message


def test_a_recorded_mechanism_needs_separate_consent(overseas, tmp_path, monkeypatch) -> None:
    _transfers(tmp_path, monkeypatch, recorded="2025-01-31")
    spec = make_spec(channels=[PUSH], holdout_percent=0)
    plan(overseas, "x2", spec)
    assert planned(overseas, "x2") == {1, 3}
    assert not_planned(overseas, "x2") == {"no_xb_consent": 1}
    grant(overseas, 1, "cross_border", granted=False, days=3)
    out = screen(overseas, claims(overseas, "x2"), spec, D)
    assert [(c.customer_id, why) for c, why in out.suppressed] == [(1, "no_xb_consent")]
    stats = plan_stats(overseas, "x2", spec, minimum_age(), D)
    assert stats.planned_past_gates == {"CN-28": 1}
    blocks = [f for f in check_campaign(spec, stats) if f.rule_id == "CN-28"]
    assert Severity.BLOCK in {f.severity for f in blocks}


def test_a_mechanism_withdrawn_after_planning_stops_the_send(
    overseas, tmp_path, monkeypatch
) -> None:
    _transfers(tmp_path, monkeypatch, recorded="2025-01-31")
    spec = make_spec(channels=[PUSH], holdout_percent=0)
    plan(overseas, "x5", spec)
    assert planned(overseas, "x5") == {1, 3}
    monkeypatch.delenv("OMNIREACH_COMPLIANCE_CONFIG")  # the record is gone before the send
    out = screen(overseas, claims(overseas, "x5"), spec, D)
    assert [(c.customer_id, why) for c, why in out.suppressed] == [(1, "cross_border")]
    assert [c.customer_id for c, _ in out.ready] == [3]


def test_an_exempt_transfer_needs_no_consent(overseas, tmp_path, monkeypatch) -> None:
    _transfers(tmp_path, monkeypatch, recorded="2025-01-31", separate_consent=False)
    spec = make_spec(channels=[PUSH], holdout_percent=0)
    plan(overseas, "x3", spec)
    assert planned(overseas, "x3") == {1, 2, 3}


def test_a_domestic_provider_is_not_gated(session: Session, monkeypatch) -> None:
    monkeypatch.setenv("OMNIREACH_CHANNEL_PROVIDERS", "app_push=jpush")
    pushable(session, 1, country="CN")
    grant(session, 1, "push_marketing")
    spec = make_spec(channels=[PUSH], holdout_percent=0)
    plan(session, "x4", spec)
    assert planned(session, "x4") == {1}
