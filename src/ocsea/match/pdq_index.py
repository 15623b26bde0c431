"""PDQ near-duplicate index: multi-index hashing with an exactness guarantee.

The 256-bit hash is cut into m chunks. Two hashes within Hamming distance d differ in at least
one chunk by at most r = floor(d / m) bits (pigeonhole: if every chunk differed by r + 1 or more,
the distance would be at least m (r + 1) > d). Probing, in every chunk's table, all values within
r bits of the query's chunk therefore finds every true neighbour; candidates are verified by their
full distance. Recall is 100 % by construction, for any list size, including a list of one hash
(DESIGN §4: python-threatexchange 1.2.x missed those).

The chunk count adapts to the list: chunks of about log2(n) bits keep about one hash a bucket, so
a query verifies a few thousand candidates, not tens of thousands (16 × 16-bit chunks at 10 M
hashes verify ~41,000). At 10 M: 11 chunks of 23–24 bits, r = 2 for d ≤ 32, 3,200 probes.
Memory at 10 M: hashes 320 MB + bucket order 440 MB + bucket offsets 470 MB ≈ 1.2 GB.

A query runs in C (``_pdq_query.Searcher``, built per distance over these same arrays, memory-
mapped ones included): it is bound by memory latency, each bucket offset, bucket entry and
candidate hash a cache miss, and the C loop keeps many of them in flight where NumPy's gathers
waited for each (1 M hashes: 300 → 60 µs a query; 1,000 hits a query: 1,000 → 150 µs).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from math import comb
from pathlib import Path

import numpy as np

from ocsea.match._pdq_query import Searcher

DEFAULT_MAX_DISTANCE = 31
MAX_SUPPORTED_DISTANCE = 63
MAX_CHUNK_BITS = 24
_PLANNED_DISTANCE = 31  # chunking is planned for this distance; other distances stay exact


def hex_to_bytes(hexes: Sequence[str]) -> np.ndarray:
    """64-digit hex strings → (n, 32) uint8."""
    if len(hexes) == 0:
        return np.zeros((0, 32), dtype=np.uint8)
    raw = bytes.fromhex("".join(hexes))
    if len(raw) != 32 * len(hexes):
        raise ValueError("every PDQ hash must be 64 hex digits")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, 32)


def bytes_to_words(b: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(b).view(">u8").astype(np.uint64).reshape(-1, 4)


def hex_to_words(hexes: Sequence[str]) -> np.ndarray:
    return bytes_to_words(hex_to_bytes(hexes))


def distances(words: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Hamming distance of each row of ``words`` (n, 4) to one ``query`` (4,)."""
    return np.bitwise_count(words ^ query).sum(axis=1, dtype=np.int32)


def _check_distance(max_distance: int) -> None:
    if not 0 <= max_distance <= MAX_SUPPORTED_DISTANCE:
        raise ValueError(f"max_distance must be within 0..{MAX_SUPPORTED_DISTANCE}")


def _chunk_sizes(m: int) -> list[int]:
    return [256 // m + (1 if i < 256 % m else 0) for i in range(m)]


def chunk_radii(sizes: Sequence[int], max_distance: int) -> list[int]:
    """Probe radius per chunk. Pigeonhole needs only sum(r_c + 1) > d, so starting from
    floor(d / m) everywhere, the largest chunks give back the slack (-1: not probed at all).
    At 1 M hashes and d = 31 this halves the probes (13 chunks: 7 drop from radius 2 to 1)."""
    m = len(sizes)
    base = max_distance // m
    radii = [base] * m
    slack = m * (base + 1) - (max_distance + 1)
    for c in sorted(range(m), key=lambda c: -sizes[c])[:slack]:
        radii[c] -= 1
    return radii


def plan_chunks(n: int, max_distance: int = _PLANNED_DISTANCE) -> int:
    """Chunk count with the least estimated work per query (bucket probes + candidates to
    verify, each about one random memory read), within a memory budget for the bucket tables
    (at most max(2^24, 16 n) offsets in all)."""
    best_m, best_cost = 16, float("inf")
    budget = max(1 << 24, 16 * n)
    for m in range(8, 65):
        sizes = _chunk_sizes(m)
        if max(sizes) > MAX_CHUNK_BITS or sum(1 << s for s in sizes) > budget:
            continue
        probes = [
            sum(comb(s, i) for i in range(r + 1))
            for s, r in zip(sizes, chunk_radii(sizes, max_distance), strict=True)
        ]
        cost = sum(probes) + sum(p * n / (1 << s) for p, s in zip(probes, sizes, strict=True))
        if cost < best_cost:
            best_m, best_cost = m, cost
    return best_m


@lru_cache(maxsize=64)
def _flip_masks(bits: int, radius: int) -> np.ndarray:
    masks = [0]
    frontier = [0]
    for _ in range(radius):
        nxt = set()
        for v in frontier:
            for b in range(bits):
                w = v | (1 << b)
                if w != v:
                    nxt.add(w)
        frontier = sorted(nxt)
        masks.extend(frontier)
    return np.array(sorted(set(masks)), dtype=np.int64)


def _chunk_values(b: np.ndarray, start: int, size: int) -> np.ndarray:
    """Values of bits [start, start + size) of each row of (n, 32) uint8, big-endian."""
    b0, b1 = start // 8, (start + size - 1) // 8
    v = np.zeros(b.shape[0], dtype=np.uint64)
    for j in range(b0, b1 + 1):
        v = (v << np.uint64(8)) | b[:, j].astype(np.uint64)
    shift = (b1 - b0 + 1) * 8 - (start - b0 * 8) - size
    return (v >> np.uint64(shift)) & np.uint64((1 << size) - 1)


def _word_chunk_values(w: np.ndarray, start: int, size: int) -> np.ndarray:
    """``_chunk_values`` from the (n, 4) uint64 words instead of the bytes, so that the bytes
    need not be kept while an index is built (10 M hashes: 320 MB)."""
    k, off = divmod(start, 64)
    if off + size <= 64:
        return (w[:, k] >> np.uint64(64 - off - size)) & np.uint64((1 << size) - 1)
    hi_bits = 64 - off
    lo_bits = size - hi_bits
    hi = w[:, k] & np.uint64((1 << hi_bits) - 1)
    return (hi << np.uint64(lo_bits)) | (w[:, k + 1] >> np.uint64(64 - lo_bits))


class PdqIndex:
    """Immutable index over PDQ hashes with integer ids."""

    def __init__(
        self,
        hexes: Sequence[str],
        ids: Sequence[int] | np.ndarray | None = None,
        n_chunks: int | None = None,
        brute_force_fallback: bool = True,
    ) -> None:
        raw = hex_to_bytes(hexes)
        self.brute_force_fallback = brute_force_fallback
        self._init(raw, ids, n_chunks)

    @classmethod
    def from_bytes(cls, raw: np.ndarray, ids=None, n_chunks: int | None = None) -> PdqIndex:
        self = cls.__new__(cls)
        self.brute_force_fallback = True
        self._init(np.ascontiguousarray(raw, dtype=np.uint8).reshape(-1, 32), ids, n_chunks)
        return self

    @classmethod
    def from_words(cls, words: np.ndarray, ids=None, n_chunks: int | None = None) -> PdqIndex:
        """From (n, 4) uint64 words, as ``bytes_to_words`` gives them (the bytes can go)."""
        self = cls.__new__(cls)
        self.brute_force_fallback = True
        self._init_words(np.ascontiguousarray(words, dtype=np.uint64).reshape(-1, 4), ids, n_chunks)
        return self

    def _init(self, raw: np.ndarray, ids, n_chunks: int | None) -> None:
        self._init_words(bytes_to_words(raw), ids, n_chunks)

    def _init_words(self, words: np.ndarray, ids, n_chunks: int | None) -> None:
        n = words.shape[0]
        self.words = words
        self.ids = np.arange(n, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        if self.ids.shape[0] != n:
            raise ValueError("ids and hashes differ in length")
        self.n_chunks = m = n_chunks or plan_chunks(n)
        self.sizes = _chunk_sizes(m)
        if max(self.sizes) > MAX_CHUNK_BITS or m > 256:
            raise ValueError(
                f"n_chunks must give chunks of at most {MAX_CHUNK_BITS} bits (11..256)"
            )
        self.starts = [sum(self.sizes[:c]) for c in range(m)]
        off_dtype = np.int32 if n < (1 << 31) else np.int64
        self._order = np.empty(m * n, dtype=np.uint32 if m * n < (1 << 32) else np.uint64)
        self._offsets: list[np.ndarray] = []
        for c, (start, size) in enumerate(zip(self.starts, self.sizes, strict=True)):
            vals = _word_chunk_values(self.words, start, size)
            order = np.argsort(vals, kind="stable")
            self._order[c * n : (c + 1) * n] = order
            offs = np.zeros((1 << size) + 1, dtype=off_dtype)
            np.cumsum(np.bincount(vals.astype(np.int64), minlength=1 << size), out=offs[1:])
            self._offsets.append(offs)
        self._offsets_all = (
            np.concatenate(self._offsets) if self._offsets else np.zeros(1, np.int64)
        )
        self._offset_base = np.cumsum([0] + [len(o) for o in self._offsets[:-1]]).astype(np.int64)
        self._offsets = []  # the pieces were copied into _offsets_all
        self._searchers: dict[int, Searcher] = {}

    # The arrays that are the index, as ``save`` writes them and ``load`` maps them back.
    _ARRAYS = ("words", "ids", "_order", "_offsets_all", "_offset_base")

    def save(self, folder: Path) -> None:
        """Write the index as plain ``.npy`` arrays (and its chunk sizes) into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in self._ARRAYS:
            np.save(folder / f"{name.lstrip('_')}.npy", getattr(self, name), allow_pickle=False)
        np.save(folder / "sizes.npy", np.asarray(self.sizes, dtype=np.int64), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> PdqIndex:
        """An index ``save`` wrote, memory-mapped: opening a 10 M-hash index reads no hash (the
        pages a query touches are read then, and shared between processes)."""
        self = cls.__new__(cls)
        self.brute_force_fallback = True
        mode = "r" if mmap else None
        for name in self._ARRAYS:
            arr = np.load(folder / f"{name.lstrip('_')}.npy", mmap_mode=mode, allow_pickle=False)
            setattr(self, name, arr)
        self.sizes = [int(x) for x in np.load(folder / "sizes.npy", allow_pickle=False)]
        self.n_chunks = len(self.sizes)
        self.starts = [sum(self.sizes[:c]) for c in range(self.n_chunks)]
        self._offsets = []
        self._searchers = {}
        if self.ids.shape[0] != self.words.shape[0]:
            raise ValueError(f"{folder}: index arrays differ in length")
        return self

    def radii(self, max_distance: int) -> list[int]:
        return chunk_radii(self.sizes, max_distance)

    def _searcher(self, max_distance: int) -> Searcher:
        """The probes for this distance (every flip mask of every probed chunk), bound to the
        index's arrays in the C searcher; made once a distance."""
        searcher = self._searchers.get(max_distance)
        if searcher is None:
            radii = self.radii(max_distance)
            masks, chunk = [], []
            for c, (size, r) in enumerate(zip(self.sizes, radii, strict=True)):
                if r >= 0:
                    mk = _flip_masks(size, r)
                    masks.append(mk)
                    chunk.append(np.full(mk.size, c, dtype=np.int64))
            searcher = Searcher(self.words, self.ids, self._order, self._offsets_all,
                                self._offset_base, self.sizes, radii, np.concatenate(masks),
                                np.concatenate(chunk), max_distance)  # fmt: skip
            self._searchers[max_distance] = searcher
        return searcher

    def __len__(self) -> int:
        return int(self.words.shape[0])

    @property
    def nbytes(self) -> int:
        return self.words.nbytes + self.ids.nbytes + self._order.nbytes + self._offsets_all.nbytes

    def _probing_pays(self, searcher: Searcher) -> bool:
        return not (self.brute_force_fallback and searcher.n_probes > len(self))

    def query(
        self, hex_hash: str, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[tuple[int, int]]:
        """(id, distance) of every indexed hash within ``max_distance``, nearest first (then by
        position in the index: the order of ``brute_force``)."""
        _check_distance(max_distance)
        if len(self) == 0:
            return []
        qbytes = bytes.fromhex(hex_hash)
        if len(qbytes) != 32:
            raise ValueError("a PDQ hash is 64 hex digits")
        searcher = self._searcher(max_distance)
        if not self._probing_pays(searcher):
            return self.brute_force(hex_hash, max_distance)  # probing would cost more
        return searcher.query(qbytes)

    def query_many(
        self, hex_hashes: Sequence[str], max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[list[tuple[int, int]]]:
        """``query`` for many hashes at once: the same answers, one call into C for the batch."""
        _check_distance(max_distance)
        nq = len(hex_hashes)
        if nq == 0 or len(self) == 0:
            return [[] for _ in range(nq)]
        raw = hex_to_bytes(list(hex_hashes))
        searcher = self._searcher(max_distance)
        if not self._probing_pays(searcher):
            return [self.brute_force(h, max_distance) for h in hex_hashes]
        return searcher.query_many(raw.tobytes())

    def brute_force(
        self, hex_hash: str, max_distance: int = DEFAULT_MAX_DISTANCE
    ) -> list[tuple[int, int]]:
        """Reference answer, for tests and benchmarks."""
        if len(self) == 0:
            return []
        q = hex_to_words([hex_hash])[0]
        d = distances(self.words, q)
        idx = np.nonzero(d <= max_distance)[0]
        o = np.argsort(d[idx], kind="stable")
        return list(zip(self.ids[idx[o]].tolist(), d[idx[o]].tolist(), strict=True))
