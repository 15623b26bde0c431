"""Referrals in the store: import (one transaction a document), the graph as loaded from the
store (referrals plus the P2P sharers that meet them), and cases rebuilt from it."""

from __future__ import annotations

import hashlib
import json
import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from sys import intern
from typing import TYPE_CHECKING, NamedTuple

import networkx as nx
from sqlalchemy import Text, bindparam, cast, func, insert, select, tuple_, update
from sqlalchemy.engine import Connection, Engine

from ocsea.config import ReferralSettings
from ocsea.referrals.decisions import load_decisions
from ocsea.referrals.entities import norm_guid
from ocsea.referrals.formats import parse_document
from ocsea.referrals.graph import (
    LinkPolicy,
    Network,
    Sighting,
    actor_order,
    build_graph,
    components,
    reporters_of,
)
from ocsea.referrals.linking import link
from ocsea.referrals.model import Referral, ReferralError
from ocsea.referrals.priority import CaseFacts, case_priority, load_ip_ranges
from ocsea.scan.archives import ArchiveLimits, is_archive_name, iter_members
from ocsea.service import audit
from ocsea.store.db import (
    cases,
    entities,
    findings,
    hash_entries,
    hash_lists,
    items,
    mentions,
    observations,
    referral_documents,
    referrals,
    sharer_ips,
    sharers,
)

if TYPE_CHECKING:
    from distributed import Client

_IN = 500
log = logging.getLogger(__name__)
ARCHIVE_LIMITS = ArchiveLimits(
    max_member_bytes=64 << 20, max_total_bytes=2 << 30, max_members=50_000
)


@dataclass
class ImportResult:
    documents: int = 0
    documents_already: int = 0
    new: int = 0
    duplicates: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    new_ids: list[int] = field(default_factory=list)


def read_inputs(paths: Iterable[Path]) -> Iterator[tuple[str, bytes | None, str | None]]:
    """(name, bytes, None) for every document, opening zip/tar archives safely in memory; or
    (name, None, why) for what cannot be read."""
    from ocsea.referrals.formats import MAX_DOCUMENT_BYTES

    for p in paths:
        if p.is_dir():
            yield from read_inputs(sorted(x for x in p.rglob("*") if x.is_file()))
            continue
        try:
            size = p.stat().st_size
        except OSError as exc:
            yield str(p), None, f"cannot read: {exc.strerror or exc}"
            continue
        if is_archive_name(p.name):
            for m in iter_members(str(p), p.name, ARCHIVE_LIMITS):
                name = f"{p}!{m.name}" if m.name else str(p)
                if m.skipped:
                    yield name, None, m.skipped
                elif (
                    m.data is not None and not is_archive_name(m.name) and not m.name.endswith("/")
                ):
                    yield name, m.data, None
            continue
        if size > MAX_DOCUMENT_BYTES:
            yield str(p), None, f"larger than {MAX_DOCUMENT_BYTES >> 20} MB"
            continue
        try:
            yield str(p), p.read_bytes(), None
        except OSError as exc:
            yield str(p), None, f"cannot read: {exc.strerror or exc}"


def _entity_ids(conn: Connection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    from ocsea.ingest.signals import ids_by_key

    found = ids_by_key(conn, entities, [entities.c.kind, entities.c.value], sorted(keys))
    missing = [{"kind": k, "value": v} for k, v in sorted(keys - set(found))]
    if missing:
        conn.execute(insert(entities), missing)
        found.update(ids_by_key(conn, entities, [entities.c.kind, entities.c.value],
                                [(m["kind"], m["value"]) for m in missing]))  # fmt: skip
    return found


def _store_referrals(
    conn: Connection, refs: list[Referral], doc_id: int, now: datetime
) -> list[int]:
    rows = [dict(source=ref.source, report_id=ref.report_id, content_sha256=ref.content_sha256,
                 document_id=doc_id, locator=ref.locator[:200], received_at=ref.received_at,
                 incident_type=ref.incident_type[:200] or None, reporter=ref.reporter[:300] or None,
                 summary=ref.summary(), imported_at=now) for ref in refs]  # fmt: skip
    # One multi-row INSERT … RETURNING (SQLite ≥ 3.35 and PostgreSQL), matched back by content hash.
    got = conn.execute(
        insert(referrals).returning(referrals.c.id, referrals.c.content_sha256), rows
    )
    id_of = {sha: rid for rid, sha in got}
    ids = [id_of[ref.content_sha256] for ref in refs]
    keys = {(m.kind, m.value[:600]) for ref in refs for m in ref.mentions}
    eid = _entity_ids(conn, keys) if keys else {}
    rows = [{"referral_id": rid, "entity_id": eid[(m.kind, m.value[:600])], "role": m.role[:40],
             "field": m.field[:300], "display": m.display[:600], "seen_at": m.at}
            for rid, ref in zip(ids, refs, strict=True) for m in ref.mentions]  # fmt: skip
    if rows:
        conn.execute(insert(mentions), rows)
    return ids


def _known(conn: Connection, refs: list[Referral]) -> tuple[dict, dict]:
    """Referrals already stored, by (source, report id) → content hash and content hash → id."""
    by_id: dict[tuple[str, str], str] = {}
    by_content: dict[str, str] = {}
    keys = sorted({(r.source, r.report_id) for r in refs})
    for chunk in _chunks(keys):
        q = select(referrals.c.source, referrals.c.report_id, referrals.c.content_sha256).where(
            tuple_(referrals.c.source, referrals.c.report_id).in_(chunk))  # fmt: skip
        by_id.update({(r[0], r[1]): r[2] for r in conn.execute(q)})
    for chunk in _chunks(sorted({r.content_sha256 for r in refs})):
        q = select(referrals.c.content_sha256, referrals.c.report_id).where(
            referrals.c.content_sha256.in_(chunk)
        )
        by_content.update({r[0]: r[1] for r in conn.execute(q)})
    return by_id, by_content


@dataclass
class ReadDocument:
    """A document as a Dask worker read it (``read_document``): its referrals in document
    order, or why it cannot be read."""

    format: str = ""
    referrals: list[Referral] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejected: str | None = None


class Document(NamedTuple):
    """A document to import: its bytes, or why it cannot be read (``read_inputs``); and, when
    it was read elsewhere (on a Dask worker), what was read, handed to the store as if read
    here."""

    name: str
    data: bytes | None
    why: str | None
    read: ReadDocument | None = None


def import_documents(engine: Engine, docs: Iterable[tuple[str, bytes | None, str | None] | Document],
                     actor: str, fmt: str = "auto", settings: ReferralSettings | None = None,
                     on_document: Callable[[str], None] | None = None) -> ImportResult:  # fmt: skip
    """Each document in its own transaction: all of its new referrals, or (on error) none. The
    referrals are stored in blocks as they are read, never all built first (`ocsea referrals
    import` of a 59 MB document of 99,000 referrals, stored and linked: peak RSS 1,007 -> 790 MB
    with the relink's own savings; bench/results/bounds.json)."""
    settings = settings or ReferralSettings()
    res = ImportResult()
    for doc in docs:
        name, data, why, read = Document(*doc)
        if on_document:
            on_document(name)
        if data is None:
            res.rejected.append(f"{name}: {why}")
            continue
        sha = hashlib.sha256(data).hexdigest()
        try:
            # A database error anywhere here is raised as it is; only what the reader raises
            # (_NotReadable) rejects the document, and either way its transaction rolls back.
            with engine.begin() as conn:
                if conn.execute(
                    select(referral_documents.c.id).where(referral_documents.c.sha256 == sha)
                ).first():
                    res.documents_already += 1
                    continue
                writer = _DocumentWriter(conn, name, data, sha, actor, datetime.now(UTC))
                if read is None:
                    parsed = _read(name, data, fmt, settings, writer.add)
                else:
                    parsed = _replay(read, writer.add)
                writer.finish(parsed.format)
        except _StoreFailed as exc:
            raise exc.__cause__ from None
        except _NotReadable as exc:
            res.rejected.append(str(exc))
            continue
        res.rejected += parsed.errors
        res.warnings += parsed.warnings
        res.duplicates += writer.duplicates
        if writer.doc_id is None:
            continue
        res.documents += 1
        res.new += len(writer.ids)
        res.new_ids += writer.ids
    return res


class _NotReadable(Exception):
    """A document the reader refused or failed on: rejected, the others go on."""


def _read(name: str, data: bytes, fmt: str, settings: ReferralSettings,
          sink: Callable[[Referral], None]):  # fmt: skip
    try:
        return parse_document(name, data, fmt, settings.region, settings.csv_columns, sink=sink)
    except _StoreFailed:
        raise
    except ReferralError as exc:
        raise _NotReadable(str(exc)) from exc
    except Exception as exc:  # a reader's bug must not stop the other documents
        log.exception("reading %s", name)
        raise _NotReadable(f"{name}: could not be read ({type(exc).__name__}: {exc}); "
                           "please report this file's format") from exc  # fmt: skip


def read_document(fmt: str, settings: ReferralSettings,
                  doc: tuple[str, bytes | None]) -> ReadDocument | None:  # fmt: skip
    """On a Dask worker: a document read as ``import_documents`` reads it (None for one sent
    without its bytes: unreadable, or imported before)."""
    name, data = doc
    if data is None:
        return None
    refs: list[Referral] = []
    try:
        parsed = _read(name, data, fmt, settings, refs.append)
    except _NotReadable as exc:
        return ReadDocument(rejected=str(exc))
    return ReadDocument(parsed.format, refs, parsed.errors, parsed.warnings)


def _replay(read: ReadDocument, sink: Callable[[Referral], None]) -> ReadDocument:
    """A worker's reading handed to the store as the reader hands it: referral by referral, or
    the document rejected."""
    if read.rejected is not None:
        raise _NotReadable(read.rejected)
    for ref in read.referrals:
        sink(ref)
    return read


def read_on_cluster(client: Client, engine: Engine,
                    docs: Iterable[tuple[str, bytes | None, str | None]], fmt: str,
                    settings: ReferralSettings) -> Iterator[Document]:  # fmt: skip
    """The documents, in order, each read on a Dask worker (at most a window of them there at
    once): what ``import_documents`` stores as if it had read them. A document already imported
    (by its hash) or unreadable is sent without its bytes; workers need no shared mount."""
    from ocsea.cluster import submit
    from ocsea.cluster.connect import worker_threads

    held: deque[Document] = deque()

    def to_read() -> Iterator[tuple[str, bytes | None]]:
        for name, data, why in docs:
            held.append(Document(name, data, why))
            known = data is not None and _imported(engine, hashlib.sha256(data).hexdigest())
            yield name, None if known else data

    window = submit.WINDOW_PER_SLOT * worker_threads(client)
    for read in submit.ordered_results(client, read_document, (fmt, settings), to_read(), window):
        yield held.popleft()._replace(read=read)


def _imported(engine: Engine, sha: str) -> bool:
    q = select(referral_documents.c.id).where(referral_documents.c.sha256 == sha)
    with engine.connect() as conn:
        return conn.execute(q).first() is not None


class _StoreFailed(Exception):
    """A database error while storing, carried through the reader so that it is not taken for
    a reader's bug (``__cause__`` is the error)."""


class _DocumentWriter:
    """Takes one document's referrals as they are read: drops those already stored (by source
    and report id, or by content), and stores the rest a block at a time; the document row is
    written with the first new referral."""

    BLOCK = 2000  # the rows of 60,000 referrals at once took 0.7 GB beside the parsed document

    def __init__(self, conn: Connection, name: str, data: bytes, sha: str, actor: str,
                 now: datetime) -> None:  # fmt: skip
        self.conn, self.name, self.data, self.sha, self.actor, self.now = (
            conn, name, data, sha, actor, now)  # fmt: skip
        self.block: list[Referral] = []
        self.seen_ids: set[tuple[str, str]] = set()
        self.seen_content: set[str] = set()
        self.duplicates: list[str] = []
        self.ids: list[int] = []
        self.doc_id: int | None = None

    def add(self, ref: Referral) -> None:
        self.block.append(ref)
        if len(self.block) >= self.BLOCK:
            self._flush()

    def finish(self, fmt: str) -> None:
        self._flush()
        if self.doc_id is None:
            return
        try:
            self.conn.execute(referral_documents.update()
                              .where(referral_documents.c.id == self.doc_id).values(format=fmt))  # fmt: skip
            audit.append(self.conn, self.actor, "referrals.import", self.name[-300:],
                         {"format": fmt, "sha256": self.sha, "referrals": len(self.ids)})  # fmt: skip
        except Exception as exc:
            raise _StoreFailed() from exc

    def _flush(self) -> None:
        refs, self.block = self.block, []
        if not refs:
            return
        try:
            self._store(refs)
        except Exception as exc:
            raise _StoreFailed() from exc

    def _store(self, refs: list[Referral]) -> None:
        known_ids, known_content = _known(self.conn, refs)
        fresh: list[Referral] = []
        for ref in refs:
            same_id = known_ids.get((ref.source, ref.report_id))
            same_content = known_content.get(ref.content_sha256)
            if same_id or (ref.source, ref.report_id) in self.seen_ids:
                note = "" if same_id is None or same_id == ref.content_sha256 else (
                    " (different content: the first one imported is kept; compare with `referrals show`)")  # fmt: skip
                self.duplicates.append(
                    f"{self.name} {ref.locator}: {ref.source} report {ref.report_id} already imported{note}"
                )
            elif same_content or ref.content_sha256 in self.seen_content:
                other = same_content or "earlier in this batch"
                self.duplicates.append(f"{self.name} {ref.locator}: same content as report {other}")
            else:
                fresh.append(ref)
            self.seen_ids.add((ref.source, ref.report_id))
            self.seen_content.add(ref.content_sha256)
        if not fresh:
            return
        if self.doc_id is None:
            self.doc_id = self.conn.execute(insert(referral_documents).values(
                sha256=self.sha, file_name=self.name[-1000:], format="", size=len(self.data),
                raw=self.data, imported_at=self.now, imported_by=self.actor)).inserted_primary_key[0]  # fmt: skip
        self.ids += _store_referrals(self.conn, fresh, self.doc_id, self.now)


# ---- the graph as the store holds it ----------------------------------------------------------
def policy_of(s: ReferralSettings) -> LinkPolicy:
    return LinkPolicy(
        timedelta(hours=s.ip_window_hours), s.max_actors, s.min_strength, party_contacts(s)
    )


def party_contacts(s: ReferralSettings) -> frozenset[tuple[str, str]]:
    """``[referrals] party_contacts`` normalised like the documents' values."""
    from ocsea.referrals.entities import norm_email, norm_phone, norm_url

    out = set()
    for raw in s.party_contacts:
        text = str(raw).strip()
        if "@" in text and norm_email(text):
            out.add(("email", norm_email(text)))
        elif (ph := norm_phone(text, s.region)) is not None and ph.valid:
            out.add(("phone", ph.e164))
        elif (u := norm_url(text)) is not None:
            out.add(("url", u[0]))
    return frozenset(out)


def _flags_of(summary: dict) -> dict[tuple[str, str], frozenset[str]]:
    """(kind, value) → what the document says about it that linking needs: file annotations,
    a possible proxy."""
    out: dict[tuple[str, str], frozenset[str]] = {}
    for f in summary.get("files", []):
        if f.get("annotations"):
            for k in ("md5", "sha1", "sha256"):
                if f.get(k):
                    out[(k, f[k])] = out.get((k, f[k]), frozenset()) | frozenset(f["annotations"])
    for m in summary.get("mentions", []):
        if m.get("kind") == "ip" and str(m.get("proxy") or "").lower() in ("true", "yes", "1"):
            out[("ip", m["value"])] = frozenset({"proxy"})
    return out


def needs_relink(engine: Engine) -> bool:
    return relink_reason(engine) is not None


def relink_reason(engine: Engine) -> str | None:
    """``waiting`` when referrals wait for a case (an import stored them and was killed or failed
    before linking), ``decision`` when an analyst's decision is newer than the last relink, else
    None. The state is its own marker: no flag to forget to clear."""
    from ocsea.store.db import link_decisions

    with engine.connect() as conn:
        if conn.execute(
            select(referrals.c.id).where(referrals.c.case_key.is_(None)).limit(1)
        ).first():
            return "waiting"
        # A correction made (or revoked) after the last relink: that relink was killed or failed.
        last_link = conn.execute(select(func.max(cases.c.updated_at))).scalar()
        last_decision = conn.execute(select(func.max(func.coalesce(
            link_decisions.c.revoked_at, link_decisions.c.created_at)))).scalar()  # fmt: skip
    if last_decision is None:
        return None
    if last_link is None:
        return "decision"
    last_link, last_decision = (t.replace(tzinfo=UTC) if t.tzinfo is None else t
                                for t in (last_link, last_decision))  # fmt: skip
    return "decision" if last_decision > last_link else None


def _chunks(values: list, n: int = _IN) -> Iterator[list]:
    for i in range(0, len(values), n):
        yield values[i : i + n]


def load_graph(engine: Engine, settings: ReferralSettings) -> tuple[nx.Graph, dict[int, dict]]:
    """(graph, referral id → summary). Sharers come in only where they meet a referral: an IP
    used close in time, a file a referral names, or a P2P GUID a referral names."""
    with engine.connect() as conn:
        return _load_graph(conn, settings)


def _in_chunks(q, col, ids: set[int] | None):
    """``q``, or ``q`` for each chunk of ``ids`` (the referrals a partial relink reads)."""
    if ids is None:
        yield q
        return
    for chunk in _chunks(sorted(ids)):
        yield q.where(col.in_(chunk))


def _load_graph(conn: Connection, settings: ReferralSettings,
                only: set[int] | None = None) -> tuple[nx.Graph, dict[int, dict]]:  # fmt: skip
    """The graph of every referral, or of the referrals ``only`` (a set closed under shared
    identifiers, ``_closure``) with the sharers and findings that meet them."""
    sightings, actors, raw = _load_sightings(conn, only)
    summaries = {rid: json.loads(text) for rid, text in raw.items()}
    return build_graph(sightings, actors, policy_of(settings), load_decisions(conn)), summaries


def _load_sightings(conn: Connection, only: set[int] | None = None, keep_summaries: bool = True
                    ) -> tuple[list[Sighting], dict[str, dict], dict[int, str]]:  # fmt: skip
    """(sightings, actors, referral id → summary as JSON text): what linking reads. Summaries
    stay text until a case needs them (decoding them all took 11 s of a 200,000-referral relink);
    without ``keep_summaries`` none is kept (a relink reads each block's again: 99,000
    referrals held 150 MB of them)."""
    sightings: list[Sighting] = []
    actors: dict[str, dict] = {}
    raw: dict[int, str] = {}
    flags: dict[int, dict] = {}
    rq = select(referrals.c.id, referrals.c.source, referrals.c.report_id, referrals.c.reporter,
                cast(referrals.c.summary, Text).label("summary"))  # fmt: skip
    for r in (r for q in _in_chunks(rq, referrals.c.id, only) for r in conn.execute(q)):
        if keep_summaries:
            raw[r.id] = r.summary
        if '"proxy"' in r.summary:  # the only flag linking reads
            flags[r.id] = _flags_of(json.loads(r.summary))
        actors[f"R:{r.id}"] = {"actor_type": "referral", "label": f"{r.source} {r.report_id}",
                               "reporter": (r.reporter or r.source).strip().lower()}  # fmt: skip
    q = select(mentions.c.referral_id, mentions.c.field, mentions.c.seen_at, mentions.c.role,
               mentions.c.display, entities.c.kind, entities.c.value
               ).join(entities, entities.c.id == mentions.c.entity_id)  # fmt: skip
    ips, hashes, guids = set(), {"md5": set(), "sha1": set()}, set()
    no_flags: frozenset[str] = frozenset()
    names: dict[int, str] = {}
    for m in (m for mq in _in_chunks(q, mentions.c.referral_id, only) for m in conn.execute(mq)):
        at = m.seen_at.replace(tzinfo=UTC) if m.seen_at and m.seen_at.tzinfo is None else m.seen_at
        fl = (
            flags[m.referral_id].get((m.kind, m.value), no_flags)
            if m.referral_id in flags
            else no_flags
        )
        actor = names.get(m.referral_id) or names.setdefault(m.referral_id, f"R:{m.referral_id}")
        # one string per actor, field path and role: a store's sightings repeat them endlessly
        sightings.append(Sighting(actor, intern(m.kind), m.value, at, intern(m.field), intern(m.role),
                                  m.display, fl))  # fmt: skip
        if m.kind == "ip":
            ips.add(m.value)
        elif m.kind in hashes:
            hashes[m.kind].add(m.value)
        elif m.kind == "p2p_guid":
            guids.add(m.value)
    sharer_ids: set[int] = set()
    for chunk in _chunks(sorted(ips)):
        # The sharers seen at these addresses, then their sightings there (sightings are
        # indexed by sharer, not by IP).
        at_ip = select(sharer_ips.c.sharer_id).where(sharer_ips.c.ip.in_(chunk)).distinct()
        for o in conn.execute(select(observations.c.sharer_id, observations.c.ip, observations.c.seen_at)
                              .where(observations.c.sharer_id.in_(at_ip), observations.c.ip.in_(chunk))):  # fmt: skip
            at = o.seen_at.replace(tzinfo=UTC) if o.seen_at.tzinfo is None else o.seen_at
            sightings.append(Sighting(f"S:{o.sharer_id}", "ip", o.ip, at, "p2p observation"))
            sharer_ids.add(o.sharer_id)
    for kind, values in hashes.items():
        col = items.c.sha1 if kind == "sha1" else items.c.md5
        for chunk in _chunks(sorted(values)):
            q = (select(observations.c.sharer_id, col).join(items, items.c.id == observations.c.item_id)
                 .where(col.in_(chunk)).distinct())  # fmt: skip
            for o in conn.execute(q):
                sightings.append(Sighting(f"S:{o.sharer_id}", kind, o[1], None, "p2p shared file"))
                sharer_ids.add(o.sharer_id)
    for chunk in _chunks(sorted(guids)):
        for s in conn.execute(
            select(sharers.c.id, sharers.c.guid).where(func.lower(sharers.c.guid).in_(chunk))
        ):
            sightings.append(
                Sighting(f"S:{s.id}", "p2p_guid", norm_guid(s.guid) or s.guid, None, "p2p sharer")
            )
            sharer_ids.add(s.id)
    for chunk in _chunks(sorted(sharer_ids)):
        for s in conn.execute(select(sharers.c.id, sharers.c.network, sharers.c.guid, sharers.c.priority)
                              .where(sharers.c.id.in_(chunk))):  # fmt: skip
            actors[f"S:{s.id}"] = {"actor_type": "sharer", "label": f"{s.network} {s.guid}",
                                   "priority": float(s.priority or 0.0)}  # fmt: skip
    # Triage findings on a file a referral names (P2P files, scanned files).
    for kind, values in hashes.items():
        col = items.c.sha1 if kind == "sha1" else items.c.md5
        for chunk in _chunks(sorted(values)):
            q = (select(findings.c.id, findings.c.kind, findings.c.priority, items.c.text, col)
                 .join(items, items.c.id == findings.c.item_id).where(col.in_(chunk)))  # fmt: skip
            for f in conn.execute(q):
                sightings.append(Sighting(f"F:{f.id}", kind, f[4], None, "triage finding"))
                actors[f"F:{f.id}"] = {"actor_type": "finding", "priority": float(f.priority),
                                       "label": f"finding {f.id} ({f.kind}) {f.text or ''}".strip()}  # fmt: skip
    return sightings, actors, raw


def networks(
    engine: Engine, settings: ReferralSettings, central_top: int | None = None
) -> tuple[nx.Graph, list[Network]]:
    """All networks; betweenness for the ``central_top`` largest (all when None)."""
    g, _ = load_graph(engine, settings)
    return g, components(g, policy_of(settings), min_actors=2, central_top=central_top)


def _file_hashes(summaries) -> set[tuple[str, str]]:
    return {(k, f[k]) for s in summaries for f in s.get("files", []) for k in ("md5", "sha1", "sha256") if f.get(k)}  # fmt: skip


def _hash_matches(conn: Connection, summaries) -> dict[tuple[str, str], list[str]]:
    """(kind, hash) → the hash lists that hold it, for every file the referrals name."""
    wanted = _file_hashes(summaries)
    out: dict[tuple[str, str], list[str]] = {}
    for kind in ("md5", "sha1", "sha256"):
        vals = sorted(v for k, v in wanted if k == kind)
        col = getattr(hash_entries.c, kind)
        for chunk in _chunks(vals):
            q = (select(hash_lists.c.name, col).join(hash_lists, hash_lists.c.id == hash_entries.c.list_id)
                 .where(col.in_(chunk)).distinct())  # fmt: skip
            for name, value in conn.execute(q):
                out.setdefault((kind, value), []).append(name)
    return out


def _case_matches(summaries: list[dict], on_lists: dict) -> list[str]:
    return sorted(
        f"on hash list {n}: {k} {v}"
        for k, v in _file_hashes(summaries)
        for n in on_lists.get((k, v), [])
    )


def _sharer_findings(conn: Connection, sharer_ids: list[int]) -> dict[int, tuple[int, float]]:
    """sharer → (findings among the files it shared, highest priority)."""
    out: dict[int, tuple[int, float]] = {}
    for chunk in _chunks(sharer_ids):
        q = (select(observations.c.sharer_id, func.count(func.distinct(findings.c.id)), func.max(findings.c.priority))
             .join(findings, findings.c.item_id == observations.c.item_id)
             .where(observations.c.sharer_id.in_(chunk)).group_by(observations.c.sharer_id))  # fmt: skip
        out.update({r[0]: (int(r[1]), float(r[2] or 0.0)) for r in conn.execute(q)})
    return out


# Kinds and roles that never join, whatever the graph: a partial relink does not follow them.
_NEVER_FOLLOWED_KINDS = ("domain", "md5", "sha1", "sha256", "name")
_NEVER_FOLLOWED_ROLES = ("reporting_party", "party_text")
# A partial relink that would read more than half the store relinks everything instead.
PARTIAL_SHARE = 0.5


def _spanning(conn: Connection, ents: set[int]) -> set[int]:
    """The identifiers among ``ents`` whose carriers lie in more than one case."""
    out: set[int] = set()
    for chunk in _chunks(sorted(ents)):
        q = (select(mentions.c.entity_id).join(referrals, referrals.c.id == mentions.c.referral_id)
             .where(mentions.c.entity_id.in_(chunk)).group_by(mentions.c.entity_id)
             .having(func.count(func.distinct(referrals.c.case_key)) > 1))  # fmt: skip
        out.update(r[0] for r in conn.execute(q))
    return out


def _closure(conn: Connection, seed: set[int], limit: int | None = None) -> set[int] | None:
    """The referrals whose cases new referrals ``seed`` can change, with their whole cases:
    1. every referral that shares an identifier with the new ones (a new carrier can make an
       identifier join, or make it too common to);
    2. from the cases so reached, the identifiers whose carriers lie in more than one case (the
       ones that did not join all their carriers: too common, out of the IP window, or kept
       apart by a split) — merging cases can make them join — followed until nothing new comes;
    3. the referrals an analyst's merge ties to any of these.
    An identifier whose carriers are all in one case needs no following: they are all read.
    Identifiers that never join (reporting parties' contacts, hosts, files) are not followed.
    None when the set passes ``limit`` (then everything is relinked)."""
    from ocsea.store.db import link_decisions

    if limit is None:
        limit = int(
            conn.execute(select(func.count()).select_from(referrals)).scalar_one() * PARTIAL_SHARE
        )
    merges = [set(r.side_a) | set(r.side_b) for r in conn.execute(
        select(link_decisions.c.side_a, link_decisions.c.side_b).where(
            link_decisions.c.action == "merge", link_decisions.c.revoked_at.is_(None)))]  # fmt: skip
    done: set[int] = set(seed)
    frontier = set(seed)
    followed: set[int] = set()
    first = True
    while frontier:
        ents: set[int] = set()
        for chunk in _chunks(sorted(frontier)):
            q = (select(mentions.c.entity_id).join(entities, entities.c.id == mentions.c.entity_id)
                 .where(mentions.c.referral_id.in_(chunk), entities.c.kind.not_in(_NEVER_FOLLOWED_KINDS),
                        mentions.c.role.not_in(_NEVER_FOLLOWED_ROLES)).distinct())  # fmt: skip
            ents.update(r[0] for r in conn.execute(q))
        ents -= followed
        if not first:
            ents = _spanning(conn, ents)
        first = False
        followed |= ents
        for chunk in _chunks(sorted(ents)):  # a value a reporting party's block states: never joins
            ents -= {r[0] for r in conn.execute(select(mentions.c.entity_id).where(
                mentions.c.entity_id.in_(chunk), mentions.c.role == "reporting_party").distinct())}  # fmt: skip
        carriers: set[int] = set()
        for chunk in _chunks(sorted(ents)):
            carriers.update(r[0] for r in conn.execute(
                select(mentions.c.referral_id).where(mentions.c.entity_id.in_(chunk)).distinct()))  # fmt: skip
        for m in merges:
            if m & (done | carriers):
                carriers |= m
        keys: set[str] = set()
        for chunk in _chunks(sorted(carriers | frontier)):
            keys.update(r[0] for r in conn.execute(select(referrals.c.case_key).where(
                referrals.c.id.in_(chunk), referrals.c.case_key.is_not(None)).distinct()))  # fmt: skip
        for chunk in _chunks(sorted(keys)):
            carriers.update(r[0] for r in conn.execute(
                select(referrals.c.id).where(referrals.c.case_key.in_(chunk))))  # fmt: skip
        frontier = carriers - done
        done |= frontier
        if len(done) > limit:
            return None
    return done


def rebuild_cases(engine: Engine, settings: ReferralSettings, actor: str = "system",
                  new: Iterable[int] | None = None) -> int:  # fmt: skip
    """Cases = groups of linked referrals (a referral alone is a case too), each keyed by its
    lowest referral id; a case absorbed by another is kept as merged, pointing at it. With ``new``
    (referral ids just imported), only the cases they can change are relinked (``_closure``);
    returns the number of cases written."""
    ranges = load_ip_ranges(settings.thai_ip_ranges)
    computed: dict[str, dict] = {}
    with engine.begin() as conn:
        # Rebuilds take the write lock first and read inside it: two at once run one after the
        # other, and the later one always sees at least what the earlier one saw.
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("LOCK TABLE cases IN EXCLUSIVE MODE")
        else:
            conn.exec_driver_sql(
                "UPDATE cases SET status = status WHERE 0"
            )  # takes SQLite's write lock
        only = None
        if new is not None:
            waiting = {r[0] for r in conn.execute(
                select(referrals.c.id).where(referrals.c.case_key.is_(None)))}  # fmt: skip
            only = _closure(conn, set(new) | waiting)
        sightings, actors, _ = _load_sightings(conn, only, keep_summaries=False)
        result = link(sightings, reporters_of(actors), policy_of(settings), load_decisions(conn))
        groups = _groups_of(result, actors)
        if only is not None and any(len(rids) > 1 and sids for rids, sids in groups.values()):
            # A P2P sharer joins referrals through addresses the closure does not follow.
            only = None
            sightings, actors, _ = _load_sightings(conn, keep_summaries=False)
            result = link(
                sightings, reporters_of(actors), policy_of(settings), load_decisions(conn)
            )
            groups = _groups_of(result, actors)
        now = datetime.now(UTC)
        context = _file_context(sightings)
        before: dict[str, tuple] = {}
        if only is not None:  # a case whose members did not change keeps its score and row
            keys = {f"C{rids[0]}" for rids, _ in groups.values() if rids}
            for chunk in _chunks(sorted(keys)):
                for r in conn.execute(select(cases.c.key, cases.c.status, cases.c.referral_ids,
                                             cases.c.sharer_ids).where(cases.c.key.in_(chunk))):  # fmt: skip
                    before[r.key] = (r.status, list(r.referral_ids), list(r.sharer_ids))
        todo = []
        for rids, sids_joined in groups.values():
            if not rids:
                continue
            ctx = sorted({c for r in rids for c in context.get(f"R:{r}", ())}, key=actor_order)
            sids = sorted({*sids_joined, *(int(c[2:]) for c in ctx if c.startswith("S:"))})
            fids = [c for c in ctx if c.startswith("F:")]
            key = f"C{rids[0]}"
            if before.get(key) == ("open", rids, sids):
                continue
            todo.append((key, rids, sids, fids))
        found_all = _sharer_findings(conn, sorted({s_ for _, _, sids, _ in todo for s_ in sids}))
        # Scored a block of cases at a time: the decoded summaries of a whole store at once took
        # more memory than the graph.
        for b in range(0, len(todo), 2000):
            _score_block(conn, todo[b : b + 2000], actors, found_all, settings, ranges, computed)
        unchanged = {f"C{rids[0]}" for rids, _ in groups.values() if rids} - set(computed)
        if only is None:
            existing = {r.key: r for r in conn.execute(select(cases.c.key, cases.c.status))}
        else:  # the cases of the referrals read, and any case a new grouping takes the key of
            keys = {
                r[0]
                for chunk in _chunks(sorted(only))
                for r in conn.execute(
                    select(referrals.c.case_key).where(
                        referrals.c.id.in_(chunk), referrals.c.case_key.is_not(None)
                    )
                )
            }
            keys |= set(computed) | unchanged
            existing = {r.key: r for chunk in _chunks(sorted(keys)) for r in conn.execute(
                select(cases.c.key, cases.c.status).where(cases.c.key.in_(chunk)))}  # fmt: skip
        case_of = {rid: f"C{rids[0]}" for rids, _ in groups.values() for rid in rids}
        rows = [
            {"k": key, **c, "status": "open", "merged_into": None, "updated_at": now}
            for key, c in computed.items()
        ]
        changed = [r for r in rows if r["k"] in existing]
        if changed:  # executemany: one statement for all the cases that stay
            cols = {c: bindparam(c) for c in rows[0] if c != "k"}
            conn.execute(update(cases).where(cases.c.key == bindparam("k")).values(**cols), changed)
        fresh = [
            {**{k: v for k, v in r.items() if k != "k"}, "key": r["k"]}
            for r in rows
            if r["k"] not in existing
        ]
        if fresh:
            conn.execute(insert(cases), fresh)
        merged = [{"k": key, "into": case_of.get(int(key[1:])), "at": now}
                  for key, old in existing.items()
                  if key not in computed and key not in unchanged and old.status == "open"]  # fmt: skip
        if merged:
            conn.execute(update(cases).where(cases.c.key == bindparam("k")).values(
                status="merged", merged_into=bindparam("into"), updated_at=bindparam("at")), merged)  # fmt: skip
        now_key = {r[0]: r[1] for q in _in_chunks(select(referrals.c.id, referrals.c.case_key),
                                                  referrals.c.id, only) for r in conn.execute(q)}  # fmt: skip
        moves = [{"rid": rid, "ck": key} for rid, key in case_of.items() if now_key.get(rid) != key]
        if moves:
            conn.execute(
                update(referrals)
                .where(referrals.c.id == bindparam("rid"))
                .values(case_key=bindparam("ck")),
                moves,
            )
        audit.append(conn, actor, "cases.rebuild", "",
                     {"cases_written": len(computed), "partial": only is not None,
                      "referrals_read": sum(1 for a in actors if a.startswith("R:"))})  # fmt: skip
    return len(computed)


def _score_block(conn, todo, actors, found_all, settings, ranges, computed) -> None:
    rq = select(referrals.c.id, cast(referrals.c.summary, Text).label("summary"))
    ids = {r for _, rids, _, _ in todo for r in rids}
    summaries = {r.id: json.loads(r.summary) for q in _in_chunks(rq, referrals.c.id, ids)
                 for r in conn.execute(q)}  # fmt: skip
    on_lists = _hash_matches(conn, summaries.values())
    for key, rids, sids, fids in todo:
        linked = [f"sharer {actors.get(f'S:{x}', {}).get('label', x)}: {found_all.get(x, (0, 0))[0]} findings, "
                  f"top priority {found_all.get(x, (0, 0.0))[1]:.1f}" for x in sids]  # fmt: skip
        linked += [
            f"{actors[f].get('label', f)}, priority {actors[f].get('priority', 0.0):.1f}"
            for f in fids
        ]
        summ = [summaries[r] for r in rids]
        p = case_priority(
            CaseFacts(summ, _case_matches(summ, on_lists), linked), settings.case_weights, ranges
        )
        computed[key] = {"referral_ids": rids, "sharer_ids": sids, "priority": p.score,
                         "breakdown": p.breakdown, "evidence": p.evidence}  # fmt: skip


def _groups_of(result, actors: dict[str, dict]) -> dict[str, tuple[list[int], list[int]]]:
    """group → (referral ids, sharer ids joined), each sorted."""
    out: dict[str, tuple[list[int], list[int]]] = {}
    for a, g in result.group.items():
        rids, sids = out.setdefault(g, ([], []))
        if a.startswith("R:"):
            rids.append(int(a[2:]))
        elif a.startswith("S:"):
            sids.append(int(a[2:]))
    for rids, sids in out.values():
        rids.sort()
        sids.sort()
    return out


def _file_context(sightings: list[Sighting]) -> dict[str, set[str]]:
    """referral → the sharers and findings that hold a file it names (leads, never joins)."""
    by_hash: dict[tuple[str, str], set[str]] = {}
    for x in sightings:
        if x.kind in ("md5", "sha1", "sha256"):
            by_hash.setdefault((x.kind, x.value), set()).add(x.actor)
    out: dict[str, set[str]] = {}
    for holders in by_hash.values():
        others = {h for h in holders if h[:2] in ("S:", "F:")}
        if others:
            for h in holders:
                if h.startswith("R:"):
                    out.setdefault(h, set()).update(others)
    return out


def top_cases(engine: Engine, limit: int) -> list:
    """Open cases, highest priority first."""
    with engine.connect() as conn:
        q = (
            select(cases)
            .where(cases.c.status == "open")
            .order_by(cases.c.priority.desc(), cases.c.id)
        )
        return conn.execute(q.limit(limit)).all()


def _referral_query():
    return select(referrals, referral_documents.c.file_name, referral_documents.c.format,
                  referral_documents.c.sha256.label("document_sha256")).join(
        referral_documents, referral_documents.c.id == referrals.c.document_id)  # fmt: skip


def referral_by_id(engine: Engine, referral_id: int):
    with engine.connect() as conn:
        return conn.execute(_referral_query().where(referrals.c.id == referral_id)).first()


def referral_row(engine: Engine, ident: str):
    """A referral by database id, or by report id (any source)."""
    if ident.isdigit() and int(ident) < 2**31:
        row = referral_by_id(engine, int(ident))
        if row is not None:
            return row
    with engine.connect() as conn:
        q = _referral_query().where(referrals.c.report_id == ident).order_by(referrals.c.id)
        return conn.execute(q).first()


def original_document(engine: Engine, referral_id: int) -> bytes:
    with engine.connect() as conn:
        return conn.execute(select(referral_documents.c.raw).join(
            referrals, referrals.c.document_id == referral_documents.c.id).where(referrals.c.id == referral_id)).scalar_one()  # fmt: skip
