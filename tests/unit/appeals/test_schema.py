"""The migrations build exactly the models' schema, and SQLite runs with safe settings."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from appeals import migrate
from appeals.db import make_engine
from tests.conftest import SERVER_URL, fresh_database


def test_empty_database_upgrades_to_head_with_no_drift(tmp_path: Path) -> None:
    with fresh_database(tmp_path) as url:
        engine = make_engine(url)
        try:
            migrate.upgrade(engine)
            migrate.check(engine)  # raises if autogenerate would find any difference
            tables = set(inspect(engine).get_table_names())
            assert {"shop", "app_user", "api_token", "shop_order", "complaint"} <= tables
        finally:
            engine.dispose()


def test_sqlite_runs_in_wal_with_foreign_keys_full_sync_and_busy_timeout(tmp_path: Path) -> None:
    if SERVER_URL:
        return  # the PostgreSQL profile has no pragmas; this profile's check is the run above
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
    engine.dispose()


def test_sqlite_write_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: a second writer waits at BEGIN instead of failing on upgrade."""
    if SERVER_URL:
        return
    import sqlite3

    path = tmp_path / "lock.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as writer:
        writer.begin()
        writer.execute(text("SELECT 1"))  # only a read so far, yet the lock is held
        other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            raised = False
        except sqlite3.OperationalError:
            raised = True
        finally:
            other.close()
        writer.rollback()
    engine.dispose()
    assert raised, "the first transaction did not take the write lock at BEGIN"


def test_read_only_sessions_leave_the_write_lock_free(tmp_path: Path) -> None:
    """GET pages read in deferred transactions, so they never queue behind a writer."""
    if SERVER_URL:
        return
    import sqlite3

    from appeals.db import READ_ONLY, make_session_factory

    path = tmp_path / "ro.db"
    engine = make_engine(f"sqlite:///{path}")
    session = make_session_factory(engine)()
    session.connection(execution_options=READ_ONLY)
    session.execute(text("SELECT 1"))
    other = sqlite3.connect(path, timeout=0.05, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        session.close()
        engine.dispose()
