"""Alembic, driven from code: ``ocsea db upgrade`` / ``ocsea db status`` and engine start-up."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# What revision 0001 creates; a database from before migrations gets these, then later revisions.
REVISION_0001_TABLES = (
    "hash_lists", "hash_list_imports", "hash_entries", "items", "signals", "findings", "sharers",
    "observations", "query_stats", "query_sessions", "ingest_jobs", "lexicon_terms", "term_candidates",
)  # fmt: skip


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
    if current is None and inspect(engine).has_table("hash_lists"):
        # A database made before migrations existed (hash lists only): add what revision 0001
        # adds, then record it as 0001 so later migrations apply normally.
        from ocsea.store.db import metadata

        tables = [metadata.tables[t] for t in REVISION_0001_TABLES]
        metadata.create_all(engine, tables=tables, checkfirst=True)
        command.stamp(_config(engine), "0001")
    command.upgrade(_config(engine), revision)
