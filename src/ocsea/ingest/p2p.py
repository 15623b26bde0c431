"""P2P monitoring exports → items (files), sharers (GUIDs), observations, and text/hash signals."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, tuple_
from sqlalchemy.engine import Connection, Engine

from ocsea import __version__
from ocsea.config import Settings
from ocsea.ingest.rows import P2PRecord, item_key, parse_p2p, resolve_columns
from ocsea.ingest.stream import (
    IngestError,
    IngestResult,
    Progress,
    header_of,
    insert_for,
    run_ingest,
)
from ocsea.store.db import items, observations, sharers, signals
from ocsea.text.detector import Detector, Verdict

CHUNK_ROWS = 20_000
TEXT_SOURCE = f"ocsea-text-{__version__}"
_IN_BATCH = 2000
LIVE_WORDS = frozenset(
    ["live", "livestream", "webcam", "cam", "ไลฟ์", "ไลฟ์สด", "วีดีโอคอล", "วิดีโอคอล", "คอลเสียว"]
)
PAYMENT_WORDS = frozenset(
    [
        "sell",
        "selling",
        "buy",
        "trade",
        "trading",
        "for",
        "sale",
        "paypal",
        "bitcoin",
        "ขาย",
        "ขายคลิป",
        "ซื้อ",
        "แลก",
        "แลกคลิป",
        "โอนเงิน",
        "พร้อมเพย์",
        "ราคา",
        "เหมา",
        "vip",
    ]
)


def text_detail(v: Verdict) -> dict:
    """What triage needs from a text verdict, kept with the signal."""
    terms = [
        r.term.split(" (")[0]
        for r in v.reasons
        if r.kind == "lexicon" and r.category == "exploitation"
    ]
    return {
        "reasons": [
            f"{r.category}: {r.term}" for r in v.reasons if r.kind in ("lexicon", "age", "rule")
        ],
        "min_age": min((lo for lo, _ in v.ages), default=None),
        "live": any(t in LIVE_WORDS for t in terms),
        "payment": any(t in PAYMENT_WORDS for t in terms),
        "probs": {k: round(p, 4) for k, p in v.probs.items()},
    }


def _ids(conn: Connection, table, key_cols: Sequence, keys: list[tuple]) -> dict[tuple, int]:
    out: dict[tuple, int] = {}
    for i in range(0, len(keys), _IN_BATCH):
        batch = keys[i : i + _IN_BATCH]
        rows = conn.execute(select(table.c.id, *key_cols).where(tuple_(*key_cols).in_(batch)))
        for r in rows:
            out[tuple(r[1:])] = r[0]
    return out


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
    for r in records:
        k = item_key(r.item_identity())
        it = by_key.get(k)
        if it is None:
            by_key[k] = {"kind": "p2p_file", "key": k, "text": r.filename, "sha1": r.sha1, "md5": r.md5,
                         "size": r.size, "first_seen": r.seen_at, "last_seen": r.seen_at, "seen_count": 0}  # fmt: skip
        else:
            it["first_seen"] = min(it["first_seen"], r.seen_at)
            it["last_seen"] = max(it["last_seen"], r.seen_at)
    stmt = ins(items)
    stmt = stmt.on_conflict_do_update(
        index_elements=["kind", "key"],
        set_={
            "first_seen": func.min(items.c.first_seen, stmt.excluded.first_seen)
            if conn.dialect.name == "sqlite"
            else func.least(items.c.first_seen, stmt.excluded.first_seen),
            "last_seen": func.max(items.c.last_seen, stmt.excluded.last_seen)
            if conn.dialect.name == "sqlite"
            else func.greatest(items.c.last_seen, stmt.excluded.last_seen),
        },
    )
    conn.execute(stmt, list(by_key.values()))
    item_ids = _ids(conn, items, [items.c.kind, items.c.key], [("p2p_file", k) for k in by_key])
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
    least, greatest = (
        (func.min, func.max) if conn.dialect.name == "sqlite" else (func.least, func.greatest)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["network", "guid"],
        set_={
            "first_seen": least(sharers.c.first_seen, stmt.excluded.first_seen),
            "last_seen": greatest(sharers.c.last_seen, stmt.excluded.last_seen),
            "client": func.coalesce(stmt.excluded.client, sharers.c.client),
        },
    )
    conn.execute(stmt, list(by_sharer.values()))
    sharer_ids = _ids(conn, sharers, [sharers.c.network, sharers.c.guid], list(by_sharer))
    # Observations (the row key makes a row seen twice count once).
    obs = [
        {
            "row_key": r.row_key(),
            "sharer_id": sharer_ids[(r.network, r.guid)],
            "item_id": item_ids[("p2p_file", item_key(r.item_identity()))],
            "ip": r.ip,
            "port": r.port,
            "seen_at": r.seen_at,
        }
        for r in records
    ]
    conn.execute(ins(observations).on_conflict_do_nothing(index_elements=["row_key"]), obs)
    # Text signals for items that have none yet (hash signals are matched at triage time, against
    # the lists as they are then).
    ids = list(item_ids.values())
    have: set[tuple[int, str]] = set()
    for i in range(0, len(ids), _IN_BATCH):
        have.update(
            (r.item_id, r.type)
            for r in conn.execute(
                select(signals.c.item_id, signals.c.type).where(
                    signals.c.item_id.in_(ids[i : i + _IN_BATCH])
                )
            )
        )
    sig_rows = []
    for k, it in by_key.items():
        iid = item_ids[("p2p_file", k)]
        if (iid, "text") not in have:
            v = detector.classify(it["text"], "filename")
            sig_rows.append({"item_id": iid, "type": "text", "source": TEXT_SOURCE, "label": v.label,
                             "score": v.score, "detail": text_detail(v), "created_at": now})  # fmt: skip
    if sig_rows:
        conn.execute(
            ins(signals).on_conflict_do_nothing(index_elements=["item_id", "type", "source"]),
            sig_rows,
        )
