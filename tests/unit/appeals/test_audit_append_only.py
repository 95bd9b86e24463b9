"""Nobody who writes through the application can rewrite the audit trail.

On SQLite the triggers refuse updates, deletes and (since 0017) INSERT OR REPLACE. On
PostgreSQL the application runs as its own role, which `init-db` grants the right to read
and append audit rows only: it cannot update, delete, truncate, upsert or switch the
append-only trigger off (that needs the owner, who runs the migrations).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from appeals import accounts, audit, migrate
from appeals.accounts import SYSTEM
from appeals.db import make_engine, make_session_factory
from tests.conftest import SERVER_URL, fresh_database

REWRITES = {
    "update": "UPDATE audit_event SET action = 'forged' WHERE id = :id",
    "delete": "DELETE FROM audit_event WHERE id = :id",
}


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


def _one_entry(engine: Engine) -> int:
    with make_session_factory(engine)() as session:
        shop = accounts.create_shop(session, SYSTEM, "Shop " + secrets.token_hex(3))
        session.commit()
        event = audit.record(session, SYSTEM, "shop.checked", shop)
        session.commit()
        return event.id


def _refused(engine: Engine, sql: str, **params: object) -> None:
    with pytest.raises(DBAPIError), engine.begin() as conn:
        conn.execute(text(sql), params)


def test_the_application_cannot_rewrite_the_audit_trail(database: str, tmp_path: Path) -> None:
    if not SERVER_URL:
        engine = make_engine(database)
        entry = _one_entry(engine)
        for sql in REWRITES.values():
            _refused(engine, sql, id=entry)
        _refused(
            engine,
            "INSERT OR REPLACE INTO audit_event (id, occurred_at, actor_label, action,"
            " object_type, object_id, prev_hash, entry_hash)"
            " SELECT id, occurred_at, actor_label, 'forged', object_type, object_id, prev_hash,"
            " entry_hash FROM audit_event WHERE id = :id",
            id=entry,
        )
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT action FROM audit_event WHERE id = :id"),
                               {"id": entry}) == "shop.checked"  # fmt: skip
        assert audit.verify(make_session_factory(engine)()).intact
        engine.dispose()
        return

    role = f"portal_app_{secrets.token_hex(4)}"
    admin = create_engine(SERVER_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE ROLE {role} LOGIN"))
    try:
        # init-db as the owner, granting the application's role (the documented set-up).
        from merchant_portal import create_app

        app_url = make_url(database).set(username=role).render_as_string(hide_password=False)
        app = create_app({"DATABASE_URL": app_url, "DATABASE_OWNER_URL": database,
                          "DATABASE_APP_ROLE": role, "SECRET_KEY": "x" * 32,
                          "DATA_DIR": tmp_path})  # fmt: skip
        with app.app_context():
            runner = app.test_cli_runner()
            result = runner.invoke(args=["init-db"])
        assert result.exit_code == 0, result.output
        assert "only to read and append" in result.output
        app.config["DATABASE_ENGINE"].dispose()

        as_app = make_engine(app_url)
        entry = _one_entry(as_app)  # the application writes and appends as before
        for sql in REWRITES.values():
            _refused(as_app, sql, id=entry)
        _refused(as_app, "TRUNCATE audit_event")
        _refused(as_app, "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        _refused(as_app, "DROP TRIGGER audit_event_append_only ON audit_event")
        _refused(
            as_app,
            "INSERT INTO audit_event SELECT * FROM audit_event WHERE id = :id"
            " ON CONFLICT (id) DO UPDATE SET action = 'forged'",
            id=entry,
        )
        assert audit.verify(make_session_factory(as_app)()).intact
        as_app.dispose()
    finally:
        with admin.connect() as conn:
            owner = make_engine(database)
            with owner.begin() as own:
                own.execute(text(f"DROP OWNED BY {role}"))
            owner.dispose()
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()
