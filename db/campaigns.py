"""Campaign lookups shared by activities and the CLI."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.spec import CampaignSpec
from models.tables import Campaign


class UnknownCampaign(LookupError):
    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"no campaign with id {campaign_id!r}")
        self.campaign_id = campaign_id


def get_campaign(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise UnknownCampaign(campaign_id)
    return campaign


def load_spec(session: Session, campaign_id: str) -> CampaignSpec:
    return CampaignSpec.model_validate(get_campaign(session, campaign_id).spec)


def lock_campaign(session: Session, campaign_id: str) -> None:
    """Hold the campaign row (FOR KEY SHARE) for a bulk write of its audience or sends.

    What a foreign key's check would do for every row, done once for the statement: the bulk
    tables carry no foreign key to campaigns, so their writers take this lock instead.
    """
    found = session.execute(
        select(Campaign.id)
        .where(Campaign.id == campaign_id)
        .with_for_update(read=True, key_share=True)
    ).scalar_one_or_none()
    if found is None:
        raise UnknownCampaign(campaign_id)


def campaign_row(
    campaign_id: str, spec: CampaignSpec, requested_by: str, at: datetime, phase: str = "research"
) -> Campaign:
    """The campaigns row of a campaign about to be researched (registration and `preview`)."""
    return Campaign(
        id=campaign_id,
        name=spec.name,
        objective=spec.objective,
        owner=spec.owner,
        requested_by=requested_by,
        priority=spec.priority,
        spec=spec.model_dump(mode="json", by_alias=True),
        phase=phase,
        budget_limit=spec.budget.limit,
        created_at=at,
        updated_at=at,
    )
