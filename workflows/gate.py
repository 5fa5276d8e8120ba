"""The decision gates of a campaign: budget approval and compliance review, as plain state.

The workflow owns one `Gate` per kind; its update handlers use it to refuse decisions that
come at the wrong time or from the wrong person, and the run loop waits on `decided`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from temporalio.exceptions import ApplicationError

from models.contracts import Decision
from models.identity import identity


@dataclass
class Gate:
    """Who may decide (not the requester; listed people if any) and what has been decided."""

    name: str
    requested_by: str
    allowed: list[str] = field(default_factory=list)
    open: bool = False
    approved_by: list[str] = field(default_factory=list)
    deciding: set[str] = field(default_factory=set)  # decisions being verified, by identity
    needed: int = 1
    digest: str | None = None
    rejection: Decision | None = None

    @property
    def decided(self) -> bool:
        return self.rejection is not None or (
            bool(self.approved_by) and len(self.approved_by) >= self.needed
        )

    def check(self, decision: Decision, campaign_id: str, phase: str, reject: bool) -> None:
        """Raise ApplicationError (the CLI shows it) unless this decision may be made now."""
        if not self.open or self.decided:
            raise ApplicationError(
                f"campaign {campaign_id} is in phase {phase}, not awaiting {self.name}"
            )
        try:
            person = identity(decision.by)
        except ValueError as exc:
            raise ApplicationError(str(exc)) from None
        if person == identity(self.requested_by):
            raise ApplicationError(
                f"the requester cannot decide the {self.name} of their own campaign"
            )
        if self.allowed and person not in {identity(a) for a in self.allowed}:
            raise ApplicationError(
                f"{decision.by} is not listed for the {self.name} of this "
                f"campaign (listed: {', '.join(self.allowed)})"
            )
        if person in {identity(a) for a in self.approved_by} | self.deciding:
            raise ApplicationError(
                f"{decision.by} has already approved; a second approver must be someone else"
            )
        if reject and not decision.comment.strip():
            raise ApplicationError("a rejection needs a reason")

    def reopen(self) -> None:
        self.open, self.approved_by, self.rejection, self.digest = True, [], None, None
        self.deciding = set()
