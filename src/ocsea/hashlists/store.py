"""Hash lists in the store: idempotent import in one transaction, listing, export."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ocsea.hashlists.formats import HashEntry, HashListError, detect_format, parse
from ocsea.store.db import hash_entries, hash_entry_sources, hash_list_imports, hash_lists

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
    rejected: tuple[str, ...] = ()  # rows not imported, each with file and line
    conflicts: tuple[str, ...] = ()  # entries whose category this import changed


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


_ENTRY_COLS = ("list_id", "import_id", "dedupe_key", "md5", "sha1", "sha256", "pdq", "pdq_quality",
               "photodna", "category", "media_id", "vpdq", "extra")  # fmt: skip
_SOURCE_COLS = ("entry_id", "import_id", "line", "category", "media_id", "extra")
_KEY_AT = _ENTRY_COLS.index("dedupe_key")
_CATEGORY_AT = _ENTRY_COLS.index("category")
_MEDIA_AT = _ENTRY_COLS.index("media_id")
_EXTRA_AT = _ENTRY_COLS.index("extra")


def _marks(conn, n: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * n)


def _json(v) -> str | None:
    return None if v in (None, {}, []) else json.dumps(v, ensure_ascii=False)


def _write_entries(conn, rows: list[tuple]) -> None:
    """Straight to the driver's executemany: the ORM-level parameter processing took 60 % of an
    import (1 M PDQ hashes: 62 s through SQLAlchemy Core)."""
    sql = (f"INSERT INTO hash_entries ({', '.join(_ENTRY_COLS)}) VALUES ({_marks(conn, len(_ENTRY_COLS))}) "
           "ON CONFLICT (list_id, dedupe_key) DO NOTHING")  # fmt: skip
    # In file order, so that entry ids and exports keep it (sorting by key saved 11 % of a 1M
    # import, not worth an export in another order).
    params = rows
    for k in range(0, len(params), _BATCH):
        conn.exec_driver_sql(sql, params[k : k + _BATCH])


def _keep_sources(conn, list_id: int, import_id: int, entries: list[HashEntry], rows: list[tuple],
                  file_name: str) -> list[str]:  # fmt: skip
    """A source row for every parsed row; categories this import changes, as conflicts. The
    block's entry ids come from one join with a temporary table of its keys."""
    m = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS ocsea_block_keys (k VARCHAR(64) PRIMARY KEY)"
    )
    conn.exec_driver_sql("DELETE FROM ocsea_block_keys")
    keys = sorted({r[_KEY_AT] for r in rows})
    for k in range(0, len(keys), _BATCH):
        conn.exec_driver_sql(
            f"INSERT INTO ocsea_block_keys (k) VALUES ({m})", [(x,) for x in keys[k : k + _BATCH]]
        )
    found = {
        key: (eid, cat, imp)
        for key, eid, cat, imp in conn.exec_driver_sql(
            "SELECT e.dedupe_key, e.id, e.category, e.import_id FROM hash_entries e "
            f"JOIN ocsea_block_keys b ON b.k = e.dedupe_key WHERE e.list_id = {m}", (list_id,)
        ).fetchall()
    }  # fmt: skip
    sources, conflicts, recategorise = [], [], {}
    current: dict[int, str | None] = {}
    for e, r in zip(entries, rows, strict=True):
        eid, cat, imp = found[r[_KEY_AT]]
        cat = current.get(eid, cat)
        new = r[_CATEGORY_AT]
        sources.append((eid, import_id, e.line, new, r[_MEDIA_AT], r[_EXTRA_AT]))
        if new is not None and cat is not None and new != cat:
            # every change is named, and the last row holds
            where = f"{file_name}:{e.line}" if e.line else file_name
            conflicts.append(f"{where}: {_hash_of(e)} was {cat!r}, now {new!r}"
                             + (" (in this file)" if imp == import_id else " (an earlier import)"))  # fmt: skip
            recategorise[eid] = new
        if new is not None:
            current[eid] = new
    sql = f"INSERT INTO hash_entry_sources ({', '.join(_SOURCE_COLS)}) VALUES ({_marks(conn, len(_SOURCE_COLS))})"
    for k in range(0, len(sources), _BATCH):
        conn.exec_driver_sql(sql, sources[k : k + _BATCH])
    for eid, cat in recategorise.items():
        conn.execute(hash_entries.update().where(hash_entries.c.id == eid).values(category=cat))
    return conflicts


def _hash_of(e: HashEntry) -> str:
    for k in ("md5", "sha1", "sha256", "pdq", "photodna"):
        v = getattr(e, k)
        if v:
            return f"{k} {v[:64]}"
    return "vpdq video"


def entry_history(engine: Engine, value: str) -> list[dict]:
    """Every entry holding ``value`` (any hash type) with every source row behind it."""
    v = value.strip().lower()
    cols = [hash_entries.c.md5, hash_entries.c.sha1, hash_entries.c.sha256, hash_entries.c.pdq]
    out = []
    with engine.connect() as conn:
        q = (select(hash_entries, hash_lists.c.name.label("list_name"))
             .join(hash_lists, hash_lists.c.id == hash_entries.c.list_id)
             .where(or_(*(c == v for c in cols), hash_entries.c.photodna == value.strip())))  # fmt: skip
        for e in conn.execute(q).mappings():
            srcs = conn.execute(
                select(hash_entry_sources, hash_list_imports.c.file_name, hash_list_imports.c.imported_at)
                .join(hash_list_imports, hash_list_imports.c.id == hash_entry_sources.c.import_id)
                .where(hash_entry_sources.c.entry_id == e["id"]).order_by(hash_entry_sources.c.id)
            ).mappings().all()  # fmt: skip
            out.append({"entry": dict(e), "sources": [dict(s) for s in srcs]})
    return out


def import_file(
    engine: Engine,
    path: Path | str,
    list_name: str,
    source: str = "",
    fmt: str = "auto",
    text_type: str = "auto",
    strict: bool = False,
) -> ImportResult:
    """Import a list in one transaction (all of it, or on a file-level error nothing). Line-based
    formats (text, JSONL, NCMEC-style CSV, ICSE) are read and written in blocks of rows, so a
    national-size list never sits in memory whole; VICS and vPDQ files are read whole.

    A row that cannot be read is named (file and line) and the others are imported; ``strict``:
    the file is refused whole. Every row is kept as a source of its entry; a row that gives an
    entry another category is reported as a conflict, and the newest import's category holds (the
    older ones stay in the sources: ``hashes show``)."""
    path = Path(path)
    if not list_name.strip() or len(list_name) > 200:
        raise HashListError("list name must be 1..200 characters")
    if not path.is_file():
        raise HashListError(f"{path}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise HashListError(f"{path}: larger than {MAX_FILE_BYTES >> 30} GiB")
    file_sha = _file_sha256(path)
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    if fmt == "auto":
        fmt = detect_format(path.name, head.decode("utf-8-sig", errors="ignore"))
    for attempt in range(_ATTEMPTS):
        try:
            return _import_once(engine, path, list_name, source, fmt, text_type, strict, file_sha)
        except IntegrityError:
            # Another import created the same list, or imported the same file, between our
            # look and our write: once it has committed, a second look finds what it made.
            if attempt == _ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


_ATTEMPTS = 3


def _import_once(engine: Engine, path: Path, list_name: str, source: str, fmt: str,
                 text_type: str, strict: bool, file_sha: str) -> ImportResult:  # fmt: skip
    rejects: list[str] | None = None if strict else []
    now = datetime.now(UTC)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            # A national-size list's unique and hash indexes outgrow the default page cache;
            # this connection gets more while it imports (returned to the pool as it was).
            conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
        try:
            return _import_in(conn, path, list_name, source, fmt, text_type, strict, file_sha,
                              rejects, now)  # fmt: skip
        finally:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA cache_size=-65536")


IMPORT_CACHE_KIB = 512 * 1024


def _import_in(conn, path: Path, list_name: str, source: str, fmt: str, text_type: str,
               strict: bool, file_sha: str, rejects: list[str] | None,
               now: datetime) -> ImportResult:  # fmt: skip
    row = conn.execute(select(hash_lists.c.id).where(hash_lists.c.name == list_name)).first()
    if row is None:
        list_id = conn.execute(
            insert(hash_lists).values(name=list_name, source=source, created_at=now, updated_at=now)
        ).inserted_primary_key[0]
    else:
        list_id = row[0]
    done = conn.execute(
        select(hash_list_imports.c.id, hash_list_imports.c.n_entries).where(
            hash_list_imports.c.list_id == list_id, hash_list_imports.c.file_sha256 == file_sha
        )
    ).first()
    if done is not None:
        return ImportResult(list_name, str(path), fmt, done.n_entries, 0, True)
    import_id = conn.execute(
        insert(hash_list_imports).values(
            list_id=list_id, file_name=path.name, file_sha256=file_sha, format=fmt,
            imported_at=now, n_entries=0, n_new=0,
        )
    ).inserted_primary_key[0]  # fmt: skip
    before = conn.execute(
        select(func.count()).select_from(hash_entries).where(hash_entries.c.list_id == list_id)
    ).scalar_one()
    n_entries = 0
    conflicts: list[str] = []
    for entries in _entry_blocks(path, fmt, text_type, rejects):
        rows = [_row(e, list_id, import_id) for e in entries]
        _write_entries(conn, rows)
        conflicts += _keep_sources(conn, list_id, import_id, entries, rows, path.name)
        n_entries += len(entries)
    if not n_entries:
        if rejects:
            raise HashListError(
                f"{path}: no readable entries ({len(rejects)} rows rejected; first: {rejects[0]})"
            )
        raise HashListError(f"{path}: no hash entries found")
    after = conn.execute(
        select(func.count()).select_from(hash_entries).where(hash_entries.c.list_id == list_id)
    ).scalar_one()
    n_new = after - before
    conn.execute(hash_list_imports.update().where(hash_list_imports.c.id == import_id)
                 .values(n_new=n_new, n_entries=n_entries))  # fmt: skip
    upd = {"updated_at": now}
    if source:
        upd["source"] = source
    conn.execute(hash_lists.update().where(hash_lists.c.id == list_id).values(**upd))
    return ImportResult(list_name, str(path), fmt, n_entries, n_new, False,
                    tuple(rejects or ()), tuple(conflicts))  # fmt: skip


BLOCK_ROWS = (
    100_000  # rows parsed and written at a time: memory stays flat whatever the list's size
)
_STREAMED = ("text", "jsonl", "ncmec", "icse")


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _entry_blocks(path: Path, fmt: str, text_type: str, rejects: list[str] | None):
    """Lists of entries, a block of rows at a time (line numbers are the file's)."""
    if fmt not in _STREAMED:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HashListError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
        yield parse(fmt, text, str(path), text_type, rejects)
        return
    header = ""
    lines: list[str] = []
    first = 1  # file line of lines[0]
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise HashListError(
                    f"{path}:{lineno}: not valid UTF-8 (byte {exc.start} of the line)"
                ) from None
            if lineno == 1 and fmt in ("ncmec", "icse"):
                header = line
                first = 2
                continue
            lines.append(line)
            if len(lines) >= BLOCK_ROWS:
                yield _parse_block(fmt, header, lines, first, path, text_type, rejects)
                first += len(lines)
                lines = []
    if lines or first <= 2:  # at least once: a header that names no hash column is refused
        yield _parse_block(fmt, header, lines, first, path, text_type, rejects)


def _parse_block(fmt: str, header: str, lines: list[str], first: int, path: Path, text_type: str,
                 rejects: list[str] | None) -> list[HashEntry]:  # fmt: skip
    text = (header if header.endswith("\n") or not header else header + "\n") + "".join(lines)
    shift = first - (2 if header else 1)
    return parse(fmt, text, str(path), text_type, rejects, shift=shift, allow_empty=True)


def _row(e: HashEntry, list_id: int, import_id: int) -> tuple:
    """An entry's values in ``_ENTRY_COLS`` order, JSON encoded where the column is."""
    return (list_id, import_id, dedupe_key(e), e.md5, e.sha1, e.sha256, e.pdq, e.pdq_quality,
            e.photodna, e.category[:100] if e.category else e.category,
            e.media_id[:200] if e.media_id else e.media_id, _json(e.vpdq), _json(e.extra))  # fmt: skip


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
