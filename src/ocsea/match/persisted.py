"""The match index kept on disk beside the database, memory-mapped, rebuilt only when a list changes.

Building the indexes from the store reads every entry (10 M PDQ hashes: tens of seconds and
gigabytes as Python objects). Written once as plain NumPy arrays and mapped back, they open in
milliseconds and cost only the pages a query touches, shared by every process that maps them
(`ocsea match`, `ocsea scan`, each service worker). Entry details (list, category, media id) are
not in the arrays: the matcher asks the store for the few entries that match.

Where: beside a SQLite database (``ocsea.db`` -> ``ocsea.db.index/``); for a server database under
``$XDG_CACHE_HOME/ocsea/`` (or ``OCSEA_INDEX_DIR``). A folder per list selection and quality floor,
named by a stamp of the stored entries (their highest id and the imports that wrote them),
so a changed list is seen at once and a stale folder is never read.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from array import array
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ocsea.match.exact import ExactIndex
from ocsea.match.pdq_index import PdqIndex, bytes_to_words
from ocsea.match.vpdq import frames_from_json, usable
from ocsea.store.db import hash_entries, hash_list_imports, hash_lists

log = logging.getLogger(__name__)

FORMAT = 1
DIGEST_BYTES = {"md5": 16, "sha1": 20, "sha256": 32}
_READ_ROWS = 50_000


class IndexParts:
    """What a matcher is built from: exact indexes, the PDQ index, list videos, entry count."""

    def __init__(self, exact: dict[str, ExactIndex], pdq: PdqIndex,
                 videos: dict[int, list[str]], n_entries: int) -> None:  # fmt: skip
        self.exact, self.pdq, self.videos, self.n_entries = exact, pdq, videos, n_entries


def index_root(engine: Engine) -> Path:
    """Where this database's indexes live."""
    env = os.environ.get("OCSEA_INDEX_DIR")
    if env:
        return Path(env)
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        db = Path(url.database)
        return db.with_name(db.name + ".index")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    who = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return cache / "ocsea" / f"index-{who}"


def _selection(lists: Sequence[str] | None, floor: int) -> str:
    key = json.dumps({"lists": sorted(lists) if lists else None, "floor": floor})
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def _stamp(engine: Engine, lists: Sequence[str] | None, floor: int) -> dict:
    """What the stored entries are: their highest id and every import that wrote them (entries
    are written only by imports, and only added, never deleted): a database made again with
    other lists of the same size, or restored from a backup, has other imports. (Counting the
    entries instead took 0.1 s a million.)"""
    q = select(func.max(hash_entries.c.id))
    imports = hashlib.sha256()
    with engine.connect() as conn:
        top = conn.execute(q).scalar()
        for row in conn.execute(
            select(hash_list_imports.c.id, hash_list_imports.c.list_id,
                   hash_list_imports.c.file_sha256, hash_list_imports.c.imported_at
                   ).order_by(hash_list_imports.c.id)):  # fmt: skip
            imports.update(repr(tuple(row)).encode())
    from ocsea.store.migrate import newest_file_revision

    return {"format": FORMAT, "schema": newest_file_revision(), "max_entry_id": int(top or 0),
            "imports": imports.hexdigest(), "lists": sorted(lists) if lists else None,
            "quality_floor": floor}  # fmt: skip


def load_or_build(engine: Engine, lists: Sequence[str] | None, floor: int,
                  persist: bool = True) -> IndexParts:  # fmt: skip
    """The indexes for these lists and this quality floor: mapped from disk when the stored
    entries have not changed since they were written, else built from the store (and written,
    unless ``persist`` is off or the folder cannot be written)."""
    if not persist:
        return build(engine, lists, floor)
    stamp = _stamp(engine, lists, floor)
    sel = _selection(lists, floor)
    digest = hashlib.sha256(json.dumps(stamp, sort_keys=True).encode()).hexdigest()[:12]
    root = index_root(engine)
    folder = root / f"{sel}-{digest}"
    if (folder / "meta.json").is_file():
        try:
            return _load(folder)
        except (OSError, ValueError) as exc:
            log.warning("match index %s unreadable (%s): rebuilding", folder, exc)
    parts = build(engine, lists, floor)
    try:
        _write(parts, root, folder, stamp)
    except OSError as exc:  # a read-only place: the index still works, built each time
        log.warning("could not keep the match index in %s: %s", root, exc)
    else:
        # Older stamps go, of this selection and of any other: an index of other lists or
        # another floor is rebuilt when next asked for (it would be stale after this change).
        for old in root.iterdir():
            if old != folder and not old.name.startswith(".") and (old / "meta.json").is_file():
                shutil.rmtree(old, ignore_errors=True)
    return parts


def build(engine: Engine, lists: Sequence[str] | None, floor: int) -> IndexParts:
    """Every index from the store, reading entries in blocks into raw bytes (no hex strings or
    objects per entry)."""
    digests = {t: (bytearray(), array("q")) for t in DIGEST_BYTES}
    pdq_raw, pdq_ids = bytearray(), array("q")
    videos: dict[int, list[str]] = {}
    n = 0
    q = select(
        hash_entries.c.id, hash_entries.c.md5, hash_entries.c.sha1, hash_entries.c.sha256,
        hash_entries.c.pdq, hash_entries.c.pdq_quality, hash_entries.c.vpdq,
    ).join(hash_lists, hash_lists.c.id == hash_entries.c.list_id)  # fmt: skip
    if lists:
        q = q.where(hash_lists.c.name.in_(list(lists)))
    with engine.connect() as conn:
        result = conn.execution_options(yield_per=_READ_ROWS).execute(q)
        for eid, md5, sha1, sha256, pdq, pq, vpdq in result:
            n += 1
            for t, v in (("md5", md5), ("sha1", sha1), ("sha256", sha256)):
                if v:
                    buf, ids = digests[t]
                    buf += bytes.fromhex(v)
                    ids.append(eid)
            if pdq and (pq is None or pq >= floor):
                pdq_raw += bytes.fromhex(pdq)
                pdq_ids.append(eid)
            if vpdq:
                # Meta's rule on the list side too: quality-filtered, each hash once
                frames = usable(frames_from_json(vpdq, f"entry {eid}", skip_bad=True), floor)
                if frames:
                    videos[eid] = frames
    # Views of the buffers, not copies (a copy of 10 M PDQ hashes is 320 MB more at the peak).
    exact = {
        t: ExactIndex.from_bytes(_u8(buf), np.frombuffer(ids, dtype=np.int64), size)
        for t, size in DIGEST_BYTES.items()
        for buf, ids in [digests[t]]
    }
    words = bytes_to_words(_u8(pdq_raw).reshape(-1, 32))
    del pdq_raw  # the words are a copy: the bytes go before the chunk tables are built
    pdq = PdqIndex.from_words(words, np.frombuffer(pdq_ids, dtype=np.int64))
    return IndexParts(exact, pdq, videos, n)


def _u8(buf: bytearray) -> np.ndarray:
    return np.frombuffer(buf, dtype=np.uint8) if buf else np.zeros(0, dtype=np.uint8)


def _write(parts: IndexParts, root: Path, folder: Path, stamp: dict) -> None:
    """Into a fresh folder first, then renamed into place: a reader sees a whole index or none."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        parts.pdq.save(tmp / "pdq")
        for t, idx in parts.exact.items():
            idx.save(tmp, t)
        (tmp / "videos.json").write_text(json.dumps({str(k): v for k, v in parts.videos.items()}))
        meta = {**stamp, "n_entries": parts.n_entries}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1))
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / "meta.json").is_file():  # not another process's whole index
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _load(folder: Path) -> IndexParts:
    meta = json.loads((folder / "meta.json").read_text())
    if meta.get("format") != FORMAT:
        raise ValueError(f"format {meta.get('format')}, not {FORMAT}")
    exact = {t: ExactIndex.load(folder, t, size) for t, size in DIGEST_BYTES.items()}
    videos = {int(k): v for k, v in json.loads((folder / "videos.json").read_text()).items()}
    return IndexParts(exact, PdqIndex.load(folder / "pdq"), videos, int(meta["n_entries"]))
