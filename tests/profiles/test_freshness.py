"""Profiles are refreshed for research only when stale, and bad settings are named."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from models.tables import ProfileRefresh
from profiles.freshness import ensure_fresh, last_refresh, max_age
from settings import SettingsError
from tests.profiles.seed import D, customer, order


def test_refresh_only_when_stale(session: Session) -> None:
    customer(session, 1)
    order(session, 1, 3, "10")
    age = timedelta(minutes=15)
    assert ensure_fresh(session, D, age) is True  # no profiles yet
    assert ensure_fresh(session, D + timedelta(minutes=5), age) is False  # shared
    assert ensure_fresh(session, D - timedelta(minutes=1), age) is True  # profile from the future
    assert ensure_fresh(session, D + timedelta(hours=1), age) is True  # too old
    customer(session, 2)  # a new customer has no profile yet
    assert ensure_fresh(session, D + timedelta(hours=1, minutes=1), age) is True
    assert last_refresh(session) == D + timedelta(hours=1, minutes=1)
    refreshes = session.execute(select(ProfileRefresh.profiles, ProfileRefresh.changed)).all()
    assert refreshes[0] == (1, 1) and refreshes[-1] == (2, 1)  # only the new customer's row


def test_max_age_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OMNIREACH_PROFILE_MAX_AGE_SECONDS", "60")
    assert max_age() == timedelta(seconds=60)
    monkeypatch.setenv("OMNIREACH_PROFILE_MAX_AGE_SECONDS", "soon")
    with pytest.raises(SettingsError, match="OMNIREACH_PROFILE_MAX_AGE_SECONDS is 'soon'"):
        max_age()
