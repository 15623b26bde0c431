"""Hash lists in the store: idempotent import in one transaction, listing, export."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

import numpy as np
from sqlalchemy import func, insert, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ocsea.hashlists.formats import HASH_LENGTHS, HashEntry, HashListError, detect_format, parse
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
    """One entry per distinct set of hashes in a list. The key starts with the entry's first
    digest, so that an import written in key order (``_insert_new_entries``) also walks that
    digest's index in order: a 10M PDQ list inserted in the order of a plain SHA-256 key touched
    both big indexes at random."""
    parts = [e.md5 or "", e.sha1 or "", e.sha256 or "", e.pdq or "", e.photodna or "",
             ",".join(f["hash"] if isinstance(f, dict) else str(f) for f in e.vpdq or [])]  # fmt: skip
    return _key("|".join(parts), next((p for p in parts[:4] if p), ""))


def _key(joined: str, first: str) -> str:
    """The key of an entry whose hashes, joined, are ``joined`` and whose first digest is
    ``first`` ("" for none)."""
    lead = first[:_LEAD]
    return lead + hashlib.sha256(joined.encode()).hexdigest()[: 64 - len(lead)]


_LEAD = 16  # hex digits of the first digest that lead the key (the rest: 192 bits of SHA-256)

_ENTRY_COLS = ("list_id", "import_id", "dedupe_key", "md5", "sha1", "sha256", "pdq", "pdq_quality",
               "photodna", "category", "media_id", "vpdq", "extra")  # fmt: skip
_ROW_COLS = ("seq", "k", "md5", "sha1", "sha256", "pdq", "pdq_quality", "photodna", "category",
             "media_id", "vpdq", "extra", "line")  # fmt: skip
_ROWS = "ocsea_import_rows"
_SORTED = "ocsea_import_sorted"


def _marks(conn, n: int) -> str:
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    return ", ".join([mark] * n)


def _json(v) -> str | None:
    return None if v in (None, {}, []) else json.dumps(v, ensure_ascii=False)


def _as_json(conn, col: str) -> str:
    # PostgreSQL stores JSON columns typed; SQLite's CAST to an unknown type would make numbers.
    return f"CAST({col} AS JSON)" if conn.dialect.name == "postgresql" else col


def _stage_open(conn) -> None:
    """Every parsed row goes to a temporary table first, in file order; the writes to the list's
    tables are then a few statements in key order (``_sort_staged``). A 10M PDQ list inserted row
    by row into two randomly ordered indexes ran at 11k entries/s."""
    cols = ("k VARCHAR(64) NOT NULL, md5 TEXT, sha1 TEXT, sha256 TEXT, pdq TEXT, pdq_quality INTEGER, "
            "photodna TEXT, category TEXT, media_id TEXT, vpdq TEXT, extra TEXT, line INTEGER")  # fmt: skip
    # INTEGER PRIMARY KEY: SQLite's row id itself, so rows are stored in that order, unindexed.
    sqlite = conn.dialect.name == "sqlite"
    create = (
        f"CREATE TABLE IF NOT EXISTS {_STAGE_DB}."
        if sqlite
        else "CREATE TEMPORARY TABLE IF NOT EXISTS "
    )
    for table, pos in (
        (_ROWS, "seq INTEGER PRIMARY KEY"),
        (_SORTED, "pos INTEGER PRIMARY KEY, seq INTEGER"),
    ):
        conn.exec_driver_sql(f"{create}{table} ({pos}, {cols})")
        conn.exec_driver_sql(f"DELETE FROM {table}")


def _stage_close(conn) -> None:
    if conn.dialect.name != "sqlite":  # SQLite's scratch database goes whole (_staging_database)
        for table in (_ROWS, _SORTED):
            conn.exec_driver_sql(f"DROP TABLE {table}")


def _sort_staged(conn) -> None:
    """One sort of the staged rows by key (file order within a key), into a second table read
    twice in that order: reading the staged rows through two sorts cost 132 s of a 10M import."""
    cols = ", ".join(_ROW_COLS)
    if conn.dialect.name == "sqlite":  # row ids are given in insertion order
        conn.exec_driver_sql(
            f"INSERT INTO {_SORTED} ({cols}) SELECT {cols} FROM {_ROWS} ORDER BY k, seq"
        )
    else:
        conn.exec_driver_sql(
            f"INSERT INTO {_SORTED} (pos, {cols}) "
            f"SELECT ROW_NUMBER() OVER (ORDER BY k, seq), {cols} FROM {_ROWS}"
        )
        # Autovacuum never sees a temporary table: without statistics the planner guessed a
        # few thousand rows and joined a national-size import row by row.
        conn.exec_driver_sql(f"ANALYZE {_SORTED}")


def _stage(conn, cols: tuple[str, ...], rows: list[tuple], table: str = _ROWS) -> None:
    """Straight to the driver's executemany: the ORM-level parameter processing took 60 % of an
    import (1 M PDQ hashes: 62 s through SQLAlchemy Core). PostgreSQL takes them by COPY: its
    executemany staged 1 M PDQ rows in 12 s."""
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        cur = conn.connection.driver_connection.cursor()
        with cur, cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({_marks(conn, len(cols))})"
    for k in range(0, len(rows), _BATCH):
        conn.exec_driver_sql(sql, rows[k : k + _BATCH])


def _insert_new_entries(conn, list_id: int, import_id: int) -> int:
    """The first row of each key not yet in the list becomes its entry, in key order; returns
    how many (two counts of a 10M list's entries took 8 s)."""
    m = _marks(conn, 1)
    cols = ", ".join(_ENTRY_COLS)
    return conn.exec_driver_sql(
        f"INSERT INTO hash_entries ({cols}) SELECT {m}, {m}, s.k, s.md5, s.sha1, s.sha256, s.pdq, "
        "s.pdq_quality, s.photodna, s.category, s.media_id, "
        f"{_as_json(conn, 's.vpdq')}, {_as_json(conn, 's.extra')} FROM {_SORTED} s WHERE true "
        "ORDER BY s.pos ON CONFLICT (list_id, dedupe_key) DO NOTHING",
        (list_id, import_id),
    ).rowcount  # fmt: skip


def _insert_sources(conn, list_id: int, import_id: int) -> int:
    """A source row for every parsed row; returns the id above which this import's sources lie."""
    m = _marks(conn, 1)
    floor = conn.exec_driver_sql("SELECT COALESCE(MAX(id), 0) FROM hash_entry_sources").scalar_one()
    conn.exec_driver_sql(
        "INSERT INTO hash_entry_sources (entry_id, import_id, line, category, media_id, extra, seq) "
        f"SELECT e.id, {m}, s.line, s.category, s.media_id, {_as_json(conn, 's.extra')}, s.seq "
        f"FROM {_SORTED} s JOIN hash_entries e ON e.list_id = {m} AND e.dedupe_key = s.k "
        "ORDER BY s.pos",
        (import_id, list_id),
    )  # fmt: skip
    return floor


def _recategorise(conn, import_id: int, floor: int, file_name: str) -> list[str]:
    """Categories this import changes, as conflicts (file order); the last row holds. Only the
    entries where some row's category differs from the entry's are read back."""
    m = _marks(conn, 1)
    changed = (
        "SELECT s.entry_id FROM hash_entry_sources s JOIN hash_entries e ON e.id = s.entry_id "
        f"WHERE s.id > {m} AND s.import_id = {m} AND s.category IS NOT NULL "
        "AND (e.category IS NULL OR s.category <> e.category)"
    )
    rows = conn.exec_driver_sql(
        "SELECT s.entry_id, s.line, s.category, e.category, e.import_id, e.md5, e.sha1, e.sha256, "
        "e.pdq, e.photodna FROM hash_entry_sources s JOIN hash_entries e ON e.id = s.entry_id "
        f"WHERE s.id > {m} AND s.import_id = {m} AND s.entry_id IN ({changed}) ORDER BY s.id",
        (floor, import_id, floor, import_id),
    ).fetchall()  # fmt: skip
    conflicts: list[tuple[int, str]] = []
    current: dict[int, str | None] = {}
    stored_as: dict[int, str | None] = {}
    for eid, line, new, stored, imp, *hashes in rows:
        stored_as[eid] = stored
        cat = current.get(eid, stored)
        if new is not None and cat is not None and new != cat:
            where = f"{file_name}:{line}" if line else file_name
            conflicts.append((line or 0, f"{where}: {_hash_of(*hashes)} was {cat!r}, now {new!r}"
                              + (" (in this file)" if imp == import_id else " (an earlier import)")))  # fmt: skip
        if new is not None:
            current[eid] = new
    for eid, cat in current.items():
        if cat != stored_as[eid]:
            conn.execute(hash_entries.update().where(hash_entries.c.id == eid).values(category=cat))
    return [msg for _, msg in sorted(conflicts, key=lambda c: c[0])]


def _hash_of(md5, sha1, sha256, pdq, photodna) -> str:
    for k, v in (
        ("md5", md5),
        ("sha1", sha1),
        ("sha256", sha256),
        ("pdq", pdq),
        ("photodna", photodna),
    ):
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
    with engine.connect() as conn, _staging_database(conn), conn.begin():
        return _import_in(conn, path, list_name, source, fmt, text_type, strict, file_sha,
                          rejects, now)  # fmt: skip


@contextmanager
def _staging_database(conn) -> Iterator[None]:
    """SQLite: the staged rows go to a private scratch database of their own, unjournalled
    (what a failed import leaves there is thrown away) and gone at once when detached; dropping
    the staging tables of a 10M import from the temp database took 7 s. The connection also gets
    a larger page cache while it imports: a national-size list's indexes outgrow the default."""
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql(f"ATTACH DATABASE '' AS {_STAGE_DB}")
    try:
        conn.exec_driver_sql(f"PRAGMA {_STAGE_DB}.journal_mode=OFF")
        conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
        conn.commit()  # ATTACH and DETACH cannot run inside a transaction
        yield
    finally:
        try:
            conn.rollback()  # nothing, after the import's commit; its undoing after a failure
            conn.exec_driver_sql("PRAGMA cache_size=-65536")  # the pool's connection as it was
            conn.exec_driver_sql(f"DETACH DATABASE {_STAGE_DB}")
            conn.commit()
        except Exception:
            # Never back to the pool with the scratch database attached (every later import
            # on it would fail), and never hiding the import's own error.
            conn.invalidate()


_STAGE_DB = "ocsea_stage"
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
    n_entries = 0
    _stage_open(conn)
    bare = _bare_list(path, text_type) if fmt == "text" and text_type in HASH_LENGTHS else None
    if bare is not None:
        n_entries = _stage_presorted(conn, bare, text_type)
    else:
        for cols, rows in _staged_blocks(path, fmt, text_type, rejects):
            _stage(conn, cols, rows)
            n_entries += len(rows)
    if not n_entries:
        if rejects:
            raise HashListError(
                f"{path}: no readable entries ({len(rejects)} rows rejected; first: {rejects[0]})"
            )
        raise HashListError(f"{path}: no hash entries found")
    if bare is None:
        _sort_staged(conn)
    n_new = _insert_new_entries(conn, list_id, import_id)
    floor = _insert_sources(conn, list_id, import_id)
    conflicts = _recategorise(conn, import_id, floor, path.name)
    _stage_close(conn)
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


def _staged_blocks(path: Path, fmt: str, text_type: str,
                   rejects: list[str] | None) -> Iterator[tuple[tuple[str, ...], list[tuple]]]:  # fmt: skip
    """Rows to stage (their columns, then the rows), a block of the file at a time, numbered in
    file order; line numbers are the file's."""
    seq = 0
    for first, header, text in _text_blocks(path, fmt):
        rows = None
        if fmt == "text" and text_type in HASH_LENGTHS:
            rows = _bare_rows(text, text_type, first, seq)
        if rows is not None:
            cols: tuple[str, ...] = ("seq", "k", text_type, "line")
        else:
            block = (header if header.endswith("\n") or not header else header + "\n") + text
            shift = first - (2 if header else 1)
            entries = parse(
                fmt, block, str(path), text_type, rejects, shift=shift, allow_empty=True
            )
            rows = [_row(e, seq + i) for i, e in enumerate(entries)]
            cols = _ROW_COLS
        seq += len(rows)
        yield cols, rows


def _text_blocks(path: Path, fmt: str) -> Iterator[tuple[int, str, str]]:
    """(file line of the block's first row, the file's header row or "", the block's text).
    Line-based formats come ``BLOCK_ROWS`` lines at a time, so a national-size list never sits
    in memory whole; VICS and vPDQ files are read whole."""
    if fmt not in _STREAMED:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HashListError(f"{path}: not valid UTF-8 at byte {exc.start}") from None
        yield 1, "", text
        return
    header = ""
    first = 1
    with path.open("rb") as fh:
        if fmt in ("ncmec", "icse"):
            header = _decoded(path, [fh.readline()], 1)
            first = 2
        while True:
            lines = list(islice(fh, BLOCK_ROWS))  # the file's own b"\n" breaks, read in C
            if lines or first <= 2:  # at least once: a header naming no hash column is refused
                yield first, header, _decoded(path, lines, first)
            if len(lines) < BLOCK_ROWS:
                return
            first += len(lines)


def _decoded(path: Path, lines: list[bytes], first: int) -> str:
    """A block's lines as text, decoded at once; an invalid line is named by its number."""
    try:
        text = b"".join(lines).decode("utf-8")
    except UnicodeDecodeError:
        for n, raw in enumerate(lines, first):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise HashListError(
                    f"{path}:{n}: not valid UTF-8 (byte {exc.start} of the line)"
                ) from None
        raise AssertionError("unreachable") from None
    return text[1:] if first == 1 and text.startswith("\ufeff") else text


# Blocks of nothing but bare hashes of one stated type, one a line: national-size lists are
# like this, and are checked with one regular expression a block and staged without parsing
# each row into an entry (10M PDQ hashes: 60 s of parsing and row building in Python before).
_BARE = {kind: re.compile(f"(?:[0-9a-fA-F]{{{n}}}\r?\n)*(?:[0-9a-fA-F]{{{n}}}\r?)?")
         for kind, n in HASH_LENGTHS.items()}  # fmt: skip
_SLOT = {"md5": 0, "sha1": 1, "sha256": 2, "pdq": 3}


def _bare_rows(text: str, kind: str, first: int, seq: int) -> list[tuple] | None:
    """``(seq, key, hash, line)`` rows when the block is bare hashes of ``kind`` (the same
    entries and keys the parser and ``dedupe_key`` give), else None (the parser reads it)."""
    if not text or not _BARE[kind].fullmatch(text):
        return None
    key = _bare_key(kind)
    return [(seq + i, key(h), h, first + i) for i, h in enumerate(text.lower().split())]


def _bare_key(kind: str) -> Callable[[str], str]:
    """The key ``dedupe_key`` gives an entry holding one lower-case hash of ``kind``: one
    formula for both bare-list paths (``_bare_rows``, ``_stage_presorted``)."""
    slot = _SLOT[kind]
    before, after = "|" * slot, "|" * (5 - slot)
    return lambda h: _key(f"{before}{h}{after}", h)


def _bare_list(path: Path, kind: str) -> np.ndarray | None:
    """The file's hashes as bytes, one row each in file order, when every line is one bare
    hash of ``kind`` (a national-size list as agencies share them); else None and the file is
    read row by row. 10M PDQ hashes are 320 MB here."""
    width = HASH_LENGTHS[kind] // 2
    most = path.stat().st_size // (2 * width + 1) + 1  # each line is at least a hash and a newline
    if most * (width + _SORT_BYTES_A_ROW) > PRESORT_MAX_BYTES:
        return None  # beyond the budget the row path's flat memory is worth its database sort
    # Filled in place: untouched pages cost nothing, and no second copy is made.
    out = np.empty((most, width), dtype=np.uint8)
    n = 0
    for _first, _header, text in _text_blocks(path, "text"):
        if not text:
            continue
        if not _BARE[kind].fullmatch(text):
            return None
        block = np.frombuffer(bytes.fromhex("".join(text.split())), dtype=np.uint8)
        rows = len(block) // width
        out[n : n + rows] = block.reshape(rows, width)
        n += rows
    return out[:n] if n else None


# The in-memory sort's budget: the hashes, and per row the sort's lead, order and workspace.
# 10M PDQ hashes: 560 MB; larger lists (about 18M PDQ or 25M MD5 hashes) take the row path.
PRESORT_MAX_BYTES = 1 << 30
_SORT_BYTES_A_ROW = 24


def _stage_presorted(conn, hashes: np.ndarray, kind: str) -> int:
    """Bare hashes straight into the sorted table in key order, sorted here rather than by the
    database, in the order ``_sort_staged`` gives (key, then file order). A key leads with its
    hash's first 16 hex digits (``_LEAD``), so a stable sort on those puts the rows in key order
    but within a lead that different hashes share, where their keys are compared whole
    (``_by_key_within_leads``). SQLite's sort of a 10M PDQ list's staged rows took 30-34 s of a
    120 s import; this one takes about 2 s."""
    lead = np.ascontiguousarray(hashes[:, : _LEAD // 2]).view(">u8").ravel()
    order = np.argsort(lead, kind="stable")
    key = _bare_key(kind)
    _by_key_within_leads(order, lead[order], hashes, key)
    del lead
    chars = hashes.shape[1] * 2
    cols = ("pos", "seq", "k", kind, "line")
    for start in range(0, len(order), BLOCK_ROWS):
        idx = order[start : start + BLOCK_ROWS]
        text = hashes[idx].tobytes().hex()
        rows = []
        for j, seq in enumerate(idx.tolist()):
            h = text[j * chars : (j + 1) * chars]
            rows.append((start + j + 1, seq, key(h), h, seq + 1))
        _stage(conn, cols, rows, _SORTED)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ANALYZE {_SORTED}")
    return len(order)


def _by_key_within_leads(order: np.ndarray, sorted_lead: np.ndarray, hashes: np.ndarray,
                         key) -> None:  # fmt: skip
    """Reorders ``order`` in place where rows share a lead but not their hash, by (key, file
    order). Runs of one repeated hash are left as they are (one key, already in file order)."""
    same = np.flatnonzero(sorted_lead[1:] == sorted_lead[:-1])
    if not len(same):
        return
    starts = same[np.r_[True, same[1:] != same[:-1] + 1]]
    ends = same[np.r_[same[1:] != same[:-1] + 1, True]] + 2
    # Only the runs where neighbours differ past the lead; a list's repeated hashes (the usual
    # run) are skipped without a Python step each.
    differ = same[(hashes[order[same]] != hashes[order[same + 1]]).any(axis=1)]
    runs = np.unique(np.searchsorted(starts, differ, side="right") - 1)
    for a, b in zip(starts[runs].tolist(), ends[runs].tolist(), strict=True):
        seqs = order[a:b].tolist()
        order[a:b] = sorted(seqs, key=lambda q: (key(hashes[q].tobytes().hex()), q))


def _row(e: HashEntry, seq: int) -> tuple:
    """A parsed row's values in ``_ROW_COLS`` order, JSON encoded where the column is."""
    return (seq, dedupe_key(e), e.md5, e.sha1, e.sha256, e.pdq, e.pdq_quality, e.photodna,
            e.category[:100] if e.category else e.category,
            e.media_id[:200] if e.media_id else e.media_id, _json(e.vpdq), _json(e.extra), e.line)  # fmt: skip


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

        # File order: entries are written in key order (_insert_new_entries), so the order is
        # the place in its file of the row that made each entry, import by import (its line
        # where it was imported before sources had a place: a minified VICS file is one line).
        # Within one import every source has a place or none does (imported before 0014).
        first = (
            select(func.min(func.coalesce(hash_entry_sources.c.seq, hash_entry_sources.c.line)))
            .where(hash_entry_sources.c.entry_id == hash_entries.c.id,
                   hash_entry_sources.c.import_id == hash_entries.c.import_id)
            .scalar_subquery()
        )  # fmt: skip
        rows = conn.execute(
            select(hash_entries)
            .where(hash_entries.c.list_id == lid)
            .order_by(hash_entries.c.import_id, first, hash_entries.c.id)
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
