"""The product's one clock: every "now" of the portal, the API, the CLI and the worker.

Nothing else in the code reads the wall clock for a business time. Tests move it, together
with every other clock of the process (cookies, CSRF tokens), through the `clock` fixture;
CI moves it a year ahead in every process of a run, servers included (scripts/with-clock.sh).
"""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)
