"""Importing this package registers every rule; configuration picks which ones run."""

from compliance.rules import (
    claims,
    content_terms,
    email,
    gates,
    international,
    per_number,
    plan,
    popup,
    quiet_hours,
    sms,
    templates,
    wechat,
)

__all__ = [
    "claims",
    "content_terms",
    "email",
    "gates",
    "international",
    "per_number",
    "plan",
    "popup",
    "quiet_hours",
    "sms",
    "templates",
    "wechat",
]
