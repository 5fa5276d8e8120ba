"""The rules of the compliance research the campaign check does not run, so the compliance
report still lists every rule id: those that act elsewhere (on an event, in data handling)
and those not implemented yet. The rules the check runs are registered (compliance.rules)."""

from __future__ import annotations

from dataclasses import dataclass

OUTSIDE_CHECK = "not applicable"
NOT_IMPLEMENTED = "not implemented"


@dataclass(frozen=True)
class Listed:
    """A rule id the report shows with a fixed outcome and why."""

    rule_id: str
    title: str
    status: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {
            "rule_id": self.rule_id,
            "title": self.title,
            "status": self.status,
            "reason": self.reason,
        }


def _elsewhere(rule_id: str, title: str, where: str) -> Listed:
    return Listed(rule_id, title, OUTSIDE_CHECK, f"acts {where}, not in the campaign check")


def _missing(rule_id: str, title: str) -> Listed:
    return Listed(rule_id, title, NOT_IMPLEMENTED, "not implemented yet (see the rules page)")


NOT_IN_CHECK: tuple[Listed, ...] = (
    _elsewhere(
        "CN-10",
        "a refusal reply or a provider's refusal code opts the customer out, never retried",
        "at event (inbound replies, provider error codes)",
    ),
    _elsewhere(
        "CN-22",
        "a WeCom group-message task counts as sent only once the store guide confirms it",
        "at event (the guide's confirmation)",
    ),
    _elsewhere(
        "CN-25",
        "consent per customer, channel and purpose; pre-ticked, bundled or default grants refused",
        "in data handling (import and consent ledger)",
    ),
    _elsewhere(
        "CN-30",
        "personal information encrypted at rest and masked wherever it is shown",
        "in data handling (storage, logs, reports, workflow payloads)",
    ),
    _elsewhere(
        "INT-09",
        "the international opt-out keywords (STOP family) opt out; START re-subscribes",
        "at event (inbound replies)",
    ),
    _missing("INT-01", "EU/EEA consent demonstrable, withdrawn as easily; a minimum age"),
    _missing("INT-02", "an objection to direct marketing also ends marketing profiling"),
    _missing("INT-04", "erasure within one month, propagated to processors"),
    _missing("INT-06", "US calls and texts only 08:00–21:00 local, with written consent"),
    _missing("INT-07", "Canadian recipients: consent expiry, sender and address in every message"),
)
