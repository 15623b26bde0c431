"""Search-query logs → per-day query counts, text signals, and pseudonymous sessions behind
flagged queries. Session and user ids are replaced by a keyed hash (HMAC-SHA-256) on ingest; the
raw ids never reach the database."""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from ocsea.config import Settings
from ocsea.ingest.rows import QueryRecord, item_key, parse_query, resolve_columns
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
    return run_ingest(
        engine, path, "queries", lambda raw: parse_query(raw, cols),
        lambda conn, records: _write_chunk(conn, records, detector, settings.pseudonym_key),
        progress, chunk_rows,
    )  # fmt: skip


def _write_chunk(
    conn: Connection, records: list[QueryRecord], detector: Detector, key: bytes | None
) -> None:
    if not records:
        return
    ins = insert_for(conn)
    now = datetime.now(UTC)
    verdicts = {}
    norm: dict[str, str] = {}
    for r in records:
        if r.query not in norm:
            v = detector.classify(r.query, "query")
            verdicts[r.query] = v
            norm[r.query] = v.normalized or r.query.strip().lower()
    by_key: dict[str, dict] = {}
    for q, n in norm.items():
        k = item_key("q:" + n)
        if k not in by_key:
            by_key[k] = {
                "kind": "query",
                "key": k,
                "text": n,
                "seen_count": 0,
                "first_seen": None,
                "last_seen": None,
                "q": q,
            }
    conn.execute(
        ins(items).on_conflict_do_nothing(index_elements=["kind", "key"]),
        [{k: v for k, v in row.items() if k != "q"} for row in by_key.values()],
    )
    ids = ids_by_key(conn, items, [items.c.kind, items.c.key], [("query", k) for k in by_key])
    qid = {q: ids[("query", item_key("q:" + n))] for q, n in norm.items()}
    counts = Counter((r.day, qid[r.query], r.region) for r in records)
    bulk_insert(conn, query_stats, ["day", "item_id", "region", "count"],
                [(d, i, g, c) for (d, i, g), c in counts.items()],
                "ON CONFLICT (day, item_id, region) DO UPDATE SET count = query_stats.count + excluded.count")  # fmt: skip
    have = with_text_signal(conn, list(set(qid.values())))
    sig = []
    for q, iid in qid.items():
        if iid in have:
            continue
        have.add(iid)
        v = verdicts[q]
        sig.append(text_signal(iid, v, now))
    if sig:
        conn.execute(
            ins(signals).on_conflict_do_nothing(index_elements=["item_id", "type", "source"]), sig
        )
    if key:
        sess = {
            (r.day, qid[r.query], pseudonym(key, r.session))
            for r in records
            if r.session and verdicts[r.query].label == "csa"
        }
        if sess:
            bulk_insert(conn, query_sessions, ["day", "item_id", "session"], list(sess),
                        "ON CONFLICT (day, item_id, session) DO NOTHING")  # fmt: skip
