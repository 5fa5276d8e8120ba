"""Importing this package registers every rule; configuration picks which ones run."""

from compliance.rules import content_terms, email, plan, popup, quiet_hours, sms, templates, wechat

__all__ = ["content_terms", "email", "plan", "popup", "quiet_hours", "sms", "templates", "wechat"]
