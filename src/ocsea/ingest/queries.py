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
from typing import Any

from sqlalchemy.engine import Connection, Engine

from ocsea.config import Settings
from ocsea.ingest.columnar import (
    DuckChunk,
    check_distinct,
    epoch_time_sql,
    run_columnar,
    utc_time_sql,
)
from ocsea.ingest.rows import QueryRecord, _text, item_key, parse_query, resolve_columns
from ocsea.ingest.signals import ids_by_key, text_signal, with_text_signal
from ocsea.ingest.stream import (
    IngestError,
    IngestResult,
    Progress,
    bulk_insert,
    header_of,
    insert_for,
    run_ingest,
)
from ocsea.store.db import items, query_sessions, query_stats, signals
from ocsea.text.detector import Detector

CHUNK_ROWS = 50_000


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
    key = settings.pseudonym_key
    if columnar is None:
        columnar = settings.ingest_columnar
    if columnar and not path.name.lower().endswith((".jsonl", ".ndjson", ".json")):
        header = header_of(path)
        return run_columnar(
            engine, path, "queries", header, lambda raw: parse_query(raw, cols),
            lambda duck: _fast_aggregate(duck, _positions(header, cols)),
            lambda conn, agg, records: _write_columnar(conn, agg, records, detector, key),
            progress,
        )  # fmt: skip
    return run_ingest(
        engine, path, "queries", lambda raw: parse_query(raw, cols),
        lambda conn, records: _write_chunk(conn, records, detector, key),
        progress, chunk_rows,
    )  # fmt: skip


def _positions(header: list[str], cols: dict[str, str]) -> dict[str, str]:
    """Our field → DuckDB column (c<i>); a repeated header name means its last column, as in the
    row reader's dict of the row."""
    return {f: f"c{len(header) - 1 - header[::-1].index(name)}" for f, name in cols.items()}


def _check(field: str, required: bool, limit: int) -> Callable[[Any], Any]:
    return lambda v: _text({field: v}, {field: field}, field, required=required, limit=limit)


@dataclass
class _FastQueries:
    """A chunk's plain rows counted in DuckDB (temp tables ``t``: day per row, ``agg``: counts per
    day, raw query and raw region), with the row checks' cleaned values."""

    duck: DuckChunk
    pos: dict[str, str]
    good: dict[str, dict]
    raw_q: list[str]  # the raw query spellings counted in ``agg``

    def queries(self) -> set[str]:
        good_q = self.good["query"]
        return {good_q[q] for q in self.raw_q}

    def stats_rows(self, qid: dict[str, int], day_as_text: bool) -> list[tuple]:
        """(day, item id, region, count) in key order, summed over raw spellings."""
        good_q, good_g = self.good["query"], self.good.get("region", {})
        self.duck.table(
            "qm", {"q": "VARCHAR", "item": "BIGINT"}, [(q, qid[good_q[q]]) for q in self.raw_q]
        )
        raw_g = [g for g in good_g if g is not None] or [""]
        self.duck.table(
            "gm", {"g": "VARCHAR", "clean": "VARCHAR"}, [(g, good_g.get(g) or "") for g in raw_g]
        )
        day = "strftime(agg.day, '%Y-%m-%d')" if day_as_text else "agg.day"
        return self.duck.con.execute(
            f"SELECT {day} AS d, qm.item, coalesce(gm.clean, '') AS region, sum(agg.n) FROM agg "
            "JOIN qm ON qm.q = agg.q LEFT JOIN gm ON gm.g = agg.g GROUP BY ALL ORDER BY ALL"
        ).fetchall()

    def sessions(self, flagged: set[str]) -> list[tuple[date, str, str]]:
        """(day, cleaned query, cleaned session) behind the flagged queries."""
        if "session" not in self.pos:
            return []
        good_q, good_s = self.good["query"], self.good["session"]
        raw = [v for v, clean in good_q.items() if clean in flagged]
        if not raw:
            return []
        self.duck.table("vals", {"v": "VARCHAR"}, [(v,) for v in raw])
        q, s = self.pos["query"], self.pos["session"]
        found = self.duck.con.execute(
            f"SELECT DISTINCT t.day, {q}, {s} FROM c JOIN t ON t.r = c.rowid WHERE t.day IS NOT NULL "
            f"AND {s} IS NOT NULL AND {q} IN (SELECT v FROM vals) AND c.rowid NOT IN (SELECT r FROM skip)"
        ).fetchall()
        return [(d, good_q[qv], good_s[sv]) for d, qv, sv in found if good_s.get(sv)]


def _fast_aggregate(duck: DuckChunk, pos: dict[str, str]) -> tuple[_FastQueries, list[int]]:
    """Counts per (day, query, region) of a chunk's plain rows in SQL; rows whose time stamp is not
    plain ISO 8601 or epoch, or whose fields fail the row checks, are left to the row parser."""
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
    raw_q = [q for (q,) in con.execute("SELECT DISTINCT q FROM agg").fetchall()]
    return _FastQueries(duck, pos, good, raw_q), sorted(moved)


def _write_columnar(
    conn: Connection, agg: _FastQueries | None, records: list[QueryRecord], detector: Detector,
    key: bytes | None,
) -> None:  # fmt: skip
    """The row-parsed rows, then the DuckDB counts: the count upsert adds, the session insert
    unites, so two writes store what one merged write would."""
    _write_chunk(conn, records, detector, key)
    if agg is None:
        return
    qid, flagged = query_items(conn, agg.queries(), detector)
    if not qid:
        return
    sqlite = conn.dialect.name == "sqlite"
    insert_stats(conn, agg.stats_rows(qid, day_as_text=sqlite), raw=sqlite)
    if key:
        pseudo = _pseudonymiser(key)
        insert_sessions(conn, {(d, qid[q], pseudo(s)) for d, q, s in agg.sessions(flagged)})


def _write_chunk(
    conn: Connection, records: list[QueryRecord], detector: Detector, key: bytes | None
) -> None:
    if not records:
        return
    counts, sessions = aggregate_records(records)
    qid, flagged = query_items(conn, {q for _, q, _ in counts}, detector)
    per_item: Counter[tuple[date, int, str]] = Counter()
    for (d, q, g), c in counts.items():
        per_item[(d, qid[q], g)] += c
    insert_stats(conn, [(d, i, g, c) for (d, i, g), c in sorted(per_item.items())])
    if key:
        pseudo = _pseudonymiser(key)
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
    conn: Connection, queries: set[str], detector: Detector
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
