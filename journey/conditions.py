"""SQL for what a journey asks about a customer: branch conditions, the exit goal, the event a
wait waits for. Each is a predicate on a `journey_positions` row (its customer, and when they
entered the journey or the step)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import SQLColumnExpression, and_, exists, or_
from sqlalchemy.sql import ColumnElement

from audience.compile import compile_filter
from audience.holdout import bucket_expr, threshold
from db.intervals import not_later_than
from engagement.events import EventType as Received
from models.audience import EventType
from models.engagement_tables import MessageEvent
from models.journey import Condition, Engaged, Goal
from models.journey_tables import JourneyPosition as JP
from models.tables import BehaviorEvent, Customer, Delivery, Order
from models.tables import PlannedSend as PS

RECEIVED = {
    "delivered": Received.DELIVERED,
    "opened": Received.OPENED,
    "clicked": Received.CLICKED,
    "replied": Received.REPLIED,
}


def condition(
    cond: Condition, campaign_id: str, salt: str, now: datetime, window: timedelta, dialect: str
) -> ColumnElement[bool]:
    """One branch case's test. `salt` names the case, so two random splits are independent."""
    if cond.engaged is not None:
        return engaged(cond.engaged, campaign_id, window, dialect)
    if cond.filter is not None:
        # correlated on the customer's key, one index probe a row: an IN over the filter's
        # customers inside a CASE is a subplan PostgreSQL may rescan for every row
        return exists().where(Customer.id == JP.customer_id, compile_filter(cond.filter, now))
    assert cond.random is not None
    return bucket_expr(JP.customer_id, f"{campaign_id}:{salt}") < threshold(cond.random)


def engaged(
    asked: Engaged, campaign_id: str, window: timedelta, dialect: str
) -> ColumnElement[bool]:
    """The customer's send of step `asked.step` was delivered / opened / clicked / replied to,
    or was followed by an order within the attribution window (converted)."""
    own = and_(
        PS.campaign_id == campaign_id, PS.customer_id == JP.customer_id, PS.step == asked.step
    )
    if asked.did == "converted":
        return exists().where(
            own,
            Delivery.planned_send_id == PS.id,
            Delivery.outcome == "sent",
            Order.customer_id == JP.customer_id,
            Order.ordered_at >= Delivery.sent_at,
            not_later_than(dialect, Order.ordered_at, Delivery.sent_at, window),
        )
    return exists().where(
        own,
        MessageEvent.planned_send_id == PS.id,
        MessageEvent.event_type == RECEIVED[asked.did].value,
    )


def did_event(
    event: EventType, since: SQLColumnExpression[datetime], now: datetime
) -> ColumnElement[bool]:
    """The customer did `event` after `since` (an order counts as the `order` event too)."""
    seen = exists().where(
        BehaviorEvent.customer_id == JP.customer_id,
        BehaviorEvent.event_type == event,
        BehaviorEvent.occurred_at >= since,
        BehaviorEvent.occurred_at <= now,
    )
    if event != "order":
        return seen
    return or_(seen, _ordered(since, now))


def _ordered(
    since: SQLColumnExpression[datetime], now: datetime, *more: ColumnElement[bool]
) -> ColumnElement[bool]:
    return exists().where(
        Order.customer_id == JP.customer_id,
        Order.ordered_at >= since,
        Order.ordered_at <= now,
        *more,
    )


def goal_reached(goal: Goal, now: datetime) -> ColumnElement[bool]:
    """The journey's exit goal, reached since the customer entered the journey."""
    if goal.event is not None:
        return did_event(goal.event, JP.entered_at, now)
    assert goal.order is not None
    more = []
    if goal.order.min_amount is not None:
        more.append(Order.amount >= goal.order.min_amount)
    if goal.order.category is not None:
        more.append(Order.category == goal.order.category)
    return _ordered(JP.entered_at, now, *more)
