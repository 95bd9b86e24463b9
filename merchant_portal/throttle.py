"""Counting failed attempts (sign-ins) per key, in memory or in Redis shared by all servers."""

from __future__ import annotations

import math
import time

from flask import Flask, current_app
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter


class Throttle:
    """A moving-window limit on failures: only failed attempts are counted."""

    def __init__(self, storage_uri: str, limit: str, prefix: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._limit: RateLimitItem = parse(limit)
        self._prefix = prefix

    def retry_after(self, *keys: str) -> int | None:
        """Seconds to wait if any key has used up its failures, else None."""
        waits = [
            self._limiter.get_window_stats(self._limit, self._prefix, key).reset_time - time.time()
            for key in keys
            if not self._limiter.test(self._limit, self._prefix, key)
        ]
        return max(1, math.ceil(max(waits))) if waits else None

    def record_failure(self, *keys: str) -> None:
        for key in keys:
            self._limiter.hit(self._limit, self._prefix, key)


def init_app(app: Flask) -> None:
    """One throttle per app, sharing Redis with the other servers when REDIS_URL is set."""
    storage = app.config["REDIS_URL"] or "memory://"
    app.extensions["appeal_desk.login_throttle"] = Throttle(
        storage, app.config["LOGIN_RATE_LIMIT"], app.config["RATE_LIMIT_PREFIX"]
    )


def login_throttle() -> Throttle:
    throttle: Throttle = current_app.extensions["appeal_desk.login_throttle"]
    return throttle
