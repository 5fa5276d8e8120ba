"""A campaign's journey: steps that send, wait and branch on what each customer did.

A spec without `steps` is a one-step journey (today's campaign). The graph is checked when the
spec is loaded: step ids are unique and known, every step is reachable from the first, every
cycle passes a wait, and every branch names where the rest go (`else`).
"""

from __future__ import annotations

import re
from datetime import time, timedelta
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.audience import EventType, Filter
from models.durations import Duration, parse_duration

StepId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
VariantId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_]{1,16}$")]
Engagement = Literal["delivered", "opened", "clicked", "replied", "converted"]
WinnerMetric = Literal["click", "conversion", "reply"]
END = "end"  # a target that ends the customer's journey (like a step without `next`)
_TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _one_of(model: BaseModel, names: tuple[str, ...]) -> None:
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) != 1:
        raise ValueError(f"give exactly one of: {', '.join(names)} (got {len(given)})")


class Content(_Step):
    """Copy that replaces the channel plan's; what it leaves out comes from the plan."""

    body: str | None = Field(default=None, min_length=1, max_length=2000)
    subject: str | None = Field(default=None, max_length=200)
    template: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$"
    )

    def overrides(self) -> dict[str, str]:
        return {
            k: v for k in ("body", "subject", "template") if (v := getattr(self, k)) is not None
        }


class Variant(Content):
    """One content of an A/B(/n) test, given to a share of customers by `weight`."""

    id: VariantId
    weight: int = Field(default=1, ge=1, le=1000)


class PickWinner(_Step):
    """Send a test cohort first; after `after`, the rest get the variant best on `metric`."""

    after: Duration
    metric: WinnerMetric
    test_percent: float = Field(default=20, gt=0, lt=100)

    @model_validator(mode="after")
    def _positive(self) -> PickWinner:
        if self.after <= timedelta(0):
            raise ValueError("after must be positive")
        return self


class SendStep(Content):
    """Send on the best channel the customer may be reached on. `channels` narrows the
    campaign's channels to some of them; `body`, `subject`, `template` replace their copy."""

    channels: list[str] | None = Field(default=None, min_length=1)
    variants: list[Variant] | None = Field(default=None, min_length=2, max_length=10)
    pick_winner: PickWinner | None = None

    @model_validator(mode="after")
    def _check(self) -> SendStep:
        if self.pick_winner is not None and not self.variants:
            raise ValueError("pick_winner needs variants")
        ids = [v.id for v in self.variants or []]
        repeated = sorted({i for i in ids if ids.count(i) > 1})
        if repeated:
            raise ValueError(f"variant id(s) used more than once: {', '.join(repeated)}")
        return self


class EventWait(_Step):
    """Wait until the customer does `event`, or `timeout` passes."""

    event: EventType
    timeout: Duration

    @model_validator(mode="after")
    def _positive(self) -> EventWait:
        if self.timeout <= timedelta(0):
            raise ValueError("timeout must be positive")
        return self


class Wait(_Step):
    """A duration ('2d'), a local time of day in the customer's time zone ('10:00'), or an
    event with a timeout ({event: order, timeout: 3d})."""

    duration: Duration | None = None
    at: time | None = None
    event: EventWait | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: object) -> object:
        if isinstance(value, str):
            if _TIME_OF_DAY.match(value.strip()):
                return {"at": value.strip()}
            return {"duration": parse_duration(value)}
        if isinstance(value, dict):
            return {"event": value} if "event" in value and "timeout" in value else value
        if isinstance(value, Wait):
            return value
        raise ValueError(
            "a wait is a duration ('2d'), a quoted time of day ('10:00': unquoted, YAML reads "
            "it as a number) or an event with a timeout ({event: order, timeout: 3d})"
        )

    @model_validator(mode="after")
    def _check(self) -> Wait:
        _one_of(self, ("duration", "at", "event"))
        if self.duration is not None and self.duration <= timedelta(0):
            raise ValueError("a wait must be positive")
        return self


class Engaged(_Step):
    """The customer did `did` with the message of an earlier send step."""

    step: StepId
    did: Engagement


class Condition(_Step):
    """One branch test: engagement with an earlier step, an audience filter, or a random split
    (`random: 30` takes 30 % of the customers who reach it)."""

    engaged: Engaged | None = None
    filter: Filter | None = None
    random: float | None = Field(default=None, gt=0, lt=100)

    @model_validator(mode="after")
    def _check(self) -> Condition:
        _one_of(self, ("engaged", "filter", "random"))
        return self


class Case(_Step):
    if_: Condition = Field(alias="if")
    then: StepId


class Branch(_Step):
    """Ordered cases: the first that holds decides; the rest go to `else` (`end`: they leave)."""

    when: list[Case] = Field(min_length=1, max_length=20)
    else_: StepId = Field(alias="else")


class Step(_Step):
    id: StepId
    send: SendStep | None = None
    wait: Wait | None = None
    branch: Branch | None = None
    # the step after this one; none (or `end`): the customer's journey ends here
    next: StepId | None = None

    @model_validator(mode="after")
    def _check(self) -> Step:
        _one_of(self, ("send", "wait", "branch"))
        if self.branch is not None and self.next is not None:
            raise ValueError(f"step {self.id!r}: a branch has no next; its cases and else name it")
        return self

    @property
    def kind(self) -> str:
        return "send" if self.send else "wait" if self.wait else "branch"

    def targets(self) -> list[str]:
        """The step ids this step can lead to (`end` is not a step)."""
        if self.branch is not None:
            found = [c.then for c in self.branch.when] + [self.branch.else_]
        else:
            found = [self.next] if self.next else []
        return [t for t in found if t != END]


class OrderGoal(_Step):
    min_amount: Decimal | None = Field(default=None, ge=0)
    category: str | None = Field(default=None, min_length=1, max_length=64)


class Goal(_Step):
    """What takes a customer out of the journey at any step, counted as a conversion: an order
    (optionally of a category or amount) or an event, after they entered the journey."""

    order: OrderGoal | None = None
    event: EventType | None = None

    @model_validator(mode="after")
    def _check(self) -> Goal:
        _one_of(self, ("order", "event"))
        return self


def check_journey(steps: list[Step], channels: set[str]) -> None:
    """Raise one ValueError naming what is wrong with the graph."""
    ids = [s.id for s in steps]
    if steps[0].send is None:
        raise ValueError(f"the first step ({ids[0]!r}) must send: a journey starts with a message")
    seen: set[str] = set()
    for sid in ids:
        if sid == END:
            raise ValueError(f"{END!r} is reserved: it ends the journey (use it as a target)")
        if sid in seen:
            raise ValueError(f"step id {sid!r} is used twice")
        seen.add(sid)
    by_id = {s.id: s for s in steps}
    for s in steps:
        for target in s.targets():
            if target not in by_id:
                raise ValueError(f"step {s.id!r} leads to unknown step {target!r}")
        if s.send is not None:
            for name in s.send.channels or []:
                if name not in channels:
                    raise ValueError(
                        f"step {s.id!r} sends on {name!r}, which is not among the campaign's "
                        f"channels ({', '.join(sorted(channels))})"
                    )
        for case in s.branch.when if s.branch else []:
            engaged = case.if_.engaged
            if engaged is not None:
                asked = by_id.get(engaged.step)
                if asked is None or asked.send is None:
                    what = "an unknown step" if asked is None else f"a {asked.kind} step"
                    raise ValueError(
                        f"step {s.id!r} asks about engagement with {engaged.step!r}, which is "
                        f"{what}, not a send step"
                    )
    reached, todo = {ids[0]}, [ids[0]]
    while todo:
        for target in by_id[todo.pop()].targets():
            if target not in reached:
                reached.add(target)
                todo.append(target)
    unreachable = [sid for sid in ids if sid not in reached]
    if unreachable:
        raise ValueError(f"steps not reachable from {ids[0]!r}: {', '.join(unreachable)}")
    cycle = _cycle_without_wait(by_id)
    if cycle:
        raise ValueError(f"steps {' → '.join(cycle)} loop without a wait")


def _cycle_without_wait(by_id: dict[str, Step]) -> list[str]:
    """A cycle through steps none of which waits, or [] (depth-first, without recursion)."""
    moving = {sid: s for sid, s in by_id.items() if s.wait is None}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for root in moving:
        if state.get(root):
            continue
        path, stack = [root], [iter(moving[root].targets())]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif nxt in moving and state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            elif nxt in moving and not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(moving[nxt].targets()))
    return []
