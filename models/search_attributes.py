"""Search attributes that make campaigns filterable in the Temporal UI. Never PII."""

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

CAMPAIGN_PHASE = SearchAttributeKey.for_keyword("CampaignPhase")
CAMPAIGN_OBJECTIVE = SearchAttributeKey.for_keyword("CampaignObjective")
CAMPAIGN_OWNER = SearchAttributeKey.for_keyword("CampaignOwner")

ALL = (CAMPAIGN_PHASE, CAMPAIGN_OBJECTIVE, CAMPAIGN_OWNER)


def at_start(objective: str, owner: str) -> TypedSearchAttributes:
    """What a campaign carries from its start (the workflow moves the phase on)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(CAMPAIGN_PHASE, "research"),
            SearchAttributePair(CAMPAIGN_OBJECTIVE, objective),
            SearchAttributePair(CAMPAIGN_OWNER, owner),
        ]
    )
