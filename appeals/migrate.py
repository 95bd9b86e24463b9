"""Schema migrations (Alembic) for the models of this package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

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
