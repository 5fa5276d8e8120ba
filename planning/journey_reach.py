"""What each send step of a journey may cost, for the approver: at most how many customers
reach it, from the planned first sends.

An upper bound, not a forecast: a `random` split sends its share one way and the rest the other,
but every other condition (engagement, a filter) can go either way, so both its sides get the
full count; a loop is counted once (a step never counts more customers than enter). Each reach
is priced at the step's cheapest channel.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from models.journey import END, Step
from models.spec import CampaignSpec

Edge = tuple[str, Fraction]


def _edges(step: Step) -> list[Edge]:
    """Where a step leads, each with at most which share of those reaching it go there."""
    if step.branch is None:
        return [(step.next, Fraction(1))] if step.next and step.next != END else []
    edges: list[Edge] = []
    left = Fraction(1)  # the share no earlier random case has taken
    for case in step.branch.when:
        taken = Fraction(str(case.if_.random)) / 100 if case.if_.random is not None else None
        edges.append((case.then, left * taken if taken is not None else left))
        left *= 1 - taken if taken is not None else 1
    return [(t, share) for t, share in [*edges, (step.branch.else_, left)] if t != END]


def _forward_order(by_id: dict[str, Step], first: str) -> tuple[list[str], set[tuple[str, str]]]:
    """Steps in an order where each comes after all that lead to it, and the edges that close a
    loop (depth-first from the first step, without recursion)."""
    on_path: set[str] = {first}
    done: set[str] = set()
    finished: list[str] = []
    back: set[tuple[str, str]] = set()
    stack = [(first, iter(_edges(by_id[first])))]
    while stack:
        sid, edges = stack[-1]
        edge = next(edges, None)
        if edge is None:
            stack.pop()
            on_path.discard(sid)
            done.add(sid)
            finished.append(sid)
        elif edge[0] in on_path:
            back.add((sid, edge[0]))
        elif edge[0] not in done:
            on_path.add(edge[0])
            stack.append((edge[0], iter(_edges(by_id[edge[0]]))))
    return finished[::-1], back


def reach_at_most(steps: list[Step], entering: int) -> dict[str, int]:
    """At most how many of the `entering` customers reach each step."""
    by_id = {s.id: s for s in steps}
    order, back = _forward_order(by_id, steps[0].id)
    reach = {sid: Fraction(0) for sid in by_id}
    reach[steps[0].id] = Fraction(entering)
    for sid in order:
        reach[sid] = min(reach[sid], Fraction(entering))  # each customer reaches a step once
        for target, share in _edges(by_id[sid]):
            if (sid, target) not in back:
                reach[target] += reach[sid] * share
    return {sid: math.ceil(n) for sid, n in reach.items()}


def step_estimates(
    spec: CampaignSpec, planned: int, costs: dict[str, Decimal]
) -> list[dict[str, Any]]:
    """Per send step: its cheapest channel, at most how many customers reach it, and what
    sending to all of them on that channel costs. Empty for a campaign without steps."""
    if not spec.steps:
        return []
    reach = reach_at_most(spec.steps, planned)
    out: list[dict[str, Any]] = []
    for step in spec.steps:
        if step.send is None:
            continue
        names = step.send.channels or [p.channel for p in spec.channels]
        channel = min(names, key=lambda c: (costs[c], names.index(c)))
        out.append(
            {
                "step": step.id,
                "channel": channel,
                "at_most": reach[step.id],
                "unit_cost": str(costs[channel]),
                "cost_at_most": str((costs[channel] * reach[step.id]).quantize(Decimal("0.0001"))),
            }
        )
    return out
