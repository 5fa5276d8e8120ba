"""The audience and plan writers hold their campaign row instead of a per-row foreign key."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from audience.snapshot import take_snapshot
from db.campaigns import UnknownCampaign
from models.spec import CampaignSpec
from models.tables import AudienceMember, PlannedSend
from planning.plan import make_plan
from tests.profiles.dbutil import postgres_engine
from tests.profiles.seed import D, campaign, consent, customer, make_spec

SMS = [{"channel": "sms", "template": "t", "body": "b"}]


def _spec() -> CampaignSpec:
    return make_spec({"all": [{"profile": {"field": "city", "op": "eq", "value": "上海"}}]}, SMS)


def test_unknown_campaign_is_refused_and_nothing_is_written(session: Session) -> None:
    for cid in range(1, 11):
        customer(session, cid, phone_enc=b"p", city="上海")
        consent(session, cid, "sms")
    with pytest.raises(UnknownCampaign, match="no campaign with id 'nope'"):
        take_snapshot(session, "nope", _spec(), D)
    session.rollback()
    with pytest.raises(UnknownCampaign):
        make_plan(session, "nope", _spec(), D)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AudienceMember)) == 0
    assert session.scalar(select(func.count()).select_from(PlannedSend)) == 0


def test_the_campaign_row_is_held_while_its_audience_is_written() -> None:
    """On PostgreSQL (row locks are its own): a snapshot's transaction keeps the campaign."""
    with postgres_engine() as engine, Session(engine) as session:
        customer(session, 1, phone_enc=b"p", city="上海")
        consent(session, 1, "sms")
        campaign(session, "held", _spec())
        session.commit()
        result = take_snapshot(session, "held", _spec(), D)  # its transaction stays open
        assert result.audience == 1
        with engine.connect() as other:
            other.execute(text("SET lock_timeout = '200ms'"))
            with pytest.raises(OperationalError, match="lock timeout"):
                other.execute(text("DELETE FROM campaigns WHERE id = 'held'"))
        session.rollback()
