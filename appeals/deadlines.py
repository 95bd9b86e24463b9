"""Deadline policy and the visible state of a deadline."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class DeadlinePolicy:
    """How long a merchant has to appeal a complaint once the platform received it."""

    appeal_window: timedelta = timedelta(days=7)

    def appeal_deadline(self, received_at: datetime) -> datetime:
        return received_at + self.appeal_window


@dataclass(frozen=True)
class ReviewPolicy:
    """Reviewers' service levels and the merchant's windows during review."""

    first_review: timedelta = timedelta(days=3)
    second_review: timedelta = timedelta(days=5)
    answer_window: timedelta = timedelta(days=3)
    reappeal_window: timedelta = timedelta(days=7)
