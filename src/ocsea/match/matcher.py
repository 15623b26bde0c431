"""The matcher: every known-material index built from the stored hash lists, and the matching of
one file's hashes against them. Pure once built: ``match_*`` read only the indexes, and ask for
the details of a matching entry through the callable they were given."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ocsea.match.exact import ExactIndex
from ocsea.match.pdq_index import DEFAULT_MAX_DISTANCE, PdqIndex
from ocsea.match.vpdq import INDEX_PERCENT, QUERY_PERCENT, Frame, usable
from ocsea.media.hashing import Digests, PdqHash, VpdqFrame
from ocsea.store.db import hash_entries, hash_lists

DEFAULT_PDQ_QUALITY = 50
DEFAULT_VPDQ_PERCENT = QUERY_PERCENT  # the query's share of matched frames (Meta: 80 %)
DEFAULT_VPDQ_INDEX_PERCENT = INDEX_PERCENT  # the list video's share (Meta: 0 %)


@dataclass(frozen=True, slots=True)
class EntryInfo:
    entry_id: int
    list_name: str
    category: str | None
    media_id: str | None


@dataclass(frozen=True, slots=True)
class HashMatch:
    list_name: str
    category: str | None
    hash_type: str  # md5 | sha1 | sha256 | pdq | vpdq
    distance: int  # 0 for exact
    entry_id: int
    media_id: str | None = None
    transform: str | None = None  # which rotation/flip matched (PDQ)
    query_matched_pct: float | None = None  # vPDQ
    compared_matched_pct: float | None = None

    def to_dict(self) -> dict:
        d = {
            "list": self.list_name,
            "category": self.category,
            "hash_type": self.hash_type,
            "distance": self.distance,
            "entry_id": self.entry_id,
        }
        for k in ("media_id", "transform", "query_matched_pct", "compared_matched_pct"):
            v = getattr(self, k)
            if v is not None:
                d[k] = v
        return d


# What was done to the query to match (ocsea.media.hashing.DIHEDRAL; rotations counter-clockwise).
DIHEDRAL_NAMES = (
    "original",
    "rot90",
    "rot180",
    "rot270",
    "mirror",
    "mirror+rot90",
    "mirror+rot180",
    "mirror+rot270",
)


class Matcher:
    """Matches one file's hashes against the indexes. Entry details come from ``entries``, or,
    for a national-size list whose details stay in the store, from ``entry_info`` asked for the
    few entries that match (``from_store`` gives it a store lookup)."""

    def __init__(
        self,
        entries: dict[int, EntryInfo] | None,
        exact: dict[str, ExactIndex],
        pdq: PdqIndex,
        videos: dict[int, list[str]],
        max_distance: int = DEFAULT_MAX_DISTANCE,
        quality_floor: int = DEFAULT_PDQ_QUALITY,
        vpdq_percent: float = DEFAULT_VPDQ_PERCENT,
        vpdq_index_percent: float = DEFAULT_VPDQ_INDEX_PERCENT,
        entry_info: Callable[[list[int]], dict[int, EntryInfo]] | None = None,
        n_entries: int | None = None,
    ) -> None:
        self.entries = dict(entries or {})
        self._entry_info = entry_info
        self.n_entries = len(self.entries) if n_entries is None else n_entries
        self.vpdq_index_percent = vpdq_index_percent
        self.exact = exact
        self.pdq = pdq
        self.max_distance = max_distance
        self.quality_floor = quality_floor
        self.vpdq_percent = vpdq_percent
        self.videos = videos
        frame_hexes: list[str] = []
        frame_owner: list[int] = []
        for eid, frames in videos.items():
            frame_hexes.extend(frames)
            frame_owner.extend([eid] * len(frames))
        self._frame_owner = frame_owner
        self._frames = PdqIndex(frame_hexes)

    @classmethod
    def from_store(
        cls, engine: Engine, lists: Sequence[str] | None = None, persist: bool = True, **kw
    ) -> Matcher:
        """The indexes of the stored lists: mapped from the copy kept beside the database when
        no list changed since it was written, else built (and kept: ``persisted``)."""
        from ocsea.match.persisted import load_or_build

        floor = kw.get("quality_floor", DEFAULT_PDQ_QUALITY)
        parts = load_or_build(engine, lists, floor, persist=persist)

        def entry_info(ids: list[int]) -> dict[int, EntryInfo]:
            q = select(hash_entries.c.id, hash_lists.c.name, hash_entries.c.category,
                       hash_entries.c.media_id
                       ).join(hash_lists, hash_lists.c.id == hash_entries.c.list_id
                       ).where(hash_entries.c.id.in_(ids))  # fmt: skip
            with engine.connect() as conn:
                return {r[0]: EntryInfo(*r) for r in conn.execute(q)}

        return cls(None, parts.exact, parts.pdq, parts.videos, entry_info=entry_info,
                   n_entries=parts.n_entries, **kw)  # fmt: skip

    def _fetch(self, eids) -> None:
        """The details of these entries, one lookup for all that are not known yet."""
        missing = [e for e in eids if e not in self.entries]
        if missing and self._entry_info is not None:
            self.entries.update(self._entry_info(sorted(set(missing))))

    def _hit(self, eid: int, hash_type: str, distance: int, **extra) -> HashMatch:
        e = self.entries.get(eid)
        if e is None and self._entry_info is not None:
            self.entries.update(self._entry_info([eid]))
            e = self.entries.get(eid)
        if e is None:  # the index is newer than what the store could say: still a match
            e = EntryInfo(eid, "?", None, None)
        return HashMatch(e.list_name, e.category, hash_type, distance, eid, e.media_id, **extra)

    def match_digests(self, d: Digests) -> list[HashMatch]:
        found = [
            (eid, t)
            for t in ("md5", "sha1", "sha256")
            for eid in self.exact[t].lookup(getattr(d, t))
        ]
        self._fetch(eid for eid, _ in found)
        return [self._hit(eid, t, 0) for eid, t in found]

    def match_pdq(self, hashes: Sequence[PdqHash]) -> list[HashMatch]:
        """Near-duplicates of an image; ``hashes`` is the original or its 8 dihedral variants."""
        best: dict[int, tuple[int, str]] = {}
        for k, h in enumerate(hashes):
            if h.quality < self.quality_floor:
                continue
            for eid, dist in self.pdq.query(h.hex, self.max_distance):
                if eid not in best or dist < best[eid][0]:
                    best[eid] = (dist, DIHEDRAL_NAMES[k] if len(hashes) == 8 else "original")
        self._fetch(best)
        return [
            self._hit(eid, "pdq", d, transform=t)
            for eid, (d, t) in sorted(best.items(), key=lambda x: x[1][0])
        ]

    def match_vpdq(self, frames: Sequence[VpdqFrame | Frame]) -> list[HashMatch]:
        """Video-to-video as Meta's vPDQ reference does it: both sides quality-filtered and each
        hash counted once; the query's share of frames with a match must reach ``vpdq_percent``
        (80 %), the list video's share ``vpdq_index_percent`` (0 %)."""
        good = usable([Frame(f.hex, f.quality) for f in frames], self.quality_floor)
        if not good or not self.videos:
            return []
        query_hits: dict[int, set[int]] = defaultdict(set)  # entry -> matched query frames
        compared_hits: dict[int, set[int]] = defaultdict(set)  # entry -> matched entry frames
        for qi, hx in enumerate(good):
            for gid, _ in self._frames.query(hx, self.max_distance):
                eid = self._frame_owner[gid]
                query_hits[eid].add(qi)
                compared_hits[eid].add(gid)
        out = []
        self._fetch(query_hits)
        for eid, qset in query_hits.items():
            q_pct = 100.0 * len(qset) / len(good)
            c_pct = 100.0 * len(compared_hits[eid]) / max(1, len(self.videos[eid]))
            if q_pct >= self.vpdq_percent and c_pct >= self.vpdq_index_percent:
                out.append(
                    self._hit(
                        eid,
                        "vpdq",
                        0,
                        query_matched_pct=round(q_pct, 1),
                        compared_matched_pct=round(c_pct, 1),
                    )
                )
        return out
