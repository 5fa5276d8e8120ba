"""Importing this package registers every rule; configuration picks which ones run."""

from compliance.rules import (
    calls,
    content_terms,
    email,
    impact,
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
    "content_terms",
    "email",
    "impact",
    "plan",
    "popup",
    "quiet_hours",
    "retention",
    "sms",
    "templates",
    "wechat",
]
