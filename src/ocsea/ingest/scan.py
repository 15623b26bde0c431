"""``ocsea scan`` results → items (files, by content), text and hash signals, for triage."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from ocsea.ingest.rows import item_key
from ocsea.ingest.signals import hash_signal, ids_by_key, media_signal, text_signal
from ocsea.ingest.stream import IngestError, IngestResult, begin_job, finish_job, insert_for
from ocsea.match.matcher import Matcher
from ocsea.scan.runner import STATE_FILE, match_record, name_verdict
from ocsea.store.db import items, signals
from ocsea.text.detector import Detector

_BATCH = 2000


def ingest_scan(
    engine: Engine, scan_dir: Path, detector: Detector, matcher: Matcher | None
) -> IngestResult:
    """Every hashed file of a scan (its scan-state database); files already stored are kept."""
    state = scan_dir / STATE_FILE
    if not state.is_file():
        raise IngestError(f"{scan_dir}: no {STATE_FILE}; give the --out folder of an `ocsea scan`")
    result = IngestResult(str(scan_dir))
    job_id, _, _, done = begin_job(engine, "scan", state)
    if done:
        result.already_done = True
        return result
    import json

    con = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        records = [
            r
            for (rows,) in con.execute("SELECT records FROM files ORDER BY path")
            for r in json.loads(rows)
        ]
    finally:
        con.close()
    now = datetime.now(UTC)
    for i in range(0, len(records), _BATCH):
        batch = [r for r in records[i : i + _BATCH] if r.get("sha256")]
        result.rows_rejected += sum(1 for r in records[i : i + _BATCH] if not r.get("sha256"))
        by_key = {}
        for r in batch:
            k = item_key("sha256:" + r["sha256"])
            by_key.setdefault(k, r)
        with engine.begin() as conn:
            ins = insert_for(conn)
            conn.execute(
                ins(items).on_conflict_do_nothing(index_elements=["kind", "key"]),
                [
                    {
                        "kind": "file",
                        "key": k,
                        "text": r["path"],
                        "sha1": r.get("sha1"),
                        "md5": r.get("md5"),
                        "size": r.get("size"),
                        "first_seen": now,
                        "last_seen": now,
                        "seen_count": 0,
                    }
                    for k, r in by_key.items()
                ],
            )
            ids = ids_by_key(
                conn, items, [items.c.kind, items.c.key], [("file", k) for k in by_key]
            )
            sig = []
            for k, r in by_key.items():
                iid = ids[("file", k)]
                sig.append(text_signal(iid, name_verdict(detector, r["path"]), now))
                if r.get("media_risk"):
                    sig.append(media_signal(iid, r["media_risk"], now))
                if matcher is not None:
                    seen = set()
                    for m in match_record(matcher, r):
                        if m.list_name not in seen:  # one hash signal per list and item
                            seen.add(m.list_name)
                            sig.append(hash_signal(iid, m, now))
            if sig:
                conn.execute(
                    ins(signals).on_conflict_do_nothing(
                        index_elements=["item_id", "type", "source"]
                    ),
                    sig,
                )
        result.rows_done += len(batch)
    finish_job(engine, job_id)
    return result
