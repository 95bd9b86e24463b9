"""The id of each request, shown on error pages and problem documents and written to the log."""

from __future__ import annotations

import secrets

from flask import g


def request_id() -> str:
    """The id of the current request (made on first use)."""
    if "request_id" not in g:
        g.request_id = secrets.token_hex(6)
    return str(g.request_id)
