"""Importing this package registers every rule; configuration picks which ones run."""

from compliance.rules import (
    calls,
    claims,
    content_terms,
    email,
    gates,
    impact,
    international,
    per_number,
    plan,
    popup,
    quiet_hours,
    retention,
    sms,
    templates,
    wechat,
)

__all__ = [
    "calls",
    "claims",
    "content_terms",
    "email",
    "gates",
    "impact",
    "international",
    "per_number",
    "plan",
    "popup",
    "quiet_hours",
    "retention",
    "sms",
    "templates",
    "wechat",
]
