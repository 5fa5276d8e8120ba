"""Importing this package registers every rule; configuration picks which ones run."""

from broadcast import popup_rule
from compliance.rules import content_terms, email, plan, quiet_hours, sms, templates, wechat

__all__ = ["content_terms", "email", "plan", "popup_rule", "quiet_hours", "sms", "templates",
           "wechat"]
