"""What a consent event may name and when it counts: shared by the consent ledger and the import.

A recorded fact may be dated at most CLOCK_SKEW after the recording clock: anything later is an
error, not a fact (a consent dated 2030 would outrank every opt-out recorded before 2030).
"""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

from models.audience import ChannelName

CHANNELS = frozenset(get_args(ChannelName))
PURPOSES = frozenset({"marketing", "service", "profiling"})
INVALID_CONSENT_SOURCES = frozenset({"default", "bundled"})
CLOCK_SKEW = timedelta(minutes=5)
