"""Exact digest index: sorted 64-bit prefixes, binary search, full-hash verification.

A Python set of 10 M digests costs ~1.5 GB; this costs 8 bytes + the digest + 8 bytes of id a
hash (≈ 0.5 GB for 10 M SHA-256) and answers a lookup in about a microsecond.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


class ExactIndex:
    def __init__(self, hexes: Sequence[str], ids: Sequence[int], n_bytes: int) -> None:
        self.n_bytes = n_bytes
        if len(hexes) != len(ids):
            raise ValueError("ids and hashes differ in length")
        full = np.frombuffer(bytes.fromhex("".join(hexes)), dtype=np.uint8).reshape(-1, n_bytes)
        prefix = np.frombuffer(full[:, :8].tobytes(), dtype=">u8").astype(np.uint64)
        order = np.argsort(prefix, kind="stable")
        self._prefix = prefix[order]
        self._full = full[order]
        self._ids = np.asarray(ids, dtype=np.int64)[order]

    @classmethod
    def from_bytes(cls, full: np.ndarray, ids: np.ndarray, n_bytes: int) -> ExactIndex:
        """From raw digests (rows of ``n_bytes``), as a store reads them without hex strings."""
        self = cls.__new__(cls)
        self.n_bytes = n_bytes
        full = np.ascontiguousarray(full, dtype=np.uint8).reshape(-1, n_bytes)
        if full.shape[0] != len(ids):
            raise ValueError("ids and hashes differ in length")
        prefix = np.frombuffer(full[:, :8].tobytes(), dtype=">u8").astype(np.uint64)
        order = np.argsort(prefix, kind="stable")
        self._prefix, self._full = prefix[order], full[order]
        self._ids = np.asarray(ids, dtype=np.int64)[order]
        return self

    def save(self, folder: Path, name: str) -> None:
        for part in ("prefix", "full", "ids"):
            np.save(folder / f"{name}-{part}.npy", getattr(self, f"_{part}"), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path, name: str, n_bytes: int, mmap: bool = True) -> ExactIndex:
        self = cls.__new__(cls)
        self.n_bytes = n_bytes
        mode = "r" if mmap else None
        for part in ("prefix", "full", "ids"):
            arr = np.load(folder / f"{name}-{part}.npy", mmap_mode=mode, allow_pickle=False)
            setattr(self, f"_{part}", arr)
        return self

    def __len__(self) -> int:
        return int(self._ids.shape[0])

    def lookup(self, hex_hash: str) -> list[int]:
        """Ids of the entries with exactly this digest."""
        if len(self) == 0:
            return []
        raw = bytes.fromhex(hex_hash)
        if len(raw) != self.n_bytes:
            return []
        p = np.uint64(int.from_bytes(raw[:8], "big"))
        lo = int(np.searchsorted(self._prefix, p, side="left"))
        hi = int(np.searchsorted(self._prefix, p, side="right"))
        q = np.frombuffer(raw, dtype=np.uint8)
        return [int(self._ids[i]) for i in range(lo, hi) if np.array_equal(self._full[i], q)]
