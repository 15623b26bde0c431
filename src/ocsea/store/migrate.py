"""Alembic, driven from code: ``ocsea db upgrade`` / ``ocsea db status`` and engine start-up."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head() or ""


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@lru_cache(maxsize=1)
def newest_file_revision() -> str:
    """The newest revision as the files name it ("0010_….py" is revision "0010"); a test
    checks it is alembic's head."""
    return max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))


def _stored_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except SQLAlchemyError:
        return None


def upgrade(engine: Engine, revision: str = "head") -> None:
    # A database already at the newest revision is left without loading alembic: every command
    # opens the database, and alembic's import took 0.2 s of `ocsea match` (of 0.9 s).
    if revision == "head" and _stored_revision(engine) == newest_file_revision():
        return
    current = current_revision(engine)
    if revision == "head" and current == head_revision():
        return
    # A database made before migrations existed (hash lists only) needs nothing special here:
    # revision 0001 leaves its tables as they are and creates the rest as 0001 defines them.
    from alembic import command

    command.upgrade(_config(engine), revision)
