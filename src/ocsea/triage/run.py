"""Triage over the store: match items against the current hash lists, compute every finding's and
every sharer's priority with its breakdown, and query-log intelligence."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ocsea.ingest.signals import hash_signal
from ocsea.ingest.stream import insert_for
from ocsea.match.matcher import Matcher
from ocsea.media.hashing import Digests
from ocsea.media.risk import current_score
from ocsea.store.db import (
    findings,
    items,
    lexicon_terms,
    observations,
    query_stats,
    sharers,
    signals,
    term_candidates,
)
from ocsea.text.lexicon import Entry
from ocsea.triage.priority import Factors, kind_of, priority
from ocsea.triage.terms import Candidate, discover

FILE_KINDS = ("p2p_file", "file")  # files seen on P2P networks, files from `ocsea scan`
PRODUCER_MIN_UNKNOWN = 3  # a sharer with this many unknown flagged files is a possible producer
SHARER_OTHERS_WEIGHT = 0.25


@dataclass
class TriageSummary:
    items: int = 0
    findings: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    hash_matches: int = 0
    sharers: int = 0


def _aware(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def match_items(engine: Engine, matcher: Matcher) -> int:
    """Hash signals for P2P items whose SHA-1/MD5 is on a list (lists change: done each triage)."""
    now = datetime.now(UTC)
    rows = []
    with engine.connect() as conn:
        for iid, sha1, md5, size in conn.execute(
            select(items.c.id, items.c.sha1, items.c.md5, items.c.size).where(
                items.c.kind == "p2p_file", (items.c.sha1.is_not(None)) | (items.c.md5.is_not(None))
            )
        ):
            for m in matcher.match_digests(Digests(size or 0, md5 or "", sha1 or "", "")):
                rows.append(hash_signal(iid, m, now))
    if rows:
        with engine.begin() as conn:
            ins = insert_for(conn)
            conn.execute(
                ins(signals).on_conflict_do_nothing(index_elements=["item_id", "type", "source"]),
                rows,
            )
    return len(rows)


def run_triage(
    engine: Engine,
    weights: dict[str, float],
    matcher: Matcher | None,
    now: datetime | None = None,
    media_weights: dict[str, float] | None = None,
) -> TriageSummary:
    """``media_weights``: the ``[media.risk]`` rule; stored media signals are scored again with
    it, so a recalibration reaches files ingested before it."""
    now = now or datetime.now(UTC)
    summary = TriageSummary()
    if matcher is not None:
        summary.hash_matches = match_items(engine, matcher)
    with engine.connect() as conn:
        text = {
            r.item_id: r
            for r in conn.execute(
                select(signals.c.item_id, signals.c.label, signals.c.score, signals.c.detail).where(
                    signals.c.type == "text"
                )
            )
        }
        media = {
            r.item_id: r
            for r in conn.execute(
                select(signals.c.item_id, signals.c.score, signals.c.detail).where(
                    signals.c.type == "media"
                )
            )
        }
        hashed: dict[int, list[str]] = defaultdict(list)  # exact matches
        near: dict[int, list[str]] = defaultdict(list)  # PDQ / vPDQ near-duplicates
        for r in conn.execute(
            select(signals.c.item_id, signals.c.source, signals.c.detail).where(
                signals.c.type == "hash"
            )
        ):
            exact = (r.detail or {}).get("hash_type") in ("md5", "sha1", "sha256")
            (hashed if exact else near)[r.item_id].append(r.source)
        agg = {
            r.item_id: r
            for r in conn.execute(
                select(
                    observations.c.item_id,
                    func.count(func.distinct(observations.c.sharer_id)).label("n_sharers"),
                    func.max(observations.c.seen_at).label("last_seen"),
                ).group_by(observations.c.item_id)
            )
        }
        pairs = conn.execute(
            select(observations.c.sharer_id, observations.c.item_id).distinct()
        ).all()
        kinds = dict(conn.execute(select(items.c.id, items.c.kind)).all())
    unknown_flagged = {
        iid
        for iid, t in text.items()
        if t.label == "csa"
        and iid not in hashed
        and iid not in near
        and kinds.get(iid) in FILE_KINDS
    }
    per_sharer_unknown: dict[int, int] = defaultdict(int)
    item_sharers: dict[int, list[int]] = defaultdict(list)
    sharer_items: dict[int, list[int]] = defaultdict(list)
    for sid, iid in pairs:
        item_sharers[iid].append(sid)
        sharer_items[sid].append(iid)
        if iid in unknown_flagged:
            per_sharer_unknown[sid] += 1
    producers = {s for s, n in per_sharer_unknown.items() if n >= PRODUCER_MIN_UNKNOWN}
    rows = []
    prio: dict[int, float] = {}
    for iid, kind in kinds.items():
        if kind not in FILE_KINDS:
            continue
        t = text.get(iid)
        detail = (t.detail or {}) if t else {}
        m = media.get(iid)
        f = Factors(
            text_label=t.label if t else None,
            text_score=float(t.score) if t and t.score is not None else 0.0,
            known=iid in hashed,
            near_duplicate=iid in near,
            min_age=detail.get("min_age"),
            live=bool(detail.get("live")),
            payment=bool(detail.get("payment")),
            producer=any(s in producers for s in item_sharers.get(iid, ())),
            n_sharers=agg[iid].n_sharers if iid in agg else 0,
            days_since_seen=(now - _aware(agg[iid].last_seen)).total_seconds() / 86400
            if iid in agg and agg[iid].last_seen
            else None,
            media_risk=_media_risk(m, media_weights),
        )
        k = kind_of(f)
        if k == "other":
            continue
        score, parts = priority(f, weights)
        prio[iid] = score
        rows.append({"item_id": iid, "kind": k, "priority": score,
                     "breakdown": {"factors": parts, "lists": hashed.get(iid, []) + near.get(iid, []), "reasons": detail.get("reasons", []),
                                   "media_reasons": ((m.detail or {}).get("reasons", []) if m is not None else [])},
                     "status": "new", "updated_at": now})  # fmt: skip
        summary.by_kind[k] = summary.by_kind.get(k, 0) + 1
    summary.items = sum(1 for k in kinds.values() if k in FILE_KINDS)
    summary.findings = len(rows)
    with engine.begin() as conn:
        ins = insert_for(conn)
        if rows:
            stmt = ins(findings)
            stmt = stmt.on_conflict_do_update(
                index_elements=["item_id"],
                set_={
                    "kind": stmt.excluded.kind,
                    "priority": stmt.excluded.priority,
                    "breakdown": stmt.excluded.breakdown,
                    "updated_at": stmt.excluded.updated_at,
                },
            )
            for i in range(0, len(rows), 5000):
                conn.execute(stmt, rows[i : i + 5000])
        for sid, its in sharer_items.items():
            scores = sorted((prio.get(i, 0.0) for i in its), reverse=True)
            top = scores[0] if scores else 0.0
            others = SHARER_OTHERS_WEIGHT * sum(scores[1:])
            n_unknown = sum(1 for i in its if i in unknown_flagged)
            n_known = sum(1 for i in its if i in hashed)
            bd = {"top_item": round(top, 4), "other_items": round(others, 4), "files": len(its),
                  "unknown_flagged_files": n_unknown, "known_files": n_known, "producer": sid in producers}  # fmt: skip
            conn.execute(
                sharers.update()
                .where(sharers.c.id == sid)
                .values(priority=round(top + others, 4), breakdown=bd)
            )
            summary.sharers += 1
    return summary


def _media_risk(m, weights: dict[str, float] | None) -> float:
    if m is None:
        return 0.0
    score = current_score(m.detail or {}, weights)
    return score if score is not None else float(m.score or 0.0)


# ---- query-log intelligence ---------------------------------------------------------------------
def _day(d) -> date:
    """SQLite returns dates as text, PostgreSQL as dates."""
    return d if isinstance(d, date) else date.fromisoformat(str(d))


def flagged_share_by_day(engine: Engine) -> list[tuple[date, int, int]]:
    """(day, flagged query count, all query count)."""
    with engine.connect() as conn:
        totals = dict(
            conn.execute(
                select(query_stats.c.day, func.sum(query_stats.c.count)).group_by(query_stats.c.day)
            ).all()
        )
        flagged = dict(
            conn.execute(
                select(query_stats.c.day, func.sum(query_stats.c.count))
                .join(
                    signals,
                    (signals.c.item_id == query_stats.c.item_id) & (signals.c.type == "text"),
                )
                .where(signals.c.label == "csa")
                .group_by(query_stats.c.day)
            ).all()
        )
    return [
        (_day(d), int(flagged.get(d) or 0), int(n))
        for d, n in sorted(totals.items(), key=lambda x: str(x[0]))
    ]


def top_flagged_queries(engine: Engine, limit: int = 30) -> list[tuple[str, int, float]]:
    with engine.connect() as conn:
        return [
            (r.text, int(r.n), float(r.score))
            for r in conn.execute(
                select(items.c.text, func.sum(query_stats.c.count).label("n"), signals.c.score)
                .join(query_stats, query_stats.c.item_id == items.c.id)
                .join(signals, (signals.c.item_id == items.c.id) & (signals.c.type == "text"))
                .where(signals.c.label == "csa")
                .group_by(items.c.id, items.c.text, signals.c.score)
                .order_by(func.sum(query_stats.c.count).desc())
                .limit(limit)
            )
        ]


def discover_terms(
    engine: Engine, known_terms: set[str], tokenize, top: int = 100
) -> list[Candidate]:
    """Candidates from all stored queries; saved to ``term_candidates`` (accepted/rejected kept)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(items.c.text, signals.c.label, query_stats.c.count, query_stats.c.day)
            .join(query_stats, query_stats.c.item_id == items.c.id)
            .join(signals, (signals.c.item_id == items.c.id) & (signals.c.type == "text"))
            .where(items.c.kind == "query")
        ).all()
        decided = {
            r.term
            for r in conn.execute(
                select(term_candidates.c.term).where(term_candidates.c.status != "new")
            )
        }
        accepted = {r.term for r in conn.execute(select(lexicon_terms.c.term))}
    cache: dict[str, list[str]] = {}

    def toks(text: str) -> list[str]:
        if text not in cache:
            cache[text] = tokenize(text)
        return cache[text]

    data = [(toks(t or ""), label == "csa", int(c), _day(d)) for t, label, c, d in rows]
    cands = [
        c for c in discover(data, known_terms | accepted, top=top * 2) if c.term not in decided
    ][:top]
    now = datetime.now(UTC)
    with engine.begin() as conn:
        ins = insert_for(conn)
        for c in cands:
            stmt = ins(term_candidates).values(term=c.term, score=c.g2, flagged_count=c.flagged, total_count=c.total,
                                               rising=c.rising, examples=list(c.examples), discovered_at=now, status="new")  # fmt: skip
            conn.execute(stmt.on_conflict_do_update(index_elements=["term"], set_={
                "score": stmt.excluded.score, "flagged_count": stmt.excluded.flagged_count,
                "total_count": stmt.excluded.total_count, "rising": stmt.excluded.rising,
                "examples": stmt.excluded.examples, "discovered_at": stmt.excluded.discovered_at}))  # fmt: skip
    return cands


def accept_terms(
    engine: Engine, terms: list[str], category: str, lang: str, weight: float, analyst: str
) -> int:
    now = datetime.now(UTC)
    source = f"analyst:{analyst} {now.date().isoformat()}"
    with engine.begin() as conn:
        ins = insert_for(conn)
        rows = [
            {
                "term": t,
                "lang": lang,
                "category": category,
                "weight": weight,
                "source": source,
                "accepted_at": now,
            }
            for t in terms
        ]
        conn.execute(
            ins(lexicon_terms).on_conflict_do_nothing(index_elements=["term", "category"]), rows
        )
        for t in terms:
            conn.execute(
                term_candidates.update()
                .where(term_candidates.c.term == t)
                .values(status="accepted")
            )
        from ocsea.service import audit

        audit.append(conn, f"cli:{analyst}", "lexicon.accept", category,
                     {"terms": terms[:100], "lang": lang, "weight": weight})  # fmt: skip
    return len(terms)


def reject_terms(engine: Engine, terms: list[str], actor: str) -> int:
    """Mark candidates rejected (audited): discovery does not offer them again."""
    from ocsea.service import audit

    with engine.begin() as conn:
        n = 0
        for t in terms:
            n += conn.execute(
                term_candidates.update()
                .where(term_candidates.c.term == t, term_candidates.c.status == "new")
                .values(status="rejected")
            ).rowcount
        audit.append(conn, actor, "term.reject", "", {"terms": terms[:100], "rejected": n})
    return n


def remove_terms(engine: Engine, terms: list[str], category: str | None, actor: str) -> int:
    """Take accepted terms out of the lexicon overlay (audited); returns how many rows went."""
    from sqlalchemy import delete

    from ocsea.service import audit

    with engine.begin() as conn:
        q = delete(lexicon_terms).where(lexicon_terms.c.term.in_(terms))
        if category:
            q = q.where(lexicon_terms.c.category == category)
        n = conn.execute(q).rowcount
        audit.append(
            conn, actor, "lexicon.remove", category or "", {"terms": terms[:100], "removed": n}
        )
    return n


def list_terms(engine: Engine) -> list:
    from sqlalchemy import select

    with engine.connect() as conn:
        return conn.execute(
            select(lexicon_terms).order_by(lexicon_terms.c.category, lexicon_terms.c.term)
        ).all()


def overlay_entries(engine: Engine) -> list[Entry]:
    """Accepted terms, for the detector's lexicon (used from then on)."""
    with engine.connect() as conn:
        return [
            Entry(r.term, r.lang, r.category, r.weight, "", r.source)
            for r in conn.execute(
                select(
                    lexicon_terms.c.term,
                    lexicon_terms.c.lang,
                    lexicon_terms.c.category,
                    lexicon_terms.c.weight,
                    lexicon_terms.c.source,
                )
            )
        ]
