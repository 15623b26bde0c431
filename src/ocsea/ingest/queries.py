"""Search-query logs → per-day query counts, text signals, and pseudonymous sessions behind
flagged queries. Session and user ids are replaced by a keyed hash (HMAC-SHA-256) on ingest; the
raw ids never reach the database."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection, Engine

from ocsea.config import Settings
from ocsea.ingest.columnar import (
    DuckChunk,
    check_distinct,
    epoch_time_sql,
    field_columns,
    run_columnar,
    utc_time_sql,
)
from ocsea.ingest.rows import QueryRecord, clean_text, item_key, parse_query, resolve_columns
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
from ocsea.store.db import items, query_sessions, query_stats, signals
from ocsea.text.detector import Detector, Verdict

if TYPE_CHECKING:
    from distributed import Client

    from ocsea.cluster.work import DetectorSpec

CHUNK_ROWS = 50_000
STATS_BATCH = 50_000  # count rows fetched from DuckDB and upserted at a time
QUERY_BATCH = 20_000  # queries classified and stored as items at a time (their verdicts in memory)


def pseudonym(key: bytes, raw_id: str) -> str:
    return hmac.new(key, raw_id.encode(), hashlib.sha256).hexdigest()[:32]


def ingest_queries(
    engine: Engine,
    path: Path,
    detector: Detector,
    settings: Settings,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
    columnar: bool | None = None,
) -> IngestResult:
    cols = _columns(path, settings)
    key = settings.pseudonym_key
    if columnar is None:
        columnar = settings.ingest_columnar
    if columnar and not path.name.lower().endswith((".jsonl", ".ndjson", ".json")):
        header = header_of(path)
        return run_columnar(
            engine, path, "queries", header, lambda raw: parse_query(raw, cols),
            lambda duck, epoch, _lines: _fast_aggregate(duck, epoch, field_columns(header, cols), detector),
            lambda conn, duck, epoch, aggs, records, _lines: _flush_columnar(
                conn, duck, epoch, aggs, records, detector, key
            ),
            progress,
            flush_bytes=(settings.ingest_epoch_mb << 20) if settings.ingest_epoch_mb else None,
        )  # fmt: skip
    return run_ingest(
        engine, path, "queries", lambda raw: parse_query(raw, cols),
        lambda conn, records: _write_chunk(conn, records, detector, key),
        progress, chunk_rows,
    )  # fmt: skip


def ingest_queries_on_cluster(
    engine: Engine,
    path: Path,
    settings: Settings,
    client: Client,
    detector: DetectorSpec,
    progress: Progress | None = None,
) -> IngestResult:
    """``ingest_queries`` with the rows parsed, counted, classified and pseudonymised on Dask
    workers, in parts of the file; the counts are stored here, in file order, as the row path
    stores its chunks. The pseudonymisation key travels with the parts; raw session ids stay
    on the workers."""
    from ocsea.cluster.ingest import IngestJob, cluster_chunks

    cols = _columns(path, settings)
    job = IngestJob(str(path.resolve()), path.stat().st_size, functools.partial(parse_query, cols=cols),
                    functools.partial(prepare_part, key=settings.pseudonym_key), detector)  # fmt: skip
    return store_chunks(engine, path, "queries", cluster_chunks(client, path, job),
                        _store_part, progress)  # fmt: skip


def _columns(path: Path, settings: Settings) -> dict[str, str]:
    """Our field → the file's column; an IngestError for a file that cannot be ingested."""
    cols = resolve_columns(header_of(path), settings.query_columns)
    missing = [f for f in ("timestamp", "query") if f not in cols]
    if missing:
        raise IngestError(
            f"{path}:1: no column for {', '.join(missing)} (map it in ocsea.toml [ingest.queries.columns])"
        )
    if "session" in cols and not settings.pseudonym_key:
        raise IngestError(
            f"{path}: has session/user ids but no pseudonymisation key: set OCSEA_PSEUDONYM_KEY "
            "or [pseudonymise] key_file in ocsea.toml"
        )
    return cols


@dataclass
class QueryPart:
    """A part of a query log as a worker prepared it: the counts of its rows, its distinct
    queries' verdicts, and the pseudonymised sessions behind its flagged queries (the only ones
    stored)."""

    counts: Counter[tuple[date, str, str]]
    sessions: dict[str, set[tuple[date, str]]]
    verdicts: dict[str, Verdict]


def prepare_part(records: list[QueryRecord], detector: Detector, key: bytes | None) -> QueryPart:
    """On a worker: a part's records counted and classified, their sessions pseudonymised."""
    counts, sessions = aggregate_records(records)
    verdicts = {q: detector.classify(q, "query") for q in {q for _, q, _ in counts}}
    flagged = {q for q, v in verdicts.items() if v.label == "csa"}
    kept: dict[str, set[tuple[date, str]]] = {}
    if key:
        pseudo = _pseudonymiser(key)
        kept = {q: {(d, pseudo(s)) for d, s in sessions[q]} for q in flagged & sessions.keys()}
    return QueryPart(counts, kept, verdicts)


def _store_part(conn: Connection, part: QueryPart) -> None:
    """A worker's part stored as the row path stores a chunk (its sessions are pseudonyms)."""
    from ocsea.cluster.ingest import KnownVerdicts

    store_counts(conn, part.counts, part.sessions, KnownVerdicts(part.verdicts, "query"),
                 _already_pseudonymised)  # fmt: skip


def _already_pseudonymised(session: str) -> str:
    return session


def _check(field: str, required: bool, limit: int) -> Callable[[Any], Any]:
    return functools.partial(clean_text, field=field, required=required, limit=limit)


def _epoch_table(epoch: int) -> str:
    return f"query_counts_{epoch}"


@dataclass
class _ChunkSessions:
    """What the writer needs of a chunk besides the counts the reader added to the epoch's table:
    (day, cleaned query, cleaned session) behind the chunk's flagged queries."""

    sessions: set[tuple[date, str, str]]
    n_keys: int  # distinct raw queries in the chunk


def _fast_aggregate(
    duck: DuckChunk, epoch: int, pos: dict[str, str], detector: Detector
) -> tuple[_ChunkSessions, list[int]]:
    """Counts per (day, cleaned query, cleaned region) of a chunk's plain rows, added in SQL to
    the epoch's table; rows whose time stamp is not plain ISO 8601 or epoch, or whose fields fail
    the row checks, are left to the row parser."""
    con = duck.con
    ts = pos["timestamp"]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE t AS SELECT rowid AS r, CAST(coalesce({utc_time_sql(ts)}, "
        f"{epoch_time_sql(ts)}) AS DATE) AS day FROM c"
    )
    moved = {r for (r,) in con.execute("SELECT r FROM t WHERE day IS NULL").fetchall()}
    good: dict[str, dict] = {}
    for field, required, limit in (("query", True, 1000), ("session", False, 200), ("region", False, 60)):  # fmt: skip
        if field in pos:
            good[field], bad = check_distinct(duck, pos[field], _check(field, required, limit))
            moved.update(bad)
    skip = sorted(moved) or [-1]
    duck.table("skip", {"r": "BIGINT"}, [(r,) for r in skip])
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE agg AS SELECT t.day, {pos['query']} AS q, "
        f"{pos.get('region', 'NULL::VARCHAR')} AS g, count(*) AS n FROM c JOIN t ON t.r = c.rowid "
        "WHERE t.day IS NOT NULL AND c.rowid NOT IN (SELECT r FROM skip) GROUP BY ALL"
    )
    good_q, good_g = good["query"], good.get("region", {})
    raw_q = [q for (q,) in con.execute("SELECT DISTINCT q FROM agg").fetchall()]
    duck.table("qm", {"q": "VARCHAR", "clean": "VARCHAR"}, [(q, good_q[q]) for q in raw_q])
    raw_g = [g for g in good_g if g is not None] or [""]
    duck.table(
        "gm", {"g": "VARCHAR", "clean": "VARCHAR"}, [(g, good_g.get(g) or "") for g in raw_g]
    )
    table = _epoch_table(epoch)
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} (day DATE, q VARCHAR, g VARCHAR, n BIGINT)")
    con.execute(
        f"INSERT INTO {table} SELECT agg.day, qm.clean, coalesce(gm.clean, ''), sum(agg.n) "
        "FROM agg JOIN qm ON qm.q = agg.q LEFT JOIN gm ON gm.g = agg.g GROUP BY ALL"
    )
    sessions = _flagged_sessions(duck, pos, good, raw_q, detector)
    return _ChunkSessions(sessions, len(raw_q)), sorted(moved)


def _flagged_sessions(
    duck: DuckChunk, pos: dict[str, str], good: dict[str, dict], raw_q: list[str],
    detector: Detector,
) -> set[tuple[date, str, str]]:  # fmt: skip
    """(day, cleaned query, cleaned session) behind the chunk's queries the detector flags (the
    writer's ``query_items`` classifies the same cleaned texts; both hit the detector's cache)."""
    if "session" not in pos:
        return set()
    good_q, good_s = good["query"], good["session"]
    flagged = {
        c for c in {good_q[q] for q in raw_q} if detector.classify(c, "query").label == "csa"
    }
    raw = [q for q in raw_q if good_q[q] in flagged]
    if not raw:
        return set()
    duck.table("vals", {"v": "VARCHAR"}, [(v,) for v in raw])
    q, s = pos["query"], pos["session"]
    found = duck.con.execute(
        f"SELECT DISTINCT t.day, {q}, {s} FROM c JOIN t ON t.r = c.rowid WHERE t.day IS NOT NULL "
        f"AND {s} IS NOT NULL AND {q} IN (SELECT v FROM vals) AND c.rowid NOT IN (SELECT r FROM skip)"
    ).fetchall()
    return {(d, good_q[qv], good_s[sv]) for d, qv, sv in found if good_s.get(sv)}


def _flush_columnar(
    conn: Connection, duck: DuckChunk, epoch: int, chunks: list[_ChunkSessions],
    records: list[QueryRecord], detector: Detector, key: bytes | None,
) -> None:  # fmt: skip
    """An epoch: the row-parsed rows, then the epoch's DuckDB counts. The count upsert adds and
    the session insert unites, so this stores what one merged write would."""
    _write_chunk(conn, records, detector, key)
    if not chunks:
        return
    table = _epoch_table(epoch)
    queries = [q for (q,) in duck.con.execute(f"SELECT DISTINCT q FROM {table}").fetchall()]
    qid: dict[str, int] = {}
    for i in range(0, len(queries), QUERY_BATCH):  # verdicts for a batch at a time
        qid.update(query_items(conn, set(queries[i : i + QUERY_BATCH]), detector)[0])
    if qid:
        sqlite = conn.dialect.name == "sqlite"
        duck.table("qid", {"q": "VARCHAR", "item": "BIGINT"}, list(qid.items()))
        day = "strftime(e.day, '%Y-%m-%d')" if sqlite else "e.day"
        cur = duck.con.execute(
            f"SELECT {day} AS d, qid.item, e.g, sum(e.n) FROM {table} e "
            "JOIN qid ON qid.q = e.q GROUP BY ALL ORDER BY ALL"
        )
        while rows := cur.fetchmany(STATS_BATCH):  # an epoch can hold a million keys
            insert_stats(conn, rows, raw=sqlite)
        if key:
            pseudo = _pseudonymiser(key)
            insert_sessions(
                conn, {(d, qid[q], pseudo(s)) for c in chunks for d, q, s in c.sessions}
            )
    # The reader has finished this epoch's table (it is on the next one): dropping it frees its
    # memory (a DELETE would not, in an in-memory database).
    duck.con.execute(f"DROP TABLE {table}")


def _write_chunk(
    conn: Connection, records: list[QueryRecord], detector: Detector, key: bytes | None
) -> None:
    if not records:
        return
    counts, sessions = aggregate_records(records)
    store_counts(conn, counts, sessions, detector, _pseudonymiser(key) if key else None)


def store_counts(
    conn: Connection, counts: Counter[tuple[date, str, str]],
    sessions: dict[str, set[tuple[date, str]]], detector: Classifier,
    pseudo: Callable[[str], str] | None,
) -> None:  # fmt: skip
    """Counts per (day, query, region) added to the store, and the sessions behind the flagged
    queries (``pseudo``nymised; none stored without it): a chunk parsed here or on a worker."""
    qid, flagged = query_items(conn, {q for _, q, _ in counts}, detector)
    per_item: Counter[tuple[date, int, str]] = Counter()
    for (d, q, g), c in counts.items():
        per_item[(d, qid[q], g)] += c
    insert_stats(conn, [(d, i, g, c) for (d, i, g), c in sorted(per_item.items())])
    if pseudo:
        insert_sessions(
            conn, {(d, qid[q], pseudo(s)) for d, q, s in sessions_of(sessions, flagged)}
        )


def aggregate_records(
    records: list[QueryRecord],
) -> tuple[Counter[tuple[date, str, str]], dict[str, set[tuple[date, str]]]]:
    """Rows → counts per (day, query, region) and the (day, raw session) pairs behind each query."""
    counts: Counter[tuple[date, str, str]] = Counter((r.day, r.query, r.region) for r in records)
    sessions: dict[str, set[tuple[date, str]]] = {}
    for r in records:
        if r.session:
            sessions.setdefault(r.query, set()).add((r.day, r.session))
    return counts, sessions


def sessions_of(
    sessions: dict[str, set[tuple[date, str]]], flagged: set[str]
) -> Iterable[tuple[date, str, str]]:
    for q in flagged:
        for day, s in sessions.get(q, ()):
            yield day, q, s


def _pseudonymiser(key: bytes) -> Callable[[str], str]:
    return functools.lru_cache(maxsize=65_536)(lambda s: pseudonym(key, s))


def query_items(
    conn: Connection, queries: set[str], detector: Classifier
) -> tuple[dict[str, int], set[str]]:
    """Items and text signals for these queries (each text classified once): (query → item id,
    the queries flagged csa). Both ingest paths store through here and the two inserts below."""
    if not queries:
        return {}, set()
    ins = insert_for(conn)
    now = datetime.now(UTC)
    verdicts = {q: detector.classify(q, "query") for q in queries}
    norm = {q: v.normalized or q.strip().lower() for q, v in verdicts.items()}
    by_key: dict[str, dict] = {}
    for n in norm.values():
        k = item_key("q:" + n)
        by_key.setdefault(k, {"kind": "query", "key": k, "text": n, "seen_count": 0,
                              "first_seen": None, "last_seen": None})  # fmt: skip
    conn.execute(
        ins(items).on_conflict_do_nothing(index_elements=["kind", "key"]), list(by_key.values())
    )
    ids = ids_by_key(conn, items, [items.c.kind, items.c.key], [("query", k) for k in by_key])
    qid = {q: ids[("query", item_key("q:" + n))] for q, n in norm.items()}
    have = with_text_signal(conn, list(set(qid.values())))
    sig = []
    for q, iid in qid.items():
        if iid not in have:
            have.add(iid)
            sig.append(text_signal(iid, verdicts[q], now))
    if sig:
        conn.execute(
            ins(signals).on_conflict_do_nothing(index_elements=["item_id", "type", "source"]), sig
        )
    return qid, {q for q, v in verdicts.items() if v.label == "csa"}


def insert_stats(conn: Connection, rows: list[tuple], raw: bool = False) -> None:
    """(day, item id, region, count) rows, best in key order (3× fewer page misses); counts add."""
    if rows:
        bulk_insert(conn, query_stats, ["day", "item_id", "region", "count"], rows,
                    "ON CONFLICT (day, item_id, region) DO UPDATE SET count = query_stats.count + excluded.count",
                    raw=raw)  # fmt: skip


def insert_sessions(conn: Connection, rows: set[tuple]) -> None:
    if rows:
        bulk_insert(conn, query_sessions, ["day", "item_id", "session"], sorted(rows),
                    "ON CONFLICT (day, item_id, session) DO NOTHING")  # fmt: skip
