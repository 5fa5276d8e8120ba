"""What a consent event may name and when it counts: shared by the consent ledger and the import.

A recorded fact may be dated at most CLOCK_SKEW after the recording clock: anything later is an
error, not a fact (a consent dated 2030 would outrank every opt-out recorded before 2030).
"""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

from models.audience import ChannelName

CHANNELS = frozenset(get_args(ChannelName))
# push_marketing: promotional app pushes (CN-23); cross_border: data to an overseas provider (CN-28)
PURPOSES = frozenset({"marketing", "service", "profiling", "push_marketing", "cross_border"})
INVALID_CONSENT_SOURCES = frozenset({"default", "bundled"})
CLOCK_SKEW = timedelta(minutes=5)
