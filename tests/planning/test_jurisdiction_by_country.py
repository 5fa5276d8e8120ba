"""The plan counts recipients by their own country (the time zone only guesses when it is
unknown), so the international pack applies to the customers whose country brings it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from compliance.check import evaluate_campaign, minimum_age
from compliance.outcome import Status
from compliance.plan_stats import PlanStats
from models.spec import CampaignSpec
from planning.plan import make_plan
from planning.plan_stats import plan_stats
from tests.profiles.seed import D, campaign, consent, customer, make_spec

SMS = {"channel": "sms", "template": "t", "body": "Spring sale in store. 拒收请回复R"}
BARE = {"channel": "sms", "template": "t", "body": "Spring sale in store now"}


def stats_for(
    session: Session, campaign_id: str, channel: dict[str, str]
) -> tuple[CampaignSpec, PlanStats]:
    spec = make_spec(channels=[channel], holdout_percent=0, quiet_hours=None)
    campaign(session, campaign_id, spec)
    take_snapshot(session, campaign_id, spec, D)
    make_plan(session, campaign_id, spec, D)
    return spec, plan_stats(session, campaign_id, spec, minimum_age(), D)


def test_country_decides_and_the_zone_only_guesses(session: Session) -> None:
    for cid, country, tz in (
        (1, "DE", "Asia/Shanghai"),
        (2, None, "Asia/Shanghai"),
        (3, "CN", "Europe/Berlin"),
    ):
        customer(session, cid, phone_enc=b"p", country=country, tz=tz)
        consent(session, cid, "sms")
    customer(session, 4, phone_enc=b"p", tz="Europe/Paris")
    consent(session, 4, "sms")
    _, stats = stats_for(session, "j1", SMS)
    assert stats.planned_by_jurisdiction == {"DE": 1, "CN": 2, "EU": 1}


def test_a_german_customer_brings_the_eu_rules(session: Session) -> None:
    customer(session, 1, phone_enc=b"p", country="DE")
    consent(session, 1, "sms")
    spec, stats = stats_for(session, "j2", BARE)
    rules = {r.rule_id: r.status for r in evaluate_campaign(spec, stats).rules}
    assert rules["INT-03"] is Status.BLOCK


def test_mainland_customers_do_not(session: Session) -> None:
    customer(session, 1, phone_enc=b"p", country="CN")
    consent(session, 1, "sms")
    spec, stats = stats_for(session, "j3", BARE)
    rules = {r.rule_id: r.status for r in evaluate_campaign(spec, stats).rules}
    assert rules["INT-03"] is Status.NOT_APPLICABLE
