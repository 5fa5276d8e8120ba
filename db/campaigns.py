"""Campaign lookups shared by activities and the CLI."""

from __future__ import annotations

from sqlalchemy.orm import Session

from models.spec import CampaignSpec
from models.tables import Campaign


class UnknownCampaign(LookupError):
    def __init__(self, campaign_id: str) -> None:
        super().__init__(f"no campaign with id {campaign_id!r}")


def get_campaign(session: Session, campaign_id: str) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise UnknownCampaign(campaign_id)
    return campaign


def load_spec(session: Session, campaign_id: str) -> CampaignSpec:
    return CampaignSpec.model_validate(get_campaign(session, campaign_id).spec)
