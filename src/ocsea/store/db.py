"""Engine and schema. Tables are created on first use; Alembic migrations arrive with the triage
store, which takes these tables over unchanged."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine

metadata = MetaData()

hash_lists = Table(
    "hash_lists",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("source", String(500), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

hash_list_imports = Table(
    "hash_list_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", ForeignKey("hash_lists.id", ondelete="CASCADE"), nullable=False),
    Column("file_name", String(1000), nullable=False),
    Column("file_sha256", String(64), nullable=False),
    Column("format", String(20), nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("n_entries", Integer, nullable=False),
    Column("n_new", Integer, nullable=False),
    UniqueConstraint("list_id", "file_sha256", name="uq_import_file"),
)

hash_entries = Table(
    "hash_entries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("list_id", ForeignKey("hash_lists.id", ondelete="CASCADE"), nullable=False),
    Column("import_id", ForeignKey("hash_list_imports.id"), nullable=True),
    Column("dedupe_key", String(64), nullable=False),
    Column("md5", String(32)),
    Column("sha1", String(40)),
    Column("sha256", String(64)),
    Column("pdq", String(64)),
    Column("pdq_quality", Integer),
    Column("photodna", Text),
    Column("category", String(100)),
    Column("media_id", String(200)),
    Column("vpdq", JSON),
    Column("extra", JSON),
    UniqueConstraint("list_id", "dedupe_key", name="uq_entry"),
    Index("ix_entries_md5", "md5"),
    Index("ix_entries_sha1", "sha1"),
    Index("ix_entries_sha256", "sha256"),
    Index("ix_entries_pdq", "pdq"),
)


def default_url() -> str:
    url = os.environ.get("OCSEA_DATABASE_URL")
    if url:
        return url
    home = Path(os.environ.get("OCSEA_HOME") or Path.home() / ".local" / "share" / "ocsea")
    home.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{home / 'ocsea.db'}"


def make_engine(url: str | None = None) -> Engine:
    url = url or default_url()
    engine = create_engine(url, future=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

    metadata.create_all(engine)
    return engine
