"""Signal rows every ingest writes the same way: text verdicts and hash matches, and the lookup of
item ids by natural key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.engine import Connection

from ocsea import __version__
from ocsea.text.detector import Verdict

TEXT_SOURCE = f"ocsea-text-{__version__}"
_IN_BATCH = 2000
# Lexicon categories that indicate live-streaming, or payment and trade (triage factors).
LIVE_CATEGORIES = frozenset(["live"])
PAYMENT_CATEGORIES = frozenset(["payment", "trade", "extort"])


class Classifier(Protocol):
    """What storing needs of a detector: a Detector, or the verdicts a Dask worker gave for a
    part's texts (``ocsea.cluster.ingest.KnownVerdicts``)."""

    def classify(self, text: str, kind: str = "auto") -> Verdict: ...


def text_detail(v: Verdict) -> dict[str, Any]:
    """What triage needs from a text verdict, kept with the signal."""
    categories = {r.category for r in v.reasons if r.kind == "lexicon"}
    return {
        "reasons": [
            f"{r.category}: {r.term}" for r in v.reasons if r.kind in ("lexicon", "age", "rule")
        ],
        "min_age": min((lo for lo, _ in v.ages), default=None),
        "live": bool(categories & LIVE_CATEGORIES),
        "payment": bool(categories & PAYMENT_CATEGORIES),
        "probs": {k: round(p, 4) for k, p in v.probs.items()},
    }


def text_signal(item_id: int, v: Verdict, now: datetime) -> dict[str, Any]:
    return {"item_id": item_id, "type": "text", "source": TEXT_SOURCE, "label": v.label, "score": v.score,
            "detail": text_detail(v), "created_at": now}  # fmt: skip


MEDIA_SOURCE = "media-risk"


def media_signal(item_id: int, risk: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A scan's media risk of a file (``ocsea.media.scoring.risk_record``): a priority for review,
    labelled "review-first" at or above ``REVIEW_FIRST``, never a verdict."""
    from ocsea.media.risk import REVIEW_FIRST

    score = float(risk["risk"])
    return {"item_id": item_id, "type": "media", "source": MEDIA_SOURCE,
            "label": "review-first" if score >= REVIEW_FIRST else "low", "score": score,
            "detail": risk, "created_at": now}  # fmt: skip


def hash_signal(item_id: int, match, now: datetime) -> dict[str, Any]:
    """``match``: an ocsea.match.matcher.HashMatch."""
    return {"item_id": item_id, "type": "hash", "source": match.list_name, "label": match.category,
            "score": 1.0, "detail": match.to_dict(), "created_at": now}  # fmt: skip


def ids_by_key(conn: Connection, table, key_cols: Sequence, keys: list[tuple]) -> dict[tuple, int]:
    """Primary keys of rows found by their natural key, in batches (SQL parameter limits).
    Grouped by all but the last key column, so each query is an index search: SQLite scans the
    whole index for a row-value IN list (2000 keys among 1M items: 0.4 s that way, see
    tests/test_store.py for the plan)."""
    *prefix_cols, last = key_cols
    groups: dict[tuple, list] = {}
    for k in keys:
        groups.setdefault(tuple(k[:-1]), []).append(k[-1])
    out: dict[tuple, int] = {}
    for prefix, lasts in groups.items():
        same = [c == v for c, v in zip(prefix_cols, prefix, strict=True)]
        for i in range(0, len(lasts), _IN_BATCH):
            rows = conn.execute(
                select(table.c.id, *key_cols).where(*same, last.in_(lasts[i : i + _IN_BATCH]))
            )
            for r in rows:
                out[tuple(r[1:])] = r[0]
    return out


def with_text_signal(conn: Connection, item_ids: list[int]) -> set[int]:
    """Those of ``item_ids`` that already have a text verdict (each text is classified once)."""
    from ocsea.store.db import signals

    out: set[int] = set()
    for i in range(0, len(item_ids), _IN_BATCH):
        q = select(signals.c.item_id).where(
            signals.c.item_id.in_(item_ids[i : i + _IN_BATCH]), signals.c.type == "text"
        )
        out.update(r.item_id for r in conn.execute(q))
    return out
