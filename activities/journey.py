"""Journey phase: customers enter at the first step, then advance through the steps in
set-based batches while the send passes make the sends their steps planned."""

from __future__ import annotations

from temporalio import activity

from activities.context import current
from activities.keepalive import heartbeating
from db.campaigns import load_spec
from db.engine import session_scope
from journey.advance import advance, enter, stop, where_they_are
from journey.moves import Journey
from models.contracts import CampaignRef, JourneyProgress


def _journey(ref: CampaignRef) -> Journey:
    engine = current().engine
    with session_scope(engine) as session:
        spec = load_spec(session, ref.campaign_id)
    return Journey(ref.campaign_id, spec, ref.at, engine.dialect.name)


@activity.defn
def enter_journey(ref: CampaignRef) -> JourneyProgress:
    """Everyone with a first-step send enters; repeating it changes nothing."""
    journey = _journey(ref)
    with heartbeating(), session_scope(current().engine) as session:
        enter(session, journey)
        return where_they_are(session, ref.campaign_id)


@activity.defn
def advance_journey(ref: CampaignRef) -> JourneyProgress:
    """Move every customer due at any step; bounded in time, `more` says call again."""
    with heartbeating():
        return advance(current().engine, _journey(ref))


@activity.defn
def end_journey(ref: CampaignRef) -> JourneyProgress:
    """The budget ran out: every customer still in the journey ends where they are."""
    with heartbeating(), session_scope(current().engine) as session:
        stop(session, ref.campaign_id, "budget_exhausted")
        return where_they_are(session, ref.campaign_id)
