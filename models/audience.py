"""The audience filter language of a campaign spec: conditions combined with all / any / not.

Every node has exactly one key. Values are validated here, when the spec is loaded, so a
wrong field, type or range is reported with its place in the spec before anything runs.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ProfileField = Literal[
    "gender", "city", "district", "member_level", "home_store", "timezone", "age", "registered_days"
]
NUMERIC_FIELDS = {"age", "registered_days"}
Op = Literal["eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "between"]
Segment = Literal["loyal", "potential", "dormant", "regular", "none"]
Lifecycle = Literal["new", "active", "at_risk", "dormant", "churned"]
EventType = Literal[
    "register",
    "login",
    "browse",
    "search",
    "favorite",
    "add_to_cart",
    "order",
    "pay",
    "cancel",
    "return",
    "complaint",
    "message_open",
    "message_click",
]
ChannelName = Literal[
    "sms",
    "email",
    "wechat_oa",
    "wechat_mini",
    "wecom",
    "alipay",
    "app_push",
    "outbound_call",
    "webhook",
    "sandbox",
]

Scalar = str | int | float


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """Bounds on a number; at least one bound, and lower ≤ upper."""

    gt: Decimal | None = None
    gte: Decimal | None = None
    lt: Decimal | None = None
    lte: Decimal | None = None
    eq: Decimal | None = None

    @model_validator(mode="after")
    def _check(self) -> Range:
        bounds = [self.gt, self.gte, self.lt, self.lte, self.eq]
        if all(b is None for b in bounds):
            raise ValueError("give at least one of gt, gte, lt, lte, eq")
        lows = [b for b in (self.gt, self.gte) if b is not None]
        highs = [b for b in (self.lt, self.lte) if b is not None]
        if lows and highs and max(lows) > min(highs):
            raise ValueError(
                f"impossible range: lower bound {max(lows)} > upper bound {min(highs)}"
            )
        return self


class ProfileCondition(_Strict):
    field: ProfileField
    op: Op
    value: Scalar | list[Scalar]

    @model_validator(mode="after")
    def _check(self) -> ProfileCondition:
        many = self.op in ("in", "not_in", "between")
        if many != isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs {'a list' if many else 'a single value'}")
        values = self.value if isinstance(self.value, list) else [self.value]
        if not values:
            raise ValueError("value list is empty")
        numeric = self.field in NUMERIC_FIELDS
        for v in values:
            if numeric and (isinstance(v, str) or isinstance(v, bool)):
                raise ValueError(f"field {self.field!r} is numeric, got {v!r}")
            if not numeric and not isinstance(v, str):
                raise ValueError(f"field {self.field!r} takes text, got {v!r}")
        if self.op in ("gt", "gte", "lt", "lte") and not numeric:
            raise ValueError(f"op {self.op!r} needs a numeric field, {self.field!r} is text")
        if self.op == "between":
            if len(values) != 2:
                raise ValueError("between takes exactly [low, high]")
            if values[0] > values[1]:  # type: ignore[operator]
                raise ValueError(f"impossible range: {values[0]} > {values[1]}")
        return self


class RfmCondition(_Strict):
    r_score: Range | None = None
    f_score: Range | None = None
    m_score: Range | None = None
    recency_days: Range | None = None
    frequency: Range | None = None
    monetary: Range | None = None

    @model_validator(mode="after")
    def _check(self) -> RfmCondition:
        given = {k: v for k, v in self.__dict__.items() if v is not None}
        if not given:
            raise ValueError(
                "rfm needs at least one of r_score, f_score, m_score, recency_days, "
                "frequency, monetary"
            )
        for name in ("r_score", "f_score", "m_score"):
            rng = given.get(name)
            if rng is not None:
                for bound in (rng.gt, rng.gte, rng.lt, rng.lte, rng.eq):
                    if bound is not None and not (0 <= bound <= 6):
                        raise ValueError(f"{name} scores run 1–5, got {bound}")
        return self


class EventCondition(_Strict):
    type: EventType
    within_days: int = Field(gt=0, le=3650)
    at_least: int = Field(default=1, ge=1)


class OrderCondition(_Strict):
    category: str | None = None
    min_amount: Decimal | None = Field(default=None, ge=0)
    within_days: int = Field(gt=0, le=3650)
    at_least: int = Field(default=1, ge=1)


class Filter(_Strict):
    """One node of the filter tree; exactly one key is set."""

    all: list[Filter] | None = None
    any: list[Filter] | None = None
    not_: Filter | None = Field(default=None, alias="not")
    profile: ProfileCondition | None = None
    rfm: RfmCondition | None = None
    segment: list[Segment] | None = None
    lifecycle: list[Lifecycle] | None = None
    tag: list[str] | None = None
    event: EventCondition | None = None
    order: OrderCondition | None = None
    consent: ChannelName | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _one_key(self) -> Filter:
        keys = [k for k, v in self.__dict__.items() if v is not None]
        if len(keys) != 1:
            names = "all, any, not, profile, rfm, segment, lifecycle, tag, event, order, consent"
            raise ValueError(f"each filter has exactly one of: {names} (got {len(keys)})")
        for key in ("all", "any", "segment", "lifecycle", "tag"):
            value = getattr(self, key)
            if value is not None and len(value) == 0:
                raise ValueError(f"{key} list is empty")
        return self
