"""CSV/TSV ingest in columns: a chunk's plain lines go through DuckDB (parsing, time stamps and
aggregation in C), every other line through the row parser, and both meet in the same writer.

Why: the row path spends ~28 µs per query-log row in Python (parse, validate, count); DuckDB reads
and groups the same rows at ~1 µs. Exactness comes first, so DuckDB only sees lines it reads exactly
as the row parser would: valid UTF-8, no quote, no carriage return inside, no NUL, the header's
number of fields, not blank, not over-long. Everything else (and any chunk DuckDB does not read
line for line) takes the row path, with its messages. Field values are checked by the row path's
own functions, once per distinct value; time stamps in plain ISO 8601 are converted in SQL and all
others by ``parse_time``. tests/test_columnar.py checks both paths store the same thing.

A reader thread prepares chunks and adds their counts to an epoch's table in DuckDB; the calling
thread stores each epoch in one transaction with the job's offset (``run_columnar``).
"""

from __future__ import annotations

import codecs
import csv
import functools
import io
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
from sqlalchemy.engine import Connection, Engine

from ocsea.ingest.stream import (
    MAX_LINE,
    IngestResult,
    _format,
    _parse_line,
    advance_job,
    finish_job,
    parse_rows,
    report_errors,
    start_job,
)

CHUNK_BYTES = 48 << 20
# Below this many plain lines a chunk is cheaper row by row than through a DuckDB scan.
MIN_FAST_LINES = 2000
ISO_UTC = r"[1-9]\d{3}-[01]\d-[0-3]\d[T ]([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?"
EPOCH = r"\d{9,13}(\.\d+)?"


@dataclass
class RawChunk:
    data: bytes
    first_line: int  # file line number of lines[0]
    end_offset: int
    end_line: int
    n_lines: int

    @functools.cached_property
    def lines(self) -> list[bytes]:
        """The lines without their newlines, split only when a block is not all plain or has
        rows DuckDB moved: a 48 MB block of query log is a million bytes objects (~80 MB)."""
        lines = self.data.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        return lines


def raw_chunks(
    path: Path, start_offset: int, start_line: int, chunk_bytes: int, ramp: bool = False
) -> Iterator[RawChunk]:
    """Whole lines in blocks of about ``chunk_bytes`` (the header is skipped by the caller's
    offset). An over-long line is cut at MAX_LINE and the rest of it skipped, as the row reader does.
    ``ramp``: the first blocks are 1/8, 1/4 and 1/2 of the size, so a writer waiting for the
    reader starts after a fraction of a full chunk's preparation (P2P: 0.3 s instead of 2 s)."""
    sizes = [chunk_bytes >> 3, chunk_bytes >> 2, chunk_bytes >> 1] if ramp else []
    with path.open("rb") as fh:
        fh.seek(start_offset)
        line = start_line
        while True:
            data = fh.read(max(1, sizes.pop(0)) if sizes else chunk_bytes)
            if not data:
                break
            if not data.endswith(b"\n"):
                tail = fh.readline(MAX_LINE)
                data += tail
                if tail and not tail.endswith(b"\n") and len(tail) >= MAX_LINE:
                    while tail and not tail.endswith(b"\n"):
                        tail = fh.readline(MAX_LINE)
            n = data.count(b"\n") + (not data.endswith(b"\n"))  # as len(data.split) less a last b""
            yield RawChunk(data, line + 1, fh.tell(), line + n, n)
            line += n


@dataclass
class SplitLines:
    fast_lines: Sequence[int]  # file line numbers of the lines DuckDB reads as the row parser
    slow: list[tuple[int, bytes]]  # (line number, bytes) for the row parser
    picked: list[bytes] | None = None  # the DuckDB lines, when not all of ``block``'s
    block: RawChunk | None = None

    @property
    def fast(self) -> list[bytes]:
        if self.picked is not None:
            return self.picked
        return self.block.lines if self.block is not None else []


def plain_chunk(chunk: RawChunk, delim: bytes, n_fields: int) -> str | None:
    """The newline (LF or CRLF) when every line of the chunk is plain, checked on the whole block
    (C speed); None when lines must be looked at one by one. A line with too few fields makes
    DuckDB's row count differ, which the caller checks, so equal totals mean equal lines."""
    d, n = chunk.data, chunk.n_lines
    if n_fields < 2 or not n or b'"' in d or b"\x00" in d:
        return None
    n_cr = d.count(b"\r")
    if n_cr == 0:
        newline = "\n"
    elif n_cr == n and d.count(b"\r\n") == n:
        newline = "\r\n"
    else:
        return None
    if d.count(delim) != (n_fields - 1) * n or longest_line(d) >= MAX_LINE:
        return None
    return newline if _utf8_in_slices(d) else None


def longest_line(data: bytes) -> int:
    """Length of the longest line (newlines excluded), or an upper bound below MAX_LINE."""
    if len(data) < MAX_LINE:
        return len(data)
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    bounds = np.concatenate(([-1], newlines, [len(data)]))
    return int(np.diff(bounds).max()) - 1


def _utf8_in_slices(data: bytes, size: int = 4 << 20) -> bool:
    """Valid UTF-8, decoded 4 MB at a time: decoding a 48 MB block of Thai text at once made a
    transient string of 100+ MB."""
    dec = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for i in range(0, len(data), size):
            dec.decode(view[i : i + size])
        dec.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _plain_rows(duck: DuckChunk, chunk: RawChunk, delim: str, n_fields: int) -> SplitLines:
    """Load the chunk's plain lines into DuckDB: the whole block when it is all plain, else the
    lines that are; everything goes row by row when DuckDB does not read them one row each."""
    n = chunk.n_lines
    newline = plain_chunk(chunk, delim.encode(), n_fields)
    if newline and n >= MIN_FAST_LINES:
        data = chunk.data.replace(b"\r\n", b"\n") if newline == "\r\n" else chunk.data
        if duck.load(data, n, n_fields, delim):
            return SplitLines(range(chunk.first_line, chunk.first_line + n), [], block=chunk)
    split = split_lines(chunk, delim.encode(), n_fields)
    if len(split.fast) >= MIN_FAST_LINES and duck.load(
        b"".join(x + b"\n" for x in split.fast), len(split.fast), n_fields, delim
    ):
        return split
    plain = [(i, x + b"\n") for i, x in zip(split.fast_lines, split.fast, strict=True)]
    return SplitLines([], sorted(split.slow + plain))


def split_lines(chunk: RawChunk, delim: bytes, n_fields: int) -> SplitLines:
    n_delims = n_fields - 1
    fast: list[bytes] = []
    fast_lines: list[int] = []
    slow: list[tuple[int, bytes]] = []
    for i, raw in enumerate(chunk.lines, chunk.first_line):
        x = raw.rstrip(b"\r") if raw.endswith(b"\r") else raw  # as the row reader's rstrip
        if (
            len(raw) >= MAX_LINE
            or x.count(delim) != n_delims
            or b'"' in x
            or b"\r" in x
            or b"\x00" in x
            or not x.strip()
        ):
            slow.append((i, raw + b"\n"))
        else:
            fast.append(x)
            fast_lines.append(i)
    if not _utf8_in_slices(b"\n".join(fast)):  # rare: find the lines, give them to the row parser
        keep = [_utf8(x) for x in fast]
        slow += [(n, x + b"\n") for x, n, ok in zip(fast, fast_lines, keep, strict=True) if not ok]
        fast_lines = [n for n, ok in zip(fast_lines, keep, strict=True) if ok]
        fast = [x for x, ok in zip(fast, keep, strict=True) if ok]
        slow.sort()
    return SplitLines(fast_lines, slow, picked=fast)


def _utf8(x: bytes) -> bool:
    try:
        x.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class DuckChunk:
    """One chunk's plain lines as DuckDB table ``c`` with VARCHAR columns c0…cN (``rowid`` is the
    index into ``fast_lines``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, tmpdir: Path) -> None:
        self.con = con
        self.tmpdir = tmpdir

    def load(self, data: bytes, n_rows: int, n_fields: int, delim: str) -> bool:
        """False when DuckDB does not read ``data`` as ``n_rows`` rows (the caller goes row by row)."""
        tmp = self.tmpdir / "chunk.csv"
        tmp.write_bytes(data)
        cols = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n_fields)) + "}"
        try:
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE c AS SELECT * FROM read_csv(?, header=false,
                auto_detect=false, delim=?, quote='', escape='', new_line=?, columns={cols},
                max_line_size={MAX_LINE + 16}, strict_mode=true)""",
                [str(tmp), delim, "\\n"],  # DuckDB takes the escape, not the character
            )
            n = self.con.execute("SELECT count(*) FROM c").fetchone()[0]
        except duckdb.Error:
            return False
        finally:
            tmp.unlink(missing_ok=True)
        return n == n_rows

    def distinct(self, col: str) -> list[Any]:
        return [r[0] for r in self.con.execute(f"SELECT DISTINCT {col} FROM c").fetchall()]

    def table(self, name: str, columns: dict[str, str], rows: list[tuple]) -> None:
        """A temp table from Python values, through a CSV file: DuckDB's list parameters try
        ``import pandas`` twice per value, which without pandas searches sys.path each time
        (measured: 21.7 s for 100k values; this way 0.1 s)."""
        buf = io.StringIO()
        csv.writer(buf, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
        tmp = self.tmpdir / f"{name}.csv"
        tmp.write_text(buf.getvalue(), encoding="utf-8")
        cols = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
        try:
            self.con.execute(
                f"""CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_csv(?, header=false,
                auto_detect=false, delim=',', quote='"', escape='"', new_line='\\n',
                allow_quoted_nulls=false, columns={cols})""",
                [str(tmp)],
            )
        finally:
            tmp.unlink(missing_ok=True)

    def rows_where(self, col: str, values: list[Any]) -> list[int]:
        """rowids whose ``col`` is one of ``values`` (None matches NULL)."""
        out: list[int] = []
        vals = [v for v in values if v is not None]
        if vals:
            self.table("vals", {"v": "VARCHAR"}, [(v,) for v in vals])
            out += [r[0] for r in self.con.execute(f"SELECT rowid FROM c WHERE {col} IN (SELECT v FROM vals)").fetchall()]  # fmt: skip
        if any(v is None for v in values):
            out += [r[0] for r in self.con.execute(f"SELECT rowid FROM c WHERE {col} IS NULL").fetchall()]  # fmt: skip
        return out


def utc_time_sql(col: str) -> str:
    """SQL for the UTC TIMESTAMP of ``col`` when it is plain ISO 8601 (naive means UTC, as in
    ``parse_time``), else NULL (those values go through ``parse_time``)."""
    return f"""CASE WHEN regexp_full_match({col}, '{ISO_UTC}') THEN
        try_cast(replace(regexp_replace({col}, '(Z|[+-]\\d\\d:\\d\\d)$', ''), 'T', ' ') AS TIMESTAMP)
        - to_minutes(CASE WHEN regexp_matches({col}, '[+-]\\d\\d:\\d\\d$')
            THEN (CASE WHEN substr({col}, -6, 1) = '-' THEN -1 ELSE 1 END)
                 * (CAST(substr({col}, -5, 2) AS INTEGER) * 60 + CAST(substr({col}, -2, 2) AS INTEGER))
            ELSE 0 END)
        END"""


def exact_epoch_sql(col: str) -> str:
    """SQL for the UTC TIMESTAMP of whole epoch seconds or milliseconds, exactly as ``parse_time``
    reads them, else NULL. Milliseconds only before 2106: past 2^32 s, ``parse_time``'s float
    division can land a microsecond off."""
    return f"""CASE WHEN regexp_full_match({col}, '[0-9]{{9,13}}') THEN CASE
        WHEN CAST({col} AS BIGINT) <= 100000000000 THEN make_timestamp(CAST({col} AS BIGINT) * 1000000)
        WHEN CAST({col} AS BIGINT) < 4294967296000 THEN make_timestamp(CAST({col} AS BIGINT) * 1000)
        END END"""


def epoch_time_sql(col: str) -> str:
    """SQL for epoch seconds or milliseconds (as ``parse_time`` reads them), else NULL. Rounding
    can differ from Python's by a microsecond, so only day-level callers use it."""
    return f"""CASE WHEN regexp_full_match({col}, '{EPOCH}') THEN make_timestamp(CAST(round(
        CASE WHEN CAST({col} AS DOUBLE) > 1e11 THEN CAST({col} AS DOUBLE) / 1000
             ELSE CAST({col} AS DOUBLE) END * 1e6) AS BIGINT)) END"""


def check_distinct(
    duck: DuckChunk, col: str, check: Callable[[Any], Any]
) -> tuple[dict, list[int]]:
    """The row path's ``check`` once per distinct value of ``col``: (value → checked value, rowids
    whose value fails; those rows go to the row parser, which words the error)."""
    from ocsea.ingest.rows import RowError

    good: dict[Any, Any] = {}
    bad: list[Any] = []
    for v in duck.distinct(col):
        try:
            good[v] = check(v)
        except RowError:
            bad.append(v)
    return good, duck.rows_where(col, bad) if bad else []


@dataclass
class Cleaned:
    """A column's values as the row path cleans them: ``expr`` (SQL over ``c`` and ``join``) and
    the rowids whose value the row path rejects."""

    expr: str
    join: str
    bad: list[int]


def clean_column(duck: DuckChunk, col: str, check: Callable[[Any], Any], name: str) -> Cleaned:
    """``check`` (a row-path cleaner, e.g. strip and lower-case) once per distinct value of
    ``col``; the values it changes are mapped through a table ``name``."""
    good, bad = check_distinct(duck, col, check)
    changed = [(raw, clean) for raw, clean in good.items() if raw is not None and clean != raw]
    null = good.get(None)
    if null is not None and not isinstance(null, str):
        raise TypeError(f"{name}: clean_column maps to text; {null!r} given")
    when_null = ""
    if null is not None:  # a default the cleaner gives an empty value, e.g. network "unknown"
        quoted = null.replace("'", "''")
        when_null = f"WHEN c.{col} IS NULL THEN '{quoted}' "
    if not changed:
        return Cleaned(f"(CASE {when_null}ELSE c.{col} END)" if when_null else f"c.{col}", "", bad)
    duck.table(name, {"raw": "VARCHAR", "clean": "VARCHAR", "is_null": "BOOLEAN"},
               [(raw, clean or "", clean is None) for raw, clean in changed])  # fmt: skip
    expr = (f"(CASE {when_null}WHEN {name}.raw IS NULL THEN c.{col} "
            f"WHEN {name}.is_null THEN NULL ELSE {name}.clean END)")  # fmt: skip
    return Cleaned(expr, f"LEFT JOIN {name} ON {name}.raw = c.{col}", bad)


def field_columns(header: list[str], cols: dict[str, str]) -> dict[str, str]:
    """Our field → DuckDB column (c<i>); a repeated header name means its last column, as in the
    row reader's dict of the row."""
    return {f: f"c{len(header) - 1 - header[::-1].index(name)}" for f, name in cols.items()}


def slow_records(
    slow: list[tuple[int, bytes]], fmt: str, header: list[str],
    parse_row: Callable[[dict[str, Any]], Any], errors: list[tuple[int, str]],
    lines: list[int] | None = None,
) -> list[Any]:  # fmt: skip
    """The row path for the lines DuckDB does not take (the records' line numbers into ``lines``)."""
    rows = [(n, None, f"line longer than {MAX_LINE} bytes") if len(raw) > MAX_LINE
            else (n, *_parse_line(raw, fmt, header)) for n, raw in slow]  # fmt: skip
    return parse_rows(rows, parse_row, errors, lines)


def duck_connection(
    spill_dir: Path, threads: int = 2, memory_mb: int = 256
) -> duckdb.DuckDBPyConnection:
    """One in-memory DuckDB per ingest; the reader and the writer each work through a cursor of
    it (their own temp tables, shared epoch tables). Past its memory limit DuckDB spills to
    ``spill_dir`` (private, removed afterwards), never to its default of the working directory."""
    con = duckdb.connect(
        config={
            "threads": max(1, min(threads, os.cpu_count() or 1)),
            "temp_directory": str(spill_dir),
        }
    )
    # 10M-row query log: peak RSS 969 MB at 384 MB, 856 MB at 256 MB, 840 MB at 192 MB, same
    # speed. 1M-row P2P export: 775 MB at 256 MB, 713 MB at 128 MB, same speed.
    con.execute(f"SET memory_limit = '{int(memory_mb)}MB'")
    con.execute("SET preserve_insertion_order = true")
    return con


def private_tmpdir() -> tempfile.TemporaryDirectory:
    """Chunks are written to a directory only this user can read (inputs may be sensitive)."""
    return tempfile.TemporaryDirectory(prefix="ocsea-ingest-")


def header_end(path: Path) -> int:
    with path.open("rb") as fh:
        fh.readline(MAX_LINE)
        return fh.tell()


# fast_aggregate(duck, epoch, lines): a chunk's plain rows (``lines[rowid]`` is a row's line in
# the file) added to the epoch's tables in DuckDB, and (what else the writer needs of the chunk,
# rowids left to the row parser). The first has ``n_keys``, the distinct keys (e.g. queries) the
# chunk added: the writer holds an epoch's keys.
FastAggregate = Callable[[DuckChunk, int, Sequence[int]], tuple[Any, list[int]]]
# flush(conn, duck, epoch, per-chunk summaries, row-parsed records, their line numbers): one
# epoch stored.
Flush = Callable[[Connection, DuckChunk, int, list[Any], list[Any], list[int]], None]

# Chunks are counted into an epoch in DuckDB and an epoch is written to the store in one
# transaction, with the job's offset: each count key is upserted once an epoch instead of once
# a chunk. On the benchmark's 10M-row log a 48 MB chunk has 171k keys and the whole log 851k,
# so per-chunk writing upserted 3.4M rows. An epoch ends after this much input, after this many
# rows that went row by row (held in memory until written), or once its chunks added this many
# distinct keys (summed per chunk, an upper bound: a long-tailed log has millions of distinct
# queries, and the writer maps each to an item). Read at call time.
FLUSH_BYTES = 512 << 20
FLUSH_RECORDS = 200_000
FLUSH_KEYS = 200_000
# Chunks read ahead of the writer: DuckDB and SQLite both release the GIL, so on two cores the
# reader counts the next epoch while the writer stores the last one.
IN_FLIGHT = 2


@dataclass
class Prepared:
    """A chunk read and counted (its bytes are dropped by then), and whether its epoch ends here."""

    epoch: int
    n_lines: int
    end_offset: int
    end_line: int
    agg: Any
    n_fast: int
    records: list[Any]
    record_lines: list[int]
    errors: list[tuple[int, str]]
    ends_epoch: bool = False


def prepare_chunk(
    duck: DuckChunk, chunk: RawChunk, epoch: int, fmt: str, header: list[str],
    parse_row: Callable[[dict[str, Any]], Any], fast_aggregate: FastAggregate,
) -> Prepared:  # fmt: skip
    """Everything about a chunk that does not touch the store: plain lines counted in DuckDB,
    the rest parsed row by row."""
    delim = "\t" if fmt == "tsv" else ","
    split = _plain_rows(duck, chunk, delim, len(header))
    agg, n_fast, slow = None, 0, split.slow
    if split.fast_lines:
        agg, moved = fast_aggregate(duck, epoch, split.fast_lines)
        n_fast = len(split.fast_lines) - len(moved)
        if moved:
            slow = sorted(slow + [(split.fast_lines[r], split.fast[r] + b"\n") for r in moved])
    errors: list[tuple[int, str]] = []
    lines: list[int] = []
    records = slow_records(slow, fmt, header, parse_row, errors, lines)
    return Prepared(epoch, chunk.n_lines, chunk.end_offset, chunk.end_line, agg, n_fast,
                    records, lines, errors)  # fmt: skip


class Epochs:
    """Numbers chunks into epochs as the reader prepares them (reader thread only)."""

    def __init__(self, flush_bytes: int | None = None) -> None:
        self.flush_bytes = flush_bytes
        self.epoch = 0
        self.bytes = 0
        self.records = 0
        self.keys = 0

    def close_if_full(self, prep: Prepared, n_bytes: int) -> Prepared:
        self.bytes += n_bytes
        self.records += len(prep.records)
        self.keys += getattr(prep.agg, "n_keys", 0)
        limit = self.flush_bytes or FLUSH_BYTES
        if self.bytes >= limit or self.records >= FLUSH_RECORDS or self.keys >= FLUSH_KEYS:
            prep.ends_epoch = True
            self.epoch, self.bytes, self.records, self.keys = self.epoch + 1, 0, 0, 0
        return prep


_DONE = object()


@dataclass
class _Failed:
    exc: BaseException


def read_ahead(
    chunks: Iterator[Any], prepare: Callable[[Any], Any], depth: int = IN_FLIGHT
) -> Iterator[Any]:
    """``prepare`` on a reader thread, at most ``depth`` chunks ahead of the caller, in order.
    An error on either side stops both, and the reader's error is raised here."""
    ready: queue.Queue[Any] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: Any) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if stop.is_set():
                    return
                item = prepare(chunk)
                del chunk  # a chunk's bytes are not held while waiting for room
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            put(_Failed(exc))
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()

    reader = threading.Thread(target=produce, name="ocsea-ingest-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.exc
            yield item
    finally:
        stop.set()
        reader.join()


@contextmanager
def epoch_transaction(engine: Engine, checked_references: bool) -> Iterator[Connection]:
    """One epoch's transaction. ``checked_references``: the writer inserts only ids it has just
    looked up in this same transaction, so SQLite need not look each one up again: its foreign
    key checks are off for the transaction (they took 0.9 s of a million sightings' 10 s; the
    bulk-load advice of PostgreSQL's manual, for the one backend that checks row by row)."""
    if not checked_references or engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        # SQLite ignores this pragma inside a transaction; here none is open yet (the driver
        # begins one at the first write). If one were, the checks would simply stay on.
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            conn.exec_driver_sql("PRAGMA foreign_keys=ON")
            conn.commit()


def run_columnar(
    engine: Engine,
    path: Path,
    kind: str,
    header: list[str],
    parse_row: Callable[[dict[str, Any]], Any],
    fast_aggregate: FastAggregate,
    flush: Flush,
    progress: Callable[[int], None] | None,
    chunk_bytes: int | None = None,
    flush_bytes: int | None = None,
    duck_threads: int = 2,
    ramp: bool = False,
    checked_references: bool = False,
    duck_memory_mb: int = 256,
) -> IngestResult:
    """``run_ingest`` for CSV/TSV in columns: the same job bookkeeping (skip a finished file,
    resume after the last committed offset). The reader thread counts chunks into epochs in
    DuckDB (``fast_aggregate``) and parses the other rows; this thread stores each epoch with
    ``flush`` and the job's offset in one transaction, strictly in file order."""
    fmt = _format(path)
    result, job_id, offset, line = start_job(engine, kind, path)
    if result.already_done:
        return result
    if offset == 0:
        offset, line = header_end(path), 1

    def commit(batch: list[Prepared], writer: DuckChunk) -> None:
        aggs = [p.agg for p in batch if p.agg is not None]
        records = [r for p in batch for r in p.records]
        lines = [n for p in batch for n in p.record_lines]
        done = sum(p.n_fast + len(p.records) for p in batch)
        rejected = sum(len(p.errors) for p in batch)
        with epoch_transaction(engine, checked_references) as conn:
            flush(conn, writer, batch[0].epoch, aggs, records, lines)
            advance_job(conn, job_id, batch[-1], done, rejected)
        result.rows_done += done
        result.rows_rejected += rejected
        for p in batch:
            report_errors(p.errors, path, result.errors)

    with private_tmpdir() as td:
        base = duck_connection(Path(td) / "spill", duck_threads, duck_memory_mb)
        try:
            for name in ("reader", "writer"):
                (Path(td) / name).mkdir()
            reader = DuckChunk(base.cursor(), Path(td) / "reader")
            writer = DuckChunk(base.cursor(), Path(td) / "writer")
            epochs = Epochs(flush_bytes)

            def prepare(chunk: RawChunk) -> Prepared:
                prep = prepare_chunk(reader, chunk, epochs.epoch, fmt, header, parse_row,
                                     fast_aggregate)  # fmt: skip
                return epochs.close_if_full(prep, len(chunk.data))

            chunks = raw_chunks(path, offset, line, chunk_bytes or CHUNK_BYTES, ramp)
            pending: list[Prepared] = []
            # closing(): the reader thread stops before the database it uses is closed.
            with closing(read_ahead(chunks, prepare, IN_FLIGHT)) as prepared:
                for prep in prepared:
                    pending.append(prep)
                    if prep.ends_epoch:
                        commit(pending, writer)
                        pending = []
                    if progress:
                        progress(prep.n_lines)
            if pending:
                commit(pending, writer)
        finally:
            base.close()
    finish_job(engine, job_id)
    return result
