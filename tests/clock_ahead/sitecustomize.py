"""Moves the wall clock of every Python process of a test run by PORTAL_TEST_CLOCK_AHEAD.

`scripts/with-clock.sh` puts this folder on PYTHONPATH, so the tests, the servers and
workers they start and the S3 stand-in all start here and read the same moved, ticking
time (datetime, time.time, gmtime/localtime; monotonic clocks and file system stamps stay
real). The decode sandbox starts with a clean environment and reads no clock; Chromium and
redis-server keep theirs, and the portal reads neither. libfaketime was tried first and
dropped: with Python 3.11 its 0.9.10 either fails time.sleep with EINVAL or makes every
Event.wait(timeout) wait a year, and redis-server dies under it at start-up.
"""

from __future__ import annotations

import os
import re
import time

_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "y": 365 * 86400}


def _offset_seconds(offset: str) -> float:
    match = re.fullmatch(r"([+-]\d+(?:\.\d+)?)([smhdy]?)", offset)
    if not match:
        raise SystemExit(f"PORTAL_TEST_CLOCK_AHEAD={offset!r}: expected a form like +365d")
    return float(match.group(1)) * _UNITS[match.group(2)]


_ahead = os.environ.get("PORTAL_TEST_CLOCK_AHEAD")
if _ahead and __name__ == "sitecustomize":  # not when a test imports it for _offset_seconds
    import time_machine

    time_machine.travel(time.time() + _offset_seconds(_ahead), tick=True).start()
