"""Schema migrations (Alembic) for the models of this package."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, text

_PACKAGED = Path(__file__).parent / "migrations"
_SOURCE_TREE = Path(__file__).parent.parent / "migrations"
FILE_TEMPLATE = "%%(year)d%%(month).2d%%(day).2d_%%(hour).2d%%(minute).2d_%%(rev)s_%%(slug)s"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config for this engine, finding the scripts in a wheel or a checkout."""
    config = Config()
    location = _PACKAGED if _PACKAGED.is_dir() else _SOURCE_TREE
    config.set_main_option("script_location", str(location))
    config.set_main_option("file_template", FILE_TEMPLATE)
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    """Bring the database schema up to a revision, in one transaction."""
    if isinstance(bind, Connection):
        config = alembic_config(bind.engine)
        config.attributes["connection"] = bind
        command.upgrade(config, revision)
        return
    with bind.begin() as connection:
        upgrade(connection, revision)


def check(engine: Engine) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.check(config)


# The application's own role may write every table but the audit trail, which it may only
# read and append to; it owns nothing, so it can neither drop the append-only triggers nor
# disable them (ALTER TABLE needs the owner, who runs the migrations).
APPEND_ONLY = ("audit_event",)
_ROLE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def grant_app_role(connection: Connection, role: str) -> None:
    """Give the application's database role what it needs and no more (PostgreSQL)."""
    if connection.dialect.name != "postgresql":
        raise ValueError("a separate application role needs PostgreSQL")
    if not _ROLE.match(role):
        raise ValueError(f"not a plain role name: {role!r}")
    owner = connection.scalar(text("SELECT current_user"))
    if owner == role:
        raise ValueError("the application role must not be the one that owns the tables")
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {role}",
        *(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {role}" for table in APPEND_ONLY),
    ):
        connection.execute(text(statement))
