"""Which of the spec's channels each customer gets, as one SQL CASE over the reach joins.

Among the channels the customer can be reached on (consent, no suppression, an address):
* dormant and churned customers: the cheapest, then the spec's priority (sleeping customers
  move to cheaper channels: docs/lifecycle.md#planning);
* everyone else: the spec's priority (1 first); within one priority the customer's preferred
  channel (most recency-weighted opens and clicks, i.e. their own past response), then the
  cheaper, then the order the spec lists them in.
No reachable channel: NULL (the customer is dropped with reason 'no_channel').
"""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby

from sqlalchemy import and_, case, null
from sqlalchemy.sql import ColumnElement

from models.spec import CampaignSpec
from models.tables import CustomerProfile

CHEAP_STAGES = ("dormant", "churned")


def channel_choice(
    spec: CampaignSpec, costs: dict[str, Decimal], reach: dict[str, ColumnElement[bool]]
) -> ColumnElement[str]:
    order = {p.channel: i for i, p in enumerate(spec.channels)}
    by_priority = sorted(
        spec.channels, key=lambda p: (p.priority, costs[p.channel], order[p.channel])
    )
    preferred = CustomerProfile.preferred_channel
    normal: list[tuple[ColumnElement[bool], str]] = []
    for _, group in groupby(by_priority, key=lambda p: p.priority):
        names = [p.channel for p in group]
        normal += [(and_(preferred == c, reach[c]), c) for c in names]
        normal += [(reach[c], c) for c in names]
    cheapest = sorted(spec.channels, key=lambda p: (costs[p.channel], p.priority, order[p.channel]))
    cheap = [(reach[p.channel], p.channel) for p in cheapest]
    return case(
        (CustomerProfile.lifecycle.in_(CHEAP_STAGES), case(*cheap, else_=null())),
        else_=case(*normal, else_=null()),
    )
