"""Alembic, driven from code: ``ocsea db upgrade`` / ``ocsea db status`` and engine start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    current = current_revision(engine)
    if revision == "head" and current == head_revision():
        return
    # A database made before migrations existed (hash lists only) needs nothing special here:
    # revision 0001 leaves its tables as they are and creates the rest as 0001 defines them.
    command.upgrade(_config(engine), revision)
