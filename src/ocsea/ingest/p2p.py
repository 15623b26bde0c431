"""P2P monitoring exports → items (files), sharers (GUIDs), observations, and text/hash signals."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy.engine import Connection, Engine

from ocsea.config import Settings
from ocsea.ingest import p2p_columnar
from ocsea.ingest.columnar import DuckChunk, field_columns, run_columnar
from ocsea.ingest.rows import P2PRecord, item_key, parse_p2p, resolve_columns
from ocsea.ingest.signals import Classifier, ids_by_key, text_signal, with_text_signal
from ocsea.ingest.stream import (
    IngestError,
    IngestResult,
    Progress,
    bulk_insert,
    header_of,
    insert_for,
    run_ingest,
    store_chunks,
)
from ocsea.store.db import items, observations, sharer_ips, sharers, signals
from ocsea.text.detector import Detector, Verdict

if TYPE_CHECKING:
    from distributed import Client

    from ocsea.cluster.work import DetectorSpec

# Row path: each chunk's commit writes every index page its sightings touched, so fewer, larger
# chunks write far less: 1M rows took 52.8 s in chunks of 20k (peak RSS 278 MB), 41.0 s in
# chunks of 50k (352 MB), 34.8 s in chunks of 200k (737 MB).
CHUNK_ROWS = 50_000
# Reader (DuckDB) and writer (SQLite) share two cores; a second DuckDB thread took the writer's:
# 1M rows in 14.4-14.7 s with 2 threads, 11.9-12.2 s with 1; again with every later change:
# 10.1-10.3 s against 8.7-9.1 s (A/B, two runs each).
DUCK_THREADS = 1
# 1M rows: peak RSS 775 MB at 256 MB, 713 MB at 128 MB, same speed.
DUCK_MEMORY_MB = 128
# Blocks of 24 MB (~120k rows, each a transaction): reader and writer take about as long per
# block, so the smaller the block the shorter the writer's waits and its last, unshared block;
# but each commit has a cost. 1M rows, four A/B rounds: 9.3-10.7 s at 24 MB, 10.1-11.7 s at
# 32 MB, 10.3-12.4 s at 48 MB, 11.0-11.4 s at 16 MB; peak RSS 570, 590, 640, 490 MB.
BLOCK_BYTES = 24 << 20
OBS_BATCH = 50_000  # sightings inserted at a time (as rows, from the block's NumPy columns)
OBS_COLUMNS = ["row_key", "sharer_id", "item_id", "ip", "port", "seen_at"]
# A sighting already stored (same sharer, same row key) is not stored again.
OBS_CONFLICT = "ON CONFLICT (sharer_id, row_key) DO NOTHING"


def ingest_p2p(
    engine: Engine,
    path: Path,
    detector: Detector,
    settings: Settings,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    columnar: bool | None = None,
) -> IngestResult:
    header = header_of(path)
    cols = _columns(path, header, settings)
    if columnar is None:
        columnar = settings.ingest_columnar
    if columnar and not path.name.lower().endswith((".jsonl", ".ndjson", ".json")):
        pos = field_columns(header, cols)
        sqlite = engine.dialect.name == "sqlite"

        def warm(names: list[str]) -> None:
            """Verdicts for a block's file names on the reader thread: the writer's are then
            cache hits (the cache holds far more names than a block has)."""
            for name in names[: detector.cache_size // 2]:
                detector.classify(name, "filename")

        # flush_bytes=1: every block (~120k rows) is an epoch, i.e. one transaction.
        return run_columnar(
            engine, path, "p2p", header, lambda raw: parse_p2p(raw, cols),
            lambda duck, epoch, lines: p2p_columnar.p2p_fast(duck, epoch, pos, lines, sqlite, warm),
            lambda conn, duck, epoch, chunks, records, lines: _flush_columnar(
                conn, duck, epoch, chunks, records, lines, detector
            ),
            progress, flush_bytes=1, duck_threads=DUCK_THREADS, ramp=True, checked_references=True,
            duck_memory_mb=DUCK_MEMORY_MB, chunk_bytes=BLOCK_BYTES,
        )  # fmt: skip
    return run_ingest(
        engine, path, "p2p", lambda raw: parse_p2p(raw, cols),
        lambda conn, records: _write_chunk(conn, records, detector), progress, chunk_rows,
    )  # fmt: skip


def ingest_p2p_on_cluster(
    engine: Engine,
    path: Path,
    settings: Settings,
    client: Client,
    detector: DetectorSpec,
    progress: Progress | None = None,
) -> IngestResult:
    """``ingest_p2p`` with the rows parsed, cleaned and their file names classified on Dask
    workers, in parts of the file; the records are stored here, in file order, as the row path
    stores its chunks."""
    from ocsea.cluster.ingest import IngestJob, cluster_chunks

    cols = _columns(path, header_of(path), settings)
    job = IngestJob(str(path.resolve()), path.stat().st_size, functools.partial(parse_p2p, cols=cols),
                    prepare_part, detector)  # fmt: skip
    return store_chunks(engine, path, "p2p", cluster_chunks(client, path, job), _store_part,
                        progress)  # fmt: skip


def _columns(path: Path, header: list[str], settings: Settings) -> dict[str, str]:
    """Our field → the file's column; an IngestError for a file that cannot be ingested."""
    cols = resolve_columns(header, settings.p2p_columns)
    missing = [f for f in ("timestamp", "guid", "filename") if f not in cols]
    if missing:
        raise IngestError(
            f"{path}:1: no column for {', '.join(missing)} (map it in ocsea.toml [ingest.p2p.columns])"
        )
    return cols


@dataclass
class P2PPart:
    """A part of an export as a worker prepared it: summarised as the row path summarises a
    chunk, and the verdicts on the file names the store classifies (each file's first name)."""

    chunk: ChunkSummary
    verdicts: dict[str, Verdict]


def prepare_part(records: list[P2PRecord], detector: Detector) -> P2PPart:
    """On a worker: a part's records summarised, the names ``_text_signals`` asks about
    classified."""
    chunk = summarise_chunk(records)
    names = {it.text for it in chunk.by_key.values()}
    return P2PPart(chunk, {name: detector.classify(name, "filename") for name in names})


def _store_part(conn: Connection, part: P2PPart) -> None:
    """A worker's part stored as the row path stores a chunk."""
    from ocsea.cluster.ingest import KnownVerdicts

    _store_summary(conn, part.chunk, KnownVerdicts(part.verdicts, "filename"))


@dataclass
class _Item:
    """A file as a chunk saw it: name, hashes and size of its first row (``line``)."""

    key: str
    text: str
    sha1: str | None
    md5: str | None
    size: int | None
    first_seen: datetime
    last_seen: datetime
    line: int

    def merge(self, other: _Item) -> None:
        if other.line < self.line:
            self.text, self.sha1, self.md5, self.size = (
                other.text,
                other.sha1,
                other.md5,
                other.size,
            )
            self.line = other.line
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)


@dataclass
class _Sharer:
    """A (network, GUID) as a chunk saw it: the client of its last row that names one."""

    network: str
    guid: str
    client: str | None
    client_line: int
    first_seen: datetime
    last_seen: datetime

    def merge(self, other: _Sharer) -> None:
        if other.client is not None and (
            self.client is None or other.client_line > self.client_line
        ):
            self.client, self.client_line = other.client, other.client_line
        self.first_seen = min(self.first_seen, other.first_seen)
        self.last_seen = max(self.last_seen, other.last_seen)


def _add(seen: dict, key: Any, new: _Item | _Sharer) -> None:
    """``new`` into ``seen[key]``: merged with what is there, or as the first."""
    if key in seen:
        seen[key].merge(new)
    else:
        seen[key] = new


# (network, GUID, IP) → [first, last] sighting
IpWindows = dict[tuple[str, str, str], list[datetime]]


def _widen(windows: IpWindows, key: tuple[str, str, str], first: datetime, last: datetime) -> None:
    w = windows.get(key)
    if w is None:
        windows[key] = [first, last]
    else:
        w[0], w[1] = min(w[0], first), max(w[1], last)


def _summarise(
    records: list[P2PRecord], lines: list[int]
) -> tuple[dict[str, _Item], dict[tuple[str, str], _Sharer], IpWindows, list[str]]:
    """Files, sharers and sharer addresses of row-parsed records, and each record's item key."""
    by_key: dict[str, _Item] = {}
    by_sharer: dict[tuple[str, str], _Sharer] = {}
    windows: IpWindows = {}
    keys = [item_key(r.item_identity()) for r in records]
    for r, k, n in zip(records, keys, lines, strict=True):
        if r.ip is not None:
            _widen(windows, (r.network, r.guid, r.ip), r.seen_at, r.seen_at)
        _add(by_key, k, _Item(k, r.filename, r.sha1, r.md5, r.size, r.seen_at, r.seen_at, n))
        _add(by_sharer, (r.network, r.guid),
             _Sharer(r.network, r.guid, r.client, n, r.seen_at, r.seen_at))  # fmt: skip
    return by_key, by_sharer, windows, keys


def _widening(conn: Connection, table: str, target: str, also: str = "") -> str:
    """ON CONFLICT clause that widens a stored row's first/last sighting to the new one's.
    Through the driver's executemany, as for sightings: SQLAlchemy's per-row handling of an
    upsert cost ~1 s of a million-row ingest's 11. Names are ours; values stay parameters."""
    lo, hi = ("min", "max") if conn.dialect.name == "sqlite" else ("least", "greatest")
    return (
        f"ON CONFLICT ({target}) DO UPDATE SET "
        f"first_seen = {lo}({table}.first_seen, excluded.first_seen), "
        f"last_seen = {hi}({table}.last_seen, excluded.last_seen){also}"
    )


def _store_sharer_ips(
    conn: Connection, windows: IpWindows, sharer_ids: dict[tuple[str, str], int]
) -> None:
    """Widen each (sharer, IP)'s window of sightings (a row seen twice changes nothing)."""
    rows = [(sharer_ids[(n, g)], ip, w[0], w[1]) for (n, g, ip), w in sorted(windows.items())]
    if rows:
        bulk_insert(conn, sharer_ips, ["sharer_id", "ip", "first_seen", "last_seen"], rows,
                    _widening(conn, "sharer_ips", "sharer_id, ip"))  # fmt: skip


def _store_items_and_sharers(
    conn: Connection, by_key: dict[str, _Item], by_sharer: dict[tuple[str, str], _Sharer]
) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Upsert a chunk's files and sharers: (item key → id, (network, GUID) → id). A stored file
    keeps its name and hashes (its first row); a sharer takes the chunk's client if it names one
    (the last row's), so both follow file order whatever the chunk size."""
    item_ids: dict[str, int] = {}
    if by_key:
        rows = [("p2p_file", it.key, it.text, it.sha1, it.md5, it.size, it.first_seen,
                 it.last_seen, 0) for it in by_key.values()]  # fmt: skip
        bulk_insert(conn, items, ["kind", "key", "text", "sha1", "md5", "size", "first_seen",
                                  "last_seen", "seen_count"], rows, _widening(conn, "items", "kind, key"))  # fmt: skip
        ids = ids_by_key(
            conn, items, [items.c.kind, items.c.key], [("p2p_file", k) for k in by_key]
        )
        item_ids = {k: ids[("p2p_file", k)] for k in by_key}
    sharer_ids: dict[tuple[str, str], int] = {}
    if by_sharer:
        rows = [(sh.network, sh.guid, sh.client, sh.first_seen, sh.last_seen)
                for sh in by_sharer.values()]  # fmt: skip
        also = ", client = coalesce(excluded.client, sharers.client)"
        bulk_insert(conn, sharers, ["network", "guid", "client", "first_seen", "last_seen"], rows,
                    _widening(conn, "sharers", "network, guid", also))  # fmt: skip
        sharer_ids = ids_by_key(conn, sharers, [sharers.c.network, sharers.c.guid], list(by_sharer))
    return item_ids, sharer_ids


def _text_signals(conn: Connection, by_key: dict[str, _Item], item_ids: dict[str, int],
                  detector: Classifier) -> None:  # fmt: skip
    """Text verdicts for files that have none yet (hash signals are matched at triage time,
    against the lists as they are then)."""
    have = with_text_signal(conn, list(item_ids.values()))
    now = datetime.now(UTC)
    rows = [
        text_signal(item_ids[k], detector.classify(it.text, "filename"), now)
        for k, it in by_key.items()
        if item_ids[k] not in have
    ]
    if rows:
        conn.execute(
            insert_for(conn)(signals).on_conflict_do_nothing(
                index_elements=["item_id", "type", "source"]
            ),
            rows,
        )


# (row key, (network, GUID), item key, ip, port, seen at): a sighting before its ids are known
Sighting = tuple[int, tuple[str, str], str, str | None, int | None, datetime]


def _sightings(records: list[P2PRecord], keys: list[str]) -> list[Sighting]:
    return [(r.row_key(), (r.network, r.guid), k, r.ip, r.port, r.seen_at)
            for r, k in zip(records, keys, strict=True)]  # fmt: skip


def _store_record_sightings(
    conn: Connection, records: list[P2PRecord], keys: list[str], item_ids: dict[str, int],
    sharer_ids: dict[tuple[str, str], int],
) -> None:  # fmt: skip
    _store_sightings(conn, _sightings(records, keys), item_ids, sharer_ids)


def _store_sightings(
    conn: Connection, sightings: list[Sighting], item_ids: dict[str, int],
    sharer_ids: dict[tuple[str, str], int],
) -> None:  # fmt: skip
    if sightings:
        rows = [(row_key, sharer_ids[sharer], item_ids[k], ip, port, seen)
                for row_key, sharer, k, ip, port, seen in sightings]  # fmt: skip
        bulk_insert(conn, observations, OBS_COLUMNS, rows, OBS_CONFLICT)


@dataclass
class ChunkSummary:
    """A chunk of parsed records as the store takes them: its files, sharers, sharers'
    addresses and sightings (every row's keys computed: on a Dask worker, not by the writer)."""

    by_key: dict[str, _Item]
    by_sharer: dict[tuple[str, str], _Sharer]
    windows: IpWindows
    sightings: list[Sighting]


def summarise_chunk(records: list[P2PRecord]) -> ChunkSummary:
    by_key, by_sharer, windows, keys = _summarise(records, list(range(len(records))))
    return ChunkSummary(by_key, by_sharer, windows, _sightings(records, keys))


def _write_chunk(conn: Connection, records: list[P2PRecord], detector: Classifier) -> None:
    """The row path: a chunk of parsed records (in file order) stored."""
    if records:
        _store_summary(conn, summarise_chunk(records), detector)


def _store_summary(conn: Connection, chunk: ChunkSummary, detector: Classifier) -> None:
    """A chunk stored, summarised here or on a Dask worker."""
    item_ids, sharer_ids = _store_items_and_sharers(conn, chunk.by_key, chunk.by_sharer)
    _store_sharer_ips(conn, chunk.windows, sharer_ids)
    _store_sightings(conn, chunk.sightings, item_ids, sharer_ids)
    _text_signals(conn, chunk.by_key, item_ids, detector)


def _naive_to_utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC)


def _flush_columnar(
    conn: Connection, duck: DuckChunk, epoch: int, chunks: list[p2p_columnar.FastChunk],
    records: list[P2PRecord], lines: list[int], detector: Detector,
) -> None:  # fmt: skip
    """An epoch (one block): its row-parsed records and its DuckDB tables, merged by line so a
    file's name and a sharer's client are those the row path would store."""
    by_key, by_sharer, windows, keys = _summarise(records, lines)
    assert len(chunks) <= 1, "each P2P block is an epoch of its own"
    fast = chunks[0] if chunks else None
    item_ix: dict[int, str] = {}  # ix in the block's DuckDB tables → item key
    sharer_ix: dict[int, tuple[str, str]] = {}
    items_t, sharers_t, ips_t = p2p_columnar.tables(epoch)
    if fast is not None:
        for key, text, sha1, md5, size, first_r, first, last, ix in duck.con.execute(
            f"SELECT key, text, sha1, md5, size, first_r, first_seen, last_seen, ix FROM {items_t}"
        ).fetchall():
            _add(by_key, key, _Item(key, text, sha1, md5, size, _naive_to_utc(first),
                                    _naive_to_utc(last), fast.lines[first_r]))  # fmt: skip
            item_ix[ix] = key
        for network, guid, client, client_r, first, last, ix in duck.con.execute(
            f"SELECT network, guid, client, client_r, first_seen, last_seen, ix FROM {sharers_t}"
        ).fetchall():
            line = -1 if client_r is None else fast.lines[client_r]
            _add(by_sharer, (network, guid), _Sharer(network, guid, client, line,
                                                     _naive_to_utc(first), _naive_to_utc(last)))  # fmt: skip
            sharer_ix[ix] = (network, guid)
        for network, guid, ip, first, last in duck.con.execute(
            f"SELECT network, guid, ip, first_seen, last_seen FROM {ips_t}"
        ).fetchall():
            _widen(windows, (network, guid, ip), _naive_to_utc(first), _naive_to_utc(last))
    item_ids, sharer_ids = _store_items_and_sharers(conn, by_key, by_sharer)
    _store_sharer_ips(conn, windows, sharer_ids)
    if fast is not None:
        iid = np.zeros(len(item_ix) + 1, dtype=np.int64)  # ix runs from 1
        for ix, k in item_ix.items():
            iid[ix] = item_ids[k]
        sid = np.zeros(len(sharer_ix) + 1, dtype=np.int64)
        for ix, k in sharer_ix.items():
            sid[ix] = sharer_ids[k]
        for i in range(0, len(fast), OBS_BATCH):
            rows = fast.rows(sid, iid, i, i + OBS_BATCH)
            bulk_insert(conn, observations, OBS_COLUMNS, rows, OBS_CONFLICT, raw=True)
        p2p_columnar.drop_tables(duck, epoch)
    _store_record_sightings(conn, records, keys, item_ids, sharer_ids)
    _text_signals(conn, by_key, item_ids, detector)
