"""Counts the plan phase hands to the compliance check: ids and counts, never customer data."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt

from models.compliance_tables import AssessmentStatus

Counts = dict[str, NonNegativeInt]


class PlanStats(BaseModel):
    """What was planned, and how much of it breaks a rule (all of those should be 0).

    Minors are counted with the age in the CN-26 rule's `min_age` parameter
    (`compliance.check.minimum_age()`); jurisdictions are ISO country codes of recipients.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    planned_by_channel: Counts = Field(default_factory=dict)
    planned_by_jurisdiction: Counts = Field(default_factory=dict)
    planned_without_consent: Counts = Field(default_factory=dict)  # by channel
    planned_suppressed: Counts = Field(default_factory=dict)  # by channel
    planned_in_quiet_hours: NonNegativeInt = 0
    minors_planned: NonNegativeInt = 0
    unknown_age_planned: NonNegativeInt = 0
    profiling_opted_out_planned: NonNegativeInt = 0
    planned_past_gates: Counts = Field(default_factory=dict)  # by rule id (compliance.gates)
    calls_not_whitelisted: NonNegativeInt = 0
    impact_assessment: AssessmentStatus | None = None
    max_messages_per_customer: NonNegativeInt = 0
    planned_cost: Decimal = Field(default=Decimal(0), ge=0)

    @property
    def planned(self) -> int:
        return sum(self.planned_by_channel.values())

    def jurisdictions(self) -> set[str]:
        """Jurisdictions with at least one planned recipient."""
        return {j for j, n in self.planned_by_jurisdiction.items() if n > 0}
