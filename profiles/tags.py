"""Tags derived from data, stored as columns of the customer's profile; manual tags are rows.

Kinds (one of each per customer at most), each a profile column holding the whole tag:
  tag_age       age:<band>       from birth year at D: under_18, 18-24, 25-34, 35-44, 45-54,
                                 55-64, 65+
  tag_power     power:<band>     purchasing power from the M score: low (1–2), mid (3–4), high (5)
  tag_category  category:<name>  the category the customer spent most on in the RFM window
  tag_channel   channel:<name>   preferred channel from past opens and clicks
  tag_active    active:<band>    own best hour: morning 6–11, afternoon 12–17, evening 18–22,
                                 night 23–5
They are rewritten with the rest of the profile on every refresh, so a refresh costs no tag
rows at all. A customer has tag X when X is one of their manual tags (customer_tags) or one of
these columns; a manual tag with the same text as a data tag simply means the same thing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Integer, case, func, literal, or_, select
from sqlalchemy.sql import ColumnElement

from models.tables import Customer, CustomerProfile, CustomerTag

AGE_BANDS = (
    (18, "under_18"),
    (25, "18-24"),
    (35, "25-34"),
    (45, "35-44"),
    (55, "45-54"),
    (65, "55-64"),
)
HOUR_BANDS = ((6, "night"), (12, "morning"), (18, "afternoon"), (23, "evening"))
TAG_ROOM = 64
COLUMNS = ("tag_age", "tag_power", "tag_category", "tag_channel", "tag_active")


def _prefixed(prefix: str, value: ColumnElement[Any]) -> ColumnElement[str]:
    return literal(prefix) + func.substr(value, 1, TAG_ROOM - len(prefix))


def data_tags(
    as_of: datetime,
    birth_year: ColumnElement[int | None],
    m_score: ColumnElement[int | None],
    top_category: ColumnElement[str | None],
    channel: ColumnElement[str | None],
    own_hour: ColumnElement[int | None],
) -> list[ColumnElement[str | None]]:
    """The COLUMNS' values from the refresh's inputs (NULL where a kind does not apply).
    `own_hour` is the customer's own best hour, NULL when they have too little activity."""
    age = literal(as_of.year, Integer) - birth_year
    age_band = case(*((age < upper, name) for upper, name in AGE_BANDS), else_="65+")
    power = case((m_score >= 5, "high"), (m_score >= 3, "mid"), else_="low")
    hour_band = case(*((own_hour < upper, name) for upper, name in HOUR_BANDS), else_="night")
    return [
        case((birth_year.is_not(None), _prefixed("age:", age_band))),
        case((m_score.is_not(None), _prefixed("power:", power))),
        case((top_category.is_not(None), _prefixed("category:", top_category))),
        case((channel.is_not(None), _prefixed("channel:", channel))),
        case((own_hour.is_not(None), _prefixed("active:", hour_band))),
    ]


def has_any_tag(tags: list[str]) -> ColumnElement[bool]:
    """Predicate on `Customer`: a manual or data tag among `tags` (bound values only)."""
    manual = (
        select(CustomerTag.customer_id)
        .where(CustomerTag.customer_id == Customer.id, CustomerTag.tag.in_(tags))
        .correlate(Customer)
        .exists()
    )
    derived = (
        select(CustomerProfile.customer_id)
        .where(
            CustomerProfile.customer_id == Customer.id,
            or_(*(getattr(CustomerProfile, c).in_(tags) for c in COLUMNS)),
        )
        .correlate(Customer)
        .exists()
    )
    return or_(manual, derived)


def profile_tags(profile: CustomerProfile | None) -> list[str]:
    """The data tags a stored profile carries."""
    if profile is None:
        return []
    return [t for t in (getattr(profile, c) for c in COLUMNS) if t is not None]
