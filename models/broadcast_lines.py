"""Broadcast budget lines: what a campaign plans to spend on a public or offline channel.

A campaign spec carries them as `broadcast: BroadcastLines = []`. A line is named by `name`, or
by its channel when the campaign has one line on that channel; results CSVs refer to that
name. Pop-up lines declare what CN-16…CN-18 ask for; the compliance rules in
compliance.rules.popup judge the values, the model only checks their shape. It is part of the
campaign spec (models.spec), so it lives with the spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, model_validator

BroadcastChannel = Literal[
    "douyin",
    "weibo",
    "xiaohongshu",
    "website_popup",
    "search_ads",
    "feed_ads",
    "forum",
    "store_guides",
    "street_promotion",
    "billboard",
    "tv",
    "radio",
    "print",
]
BROADCAST_CHANNELS: tuple[str, ...] = get_args(BroadcastChannel)
CloseBehaviour = Literal["one_click", "countdown", "multi_click", "no_close"]
POPUP_FIELDS = ("ad_label", "provider_identity", "close_behaviour", "max_per_day", "cancel_path")


class BroadcastLine(BaseModel):
    """One budget line. The pop-up fields are only for `website_popup` lines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: BroadcastChannel
    planned_cost: Decimal = Field(ge=0, max_digits=14, decimal_places=2)
    name: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[\w.:-]+$")
    note: str | None = Field(default=None, max_length=200)
    ad_label: str | None = Field(default=None, max_length=16)
    provider_identity: str | None = Field(default=None, max_length=100)
    close_behaviour: CloseBehaviour | None = None
    max_per_day: int | None = Field(default=None, ge=1, le=1000)
    cancel_path: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _popup_fields_on_popups_only(self) -> BroadcastLine:
        if self.channel != "website_popup":
            given = [f for f in POPUP_FIELDS if getattr(self, f) is not None]
            if given:
                raise ValueError(f"{', '.join(given)}: only for website_popup lines")
        return self

    @property
    def key(self) -> str:
        """The name results refer to: `name`, or the channel."""
        return self.name or self.channel


def _unique_keys(lines: list[BroadcastLine]) -> list[BroadcastLine]:
    seen: set[str] = set()
    for line in lines:
        if line.key in seen:
            raise ValueError(f"line {line.key!r} is listed twice; give the lines distinct names")
        seen.add(line.key)
    return lines


BroadcastLines = Annotated[list[BroadcastLine], AfterValidator(_unique_keys)]
_LINES: TypeAdapter[list[BroadcastLine]] = TypeAdapter(BroadcastLines)


def lines_from_spec(spec: Mapping[str, Any]) -> list[BroadcastLine]:
    """The validated `broadcast` lines of a stored spec document (none if it has none)."""
    return _LINES.validate_python(spec.get("broadcast") or [])
