"""One SQLAlchemy session per app context, opened on first use and closed at teardown."""

from __future__ import annotations

import logging

from flask import Flask, g, request
from sqlalchemy.orm import Session

from appeals.db import READ_ONLY, make_engine, make_session_factory

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def init_app(app: Flask) -> None:
    """Bind the database: a Connection given as DATABASE_BIND (tests) or DATABASE_URL."""
    bind = app.config.get("DATABASE_BIND")
    if bind is None:
        bind = make_engine(app.config["DATABASE_URL"])
        app.config["DATABASE_ENGINE"] = bind
    app.extensions["appeal_desk.sessions"] = make_session_factory(bind)
    app.teardown_appcontext(_close)


def db() -> Session:
    """The session of the current app context."""
    session: Session | None = g.get("_db_session")
    if session is None:
        from flask import current_app

        session = current_app.extensions["appeal_desk.sessions"]()
        if _read_only_request():
            session.connection(execution_options=READ_ONLY)
        g._db_session = session
    return session


def _read_only_request() -> bool:
    # Pages viewed with GET only read; starting them deferred lets them run beside a writer.
    try:
        return request.method in _SAFE_METHODS and request.blueprint != "api"
    except RuntimeError:  # no request: CLI or worker
        return False


def _close(_exc: BaseException | None) -> None:
    session: Session | None = g.pop("_db_session", None)
    if session is not None:
        session.close()


def rollback_quietly() -> None:
    """Roll back the context's session after an error, whatever state it is in."""
    session: Session | None = g.get("_db_session")
    if session is not None:
        try:
            session.rollback()
        except Exception:  # the connection itself may be broken; teardown closes it
            logging.getLogger("merchant_portal").warning("rollback failed", exc_info=True)
