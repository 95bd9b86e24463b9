"""The visible state of a deadline (the windows themselves are in appeals.policies)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class DeadlineState(StrEnum):
    """How urgent a deadline is, as shown beside every absolute time."""

    AMPLE = "ample"
    UNDER_5_DAYS = "under_5_days"
    UNDER_24_HOURS = "under_24_hours"
    PAST_DUE = "past_due"


def deadline_state(deadline: datetime, now: datetime) -> DeadlineState:
    """Classify the time left before a deadline."""
    left = deadline - now
    if left <= timedelta(0):
        return DeadlineState.PAST_DUE
    if left <= timedelta(hours=24):
        return DeadlineState.UNDER_24_HOURS
    if left <= timedelta(days=5):
        return DeadlineState.UNDER_5_DAYS
    return DeadlineState.AMPLE
