"""P2P monitoring exports → items (files), sharers (GUIDs), observations, and text/hash signals."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func
from sqlalchemy.engine import Connection, Engine

from ocsea.config import Settings
from ocsea.ingest.rows import P2PRecord, item_key, parse_p2p, resolve_columns
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
from ocsea.store.db import items, observations, sharers, signals
from ocsea.text.detector import Detector

# Each chunk's commit writes every index page its sightings touched, and the row-key index is
# random, so fewer, larger chunks write far less: 1M rows took 52.8 s in chunks of 20k (peak
# RSS 278 MB), 41.0 s in chunks of 50k (352 MB), 34.8 s in chunks of 200k (737 MB).
CHUNK_ROWS = 50_000


def ingest_p2p(
    engine: Engine,
    path: Path,
    detector: Detector,
    settings: Settings,
    progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> IngestResult:
    cols = resolve_columns(header_of(path), settings.p2p_columns)
    missing = [f for f in ("timestamp", "guid", "filename") if f not in cols]
    if missing:
        raise IngestError(
            f"{path}:1: no column for {', '.join(missing)} (map it in ocsea.toml [ingest.p2p.columns])"
        )
    return run_ingest(
        engine, path, "p2p", lambda raw: parse_p2p(raw, cols),
        lambda conn, records: _write_chunk(conn, records, detector), progress, chunk_rows,
    )  # fmt: skip


def _write_chunk(conn: Connection, records: list[P2PRecord], detector: Detector) -> None:
    if not records:
        return
    ins = insert_for(conn)
    now = datetime.now(UTC)
    # Items: one per file identity, with the time range seen in this chunk.
    by_key: dict[str, dict] = {}
    keys = [item_key(r.item_identity()) for r in records]
    for r, k in zip(records, keys, strict=True):
        it = by_key.get(k)
        if it is None:
            by_key[k] = {"kind": "p2p_file", "key": k, "text": r.filename, "sha1": r.sha1, "md5": r.md5,
                         "size": r.size, "first_seen": r.seen_at, "last_seen": r.seen_at, "seen_count": 0}  # fmt: skip
        else:
            it["first_seen"] = min(it["first_seen"], r.seen_at)
            it["last_seen"] = max(it["last_seen"], r.seen_at)
    # SQLite's two-argument min/max are PostgreSQL's least/greatest.
    least, greatest = (
        (func.min, func.max) if conn.dialect.name == "sqlite" else (func.least, func.greatest)
    )
    stmt = ins(items)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={
            "first_seen": least(items.c.first_seen, stmt.excluded.first_seen),
            "last_seen": greatest(items.c.last_seen, stmt.excluded.last_seen),
        },
    )
    conn.execute(stmt, list(by_key.values()))
    item_ids = ids_by_key(
        conn, items, [items.c.kind, items.c.key], [("p2p_file", k) for k in by_key]
    )
    # Sharers.
    by_sharer: dict[tuple[str, str], dict] = {}
    for r in records:
        sk = (r.network, r.guid)
        sh = by_sharer.get(sk)
        if sh is None:
            by_sharer[sk] = {"network": r.network, "guid": r.guid, "client": r.client,
                             "first_seen": r.seen_at, "last_seen": r.seen_at}  # fmt: skip
        else:
            sh["first_seen"] = min(sh["first_seen"], r.seen_at)
            sh["last_seen"] = max(sh["last_seen"], r.seen_at)
            sh["client"] = sh["client"] or r.client
    stmt = ins(sharers)
    stmt = stmt.on_conflict_do_update(
        index_elements=["network", "guid"],
        set_={
            "first_seen": least(sharers.c.first_seen, stmt.excluded.first_seen),
            "last_seen": greatest(sharers.c.last_seen, stmt.excluded.last_seen),
            "client": func.coalesce(stmt.excluded.client, sharers.c.client),
        },
    )
    conn.execute(stmt, list(by_sharer.values()))
    sharer_ids = ids_by_key(conn, sharers, [sharers.c.network, sharers.c.guid], list(by_sharer))
    # Observations (the row key makes a row seen twice count once).
    obs = [(r.row_key(), sharer_ids[(r.network, r.guid)], item_ids[("p2p_file", k)], r.ip, r.port, r.seen_at)
           for r, k in zip(records, keys, strict=True)]  # fmt: skip
    bulk_insert(conn, observations, ["row_key", "sharer_id", "item_id", "ip", "port", "seen_at"], obs,
                "ON CONFLICT (row_key) DO NOTHING")  # fmt: skip
    # Text signals for items that have none yet (hash signals are matched at triage time, against
    # the lists as they are then).
    have = with_text_signal(conn, list(item_ids.values()))
    sig_rows = []
    for k, it in by_key.items():
        iid = item_ids[("p2p_file", k)]
        if iid not in have:
            v = detector.classify(it["text"], "filename")
            sig_rows.append(text_signal(iid, v, now))
    if sig_rows:
        conn.execute(
            ins(signals).on_conflict_do_nothing(index_elements=["item_id", "type", "source"]),
            sig_rows,
        )
