"""Hash lists in the store: idempotent import in one transaction, listing, export."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from ocsea.hashlists.formats import HashEntry, HashListError, detect_format, parse
from ocsea.store.db import hash_entries, hash_list_imports, hash_lists

MAX_FILE_BYTES = 4 << 30
_BATCH = 5000


@dataclass(frozen=True)
class ImportResult:
    list_name: str
    file: str
    format: str
    n_entries: int
    n_new: int
    already_imported: bool


@dataclass(frozen=True)
class ListInfo:
    name: str
    source: str
    created_at: datetime
    updated_at: datetime
    n_entries: int
    categories: dict[str, int]
    imports: int


def dedupe_key(e: HashEntry) -> str:
    parts = [e.md5 or "", e.sha1 or "", e.sha256 or "", e.pdq or "", e.photodna or "",
             ",".join(f["hash"] if isinstance(f, dict) else str(f) for f in e.vpdq or [])]  # fmt: skip
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def import_file(
    engine: Engine,
    path: Path | str,
    list_name: str,
    source: str = "",
    fmt: str = "auto",
    text_type: str = "auto",
) -> ImportResult:
    """Parse the whole file first; write it in one transaction, or not at all."""
    path = Path(path)
    if not list_name.strip() or len(list_name) > 200:
        raise HashListError("list name must be 1..200 characters")
    if not path.is_file():
        raise HashListError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise HashListError(f"{path}: larger than {MAX_FILE_BYTES >> 30} GiB")
    raw = path.read_bytes()
    file_sha = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HashListError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
    if fmt == "auto":
        fmt = detect_format(path.name, text[:4096])
    entries = parse(fmt, text, str(path), text_type)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(select(hash_lists.c.id).where(hash_lists.c.name == list_name)).first()
        if row is None:
            list_id = conn.execute(
                insert(hash_lists).values(
                    name=list_name, source=source, created_at=now, updated_at=now
                )
            ).inserted_primary_key[0]
        else:
            list_id = row[0]
        done = conn.execute(
            select(hash_list_imports.c.id).where(
                hash_list_imports.c.list_id == list_id, hash_list_imports.c.file_sha256 == file_sha
            )
        ).first()
        if done is not None:
            return ImportResult(list_name, str(path), fmt, len(entries), 0, True)
        import_id = conn.execute(
            insert(hash_list_imports).values(
                list_id=list_id,
                file_name=path.name,
                file_sha256=file_sha,
                format=fmt,
                imported_at=now,
                n_entries=len(entries),
                n_new=0,
            )
        ).inserted_primary_key[0]
        before = conn.execute(
            select(func.count()).select_from(hash_entries).where(hash_entries.c.list_id == list_id)
        ).scalar_one()
        ins = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
        rows = [
            {
                "list_id": list_id,
                "import_id": import_id,
                "dedupe_key": dedupe_key(e),
                "md5": e.md5,
                "sha1": e.sha1,
                "sha256": e.sha256,
                "pdq": e.pdq,
                "pdq_quality": e.pdq_quality,
                "photodna": e.photodna,
                "category": e.category,
                "media_id": e.media_id,
                "vpdq": e.vpdq,
                "extra": e.extra or None,
            }
            for e in entries
        ]
        stmt = ins(hash_entries).on_conflict_do_nothing(index_elements=["list_id", "dedupe_key"])
        for i in range(0, len(rows), _BATCH):
            conn.execute(stmt, rows[i : i + _BATCH])
        after = conn.execute(
            select(func.count()).select_from(hash_entries).where(hash_entries.c.list_id == list_id)
        ).scalar_one()
        n_new = after - before
        conn.execute(
            hash_list_imports.update()
            .where(hash_list_imports.c.id == import_id)
            .values(n_new=n_new)
        )
        upd = {"updated_at": now}
        if source:
            upd["source"] = source
        conn.execute(hash_lists.update().where(hash_lists.c.id == list_id).values(**upd))
    return ImportResult(list_name, str(path), fmt, len(entries), n_new, False)


def list_lists(engine: Engine) -> list[ListInfo]:
    out: list[ListInfo] = []
    with engine.connect() as conn:
        for lid, name, source, created, updated in conn.execute(
            select(
                hash_lists.c.id,
                hash_lists.c.name,
                hash_lists.c.source,
                hash_lists.c.created_at,
                hash_lists.c.updated_at,
            ).order_by(hash_lists.c.name)
        ):
            cats = dict(
                conn.execute(
                    select(func.coalesce(hash_entries.c.category, ""), func.count())
                    .where(hash_entries.c.list_id == lid)
                    .group_by(hash_entries.c.category)
                ).all()
            )
            n_imports = conn.execute(
                select(func.count())
                .select_from(hash_list_imports)
                .where(hash_list_imports.c.list_id == lid)
            ).scalar_one()
            out.append(
                ListInfo(name, source, created, updated, sum(cats.values()), cats, n_imports)
            )
    return out


def list_entries(engine: Engine, list_name: str) -> list[HashEntry]:
    with engine.connect() as conn:
        lid = conn.execute(select(hash_lists.c.id).where(hash_lists.c.name == list_name)).scalar()
        if lid is None:
            raise HashListError(f"no hash list named {list_name!r}")
        rows = conn.execute(
            select(hash_entries).where(hash_entries.c.list_id == lid).order_by(hash_entries.c.id)
        ).mappings()
        return [
            HashEntry(
                md5=r["md5"],
                sha1=r["sha1"],
                sha256=r["sha256"],
                pdq=r["pdq"],
                pdq_quality=r["pdq_quality"],
                photodna=r["photodna"],
                category=r["category"],
                media_id=r["media_id"],
                vpdq=r["vpdq"],
                extra=r["extra"] or {},
            )
            for r in rows
        ]
