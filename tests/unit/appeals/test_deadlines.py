from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from appeals.deadlines import DeadlineState, deadline_state
from appeals.policies import DeadlinePolicy

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("left", "state"),
    [
        (timedelta(days=6), DeadlineState.AMPLE),
        (timedelta(days=5, seconds=1), DeadlineState.AMPLE),
        (timedelta(days=5), DeadlineState.UNDER_5_DAYS),
        (timedelta(hours=25), DeadlineState.UNDER_5_DAYS),
        (timedelta(hours=24), DeadlineState.UNDER_24_HOURS),
        (timedelta(seconds=1), DeadlineState.UNDER_24_HOURS),
        (timedelta(0), DeadlineState.PAST_DUE),
        (-timedelta(days=3), DeadlineState.PAST_DUE),
    ],
)
def test_deadline_states(left: timedelta, state: DeadlineState) -> None:
    assert deadline_state(NOW + left, NOW) is state


def test_policy_sets_the_appeal_deadline() -> None:
    assert DeadlinePolicy(timedelta(days=3)).appeal_deadline(NOW) == NOW + timedelta(days=3)
