"""The campaign spec an operator writes (YAML or JSON), validated before anything starts."""

from __future__ import annotations

from datetime import time, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from models.audience import ChannelName, Filter
from models.broadcast_lines import BroadcastLines
from models.cron import check_cron
from models.durations import Duration
from models.journey import Goal, Step, check_journey

# A send's content: the channel, and the journey step and A/B variant whose copy it takes.
ContentKey = tuple[str, str | None, str | None]
Objective = Literal["inform", "acquire", "convert", "reactivate", "promote"]
# What the database holds: money columns are Numeric(14, 4) (models/tables.py `Money`), so a
# larger budget or cost passes here and the worker then fails with "numeric field overflow".
MONEY_MAX = Decimal("9999999999.9999")
KPI_MAX = 1_000_000.0  # targets are stored as JSON numbers: finite, and far below this
MAX_FILTER_DEPTH = 20
PIA_ID = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"  # an impact assessment's id (CN-27)  # all/any/not levels; deeper is unreadable and recursion-deep to check


def _filter_depth(node: object) -> int:
    """How many all/any/not levels nest in a filter (raw mapping or Filter), counted without
    recursion; stops once past the limit."""
    deepest, stack = 0, [(node, 0)]
    while stack and deepest <= MAX_FILTER_DEPTH:
        item, above = stack.pop()
        if isinstance(item, Filter):
            item = {"all": item.all, "any": item.any, "not": item.not_}
        if not isinstance(item, dict):
            continue
        children = [
            c for key in ("all", "any") if isinstance(item.get(key), list) for c in item[key]
        ]
        children += [item[key] for key in ("not", "not_") if item.get(key) is not None]
        if children:
            deepest = max(deepest, above + 1)
            stack.extend((child, above + 1) for child in children)
    return deepest


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GiftDetails(_Spec):
    """The terms of a gift offer the Advertising Law wants stated (art. 8, CN-15)."""

    kind: str = Field(min_length=1, max_length=100)
    specification: str = Field(min_length=1, max_length=200)
    quantity: str = Field(min_length=1, max_length=100)
    period: str = Field(min_length=1, max_length=100)
    method: str = Field(min_length=1, max_length=200)


class ChannelPlan(_Spec):
    """One channel the campaign may use, with its template and (optional) cost override.

    `claim_source` names where a numeric claim in the copy comes from (销量10万+, 领先 N%);
    `gift` states the terms of a gift the copy offers (CN-15).
    """

    channel: ChannelName
    priority: int = Field(default=1, ge=1, le=100)
    template: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    subject: str | None = Field(default=None, max_length=200)
    body: str = Field(min_length=1, max_length=2000)
    unit_cost: Decimal | None = Field(default=None, ge=0, le=MONEY_MAX)
    marketing: bool = True
    claim_source: str | None = Field(default=None, min_length=1, max_length=300)
    gift: GiftDetails | None = None


class SendWindow(_Spec):
    start: AwareDatetime
    end: AwareDatetime

    @model_validator(mode="after")
    def _order(self) -> SendWindow:
        if self.end <= self.start:
            raise ValueError(
                f"end {self.end.isoformat()} is not after start {self.start.isoformat()}"
            )
        return self


class QuietHours(_Spec):
    """Local times in the customer's time zone during which nothing is sent (may wrap midnight)."""

    start: time
    end: time

    @model_validator(mode="after")
    def _distinct(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end are the same time")
        return self


class Budget(_Spec):
    limit: Decimal = Field(gt=0, le=MONEY_MAX)
    currency: Literal["CNY", "USD", "EUR", "HKD"] = "CNY"


class Schedule(_Spec):
    """A recurring campaign: a run at each `cron` time in `timezone`, each with the spec's
    `budget.limit`, together never more than `total_budget`, and none after `until`."""

    cron: str = Field(min_length=1, max_length=120)
    timezone: str = Field(min_length=1, max_length=64)
    total_budget: Decimal = Field(gt=0, le=MONEY_MAX)
    until: AwareDatetime | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        return check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not an IANA time zone (such as Asia/Shanghai)"
            ) from None
        return value


class Kpi(_Spec):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    reach_rate: float | None = Field(default=None, ge=0, le=1)
    conversion_rate: float | None = Field(default=None, ge=0, le=1)
    roi: float | None = Field(default=None, ge=0, le=KPI_MAX)
    lift: float | None = Field(default=None, ge=-1, le=KPI_MAX)  # (treated - holdout) / holdout


class ApprovalPolicy(_Spec):
    approvers: list[str] = Field(default_factory=list)
    deadline: Duration = timedelta(hours=48)

    @field_validator("deadline")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v <= timedelta(0):
            raise ValueError("deadline must be positive")
        return v


class ReviewPolicy(_Spec):
    delay: Duration = timedelta(days=7)
    attribution_window: Duration = timedelta(days=7)


class CampaignSpec(_Spec):
    """Everything that defines a campaign. No customer data: the audience is a filter."""

    name: str = Field(min_length=1, max_length=200)
    objective: Objective
    owner: str = Field(min_length=1, max_length=100)
    priority: int = Field(default=5, ge=1, le=10)
    audience: Filter
    holdout_percent: float = Field(default=10, ge=0, le=50)
    channels: list[ChannelPlan] = Field(min_length=1)
    send_window: SendWindow
    quiet_hours: QuietHours | None = QuietHours(start=time(21, 0), end=time(8, 0))
    budget: Budget
    kpi: Kpi = Kpi()
    approval: ApprovalPolicy = ApprovalPolicy()
    review: ReviewPolicy = ReviewPolicy()
    broadcast: BroadcastLines = []
    # The approved personal-information impact assessment this campaign rests on (CN-27):
    # needed when it targets by automated segmentation or hands data to an outside provider.
    pia: str | None = Field(default=None, pattern=PIA_ID)
    # A journey: send, wait and branch steps from the first; none: one send per customer.
    steps: list[Step] | None = Field(default=None, min_length=1, max_length=50)
    exit_when: Goal | None = None
    # A recurring campaign (a series): see Schedule; none: the campaign runs once.
    schedule: Schedule | None = None
    _contents: dict[ContentKey, ChannelPlan] = PrivateAttr(default_factory=dict)

    @field_validator("audience", mode="before")
    @classmethod
    def _shallow(cls, value: object) -> object:
        """Checked before the filter is parsed: parsing a deep one recurses until it fails."""
        if _filter_depth(value) > MAX_FILTER_DEPTH:
            raise ValueError(
                f"all/any/not nest more than {MAX_FILTER_DEPTH} levels deep (the limit)"
            )
        return value

    @model_validator(mode="after")
    def _unique_channels(self) -> CampaignSpec:
        seen: set[str] = set()
        for plan in self.channels:
            if plan.channel in seen:
                raise ValueError(f"channel {plan.channel!r} is listed twice")
            seen.add(plan.channel)
        if self.channels and any(p.channel == "email" and not p.subject for p in self.channels):
            raise ValueError("the email channel needs a subject")
        return self

    @model_validator(mode="after")
    def _series_budget(self) -> CampaignSpec:
        if self.schedule is not None and self.schedule.total_budget < self.budget.limit:
            raise ValueError(
                f"schedule.total_budget {self.schedule.total_budget} is less than budget.limit "
                f"{self.budget.limit} (what each run may spend)"
            )
        return self

    @field_validator("steps")
    @classmethod
    def _journey(cls, steps: list[Step] | None, info: ValidationInfo) -> list[Step] | None:
        """The graph, checked here so its errors are placed at `steps`; channels come first
        (when they failed, their own error is what the operator reads)."""
        channels = info.data.get("channels")
        if steps is not None and channels is not None:
            check_journey(steps, {p.channel for p in channels})
        return steps

    @field_validator("exit_when")
    @classmethod
    def _needs_steps(cls, goal: Goal | None, info: ValidationInfo) -> Goal | None:
        if goal is not None and "steps" in info.data and info.data["steps"] is None:
            raise ValueError("exit_when needs steps")
        return goal

    def __eq__(self, other: object) -> bool:
        """Equal when the fields are: the content cache is not part of the spec."""
        return type(other) is type(self) and self.__dict__ == other.__dict__

    def step(self, step_id: str) -> Step:
        assert self.steps is not None
        return next(s for s in self.steps if s.id == step_id)

    def content(
        self, channel: str, step: str | None = None, variant: str | None = None
    ) -> ChannelPlan:
        """The channel plan a send uses: the campaign's, with a journey step's and a variant's
        copy in its place."""
        key = (channel, step, variant)
        found = self._contents.get(key)
        if found is None:
            found = self.channel(channel)
            if step is not None:
                send = self.step(step).send
                assert send is not None
                found = found.model_copy(update=send.overrides())
                if variant is not None:
                    chosen = next(v for v in send.variants or [] if v.id == variant)
                    found = found.model_copy(update=chosen.overrides())
            self._contents[key] = found
        return found

    def content_keys(self) -> list[ContentKey]:
        """(channel, step, variant) of every content any send can use; in a journey, also the
        copy of a listed channel no step sends on (it is in the spec the approver reads)."""
        if not self.steps:
            return [(p.channel, None, None) for p in self.channels]
        keys: list[ContentKey] = []
        for s in self.steps:
            if s.send is not None:
                names = s.send.channels or [p.channel for p in self.channels]
                variants: list[str | None] = [v.id for v in s.send.variants or []] or [None]
                keys += [(c, s.id, v) for c in names for v in variants]
        used = {channel for channel, _, _ in keys}
        return [(p.channel, None, None) for p in self.channels if p.channel not in used] + keys

    def all_contents(self) -> list[ChannelPlan]:
        """Every content any send can use: what approval and the compliance check cover."""
        return [self.content(*k) for k in self.content_keys()]

    @property
    def journey(self) -> bool:
        return bool(self.steps)

    def channel(self, name: str) -> ChannelPlan:
        return next(p for p in self.channels if p.channel == name)

    @property
    def window_length(self) -> timedelta:
        return self.send_window.end - self.send_window.start
