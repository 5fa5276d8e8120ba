"""Search attributes that make campaigns filterable in the Temporal UI. Never PII."""

from temporalio.common import SearchAttributeKey

CAMPAIGN_PHASE = SearchAttributeKey.for_keyword("CampaignPhase")
CAMPAIGN_OBJECTIVE = SearchAttributeKey.for_keyword("CampaignObjective")
CAMPAIGN_OWNER = SearchAttributeKey.for_keyword("CampaignOwner")

ALL = (CAMPAIGN_PHASE, CAMPAIGN_OBJECTIVE, CAMPAIGN_OWNER)
