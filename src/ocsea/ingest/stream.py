"""Streaming input in chunks with byte offsets, and the ingest-job bookkeeping that makes ingest
idempotent (a finished file is never read twice) and resumable (a chunk and the offset after it
commit in one transaction, so a crash loses nothing and repeats nothing)."""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection, Engine

from ocsea.store.db import ingest_jobs

Progress = Callable[[int], None]
MAX_LINE = 1 << 20
MAX_REPORTED_ERRORS = 1000


class IngestError(ValueError):
    """A file that cannot be ingested at all (unknown format, no usable header)."""


@dataclass
class Chunk:
    rows: list[tuple[int, dict[str, Any] | None, str | None]]  # (line, row, error)
    end_offset: int
    end_line: int


@dataclass
class IngestResult:
    file: str
    rows_done: int = 0
    rows_rejected: int = 0
    already_done: bool = False
    resumed_from_line: int = 0
    errors: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".tsv", ".tab")):
        return "tsv"
    if name.endswith((".csv", ".txt", ".log")):
        return "csv"
    raise IngestError(f"{path}: unknown format; use .csv, .tsv or .jsonl")


def read_chunks(
    path: Path, start_offset: int, start_line: int, chunk_rows: int, end_offset: int | None = None
) -> Iterator[Chunk]:
    """Rows from ``start_offset`` on (the header is always read from the top), up to the line
    start ``end_offset`` if given (a Dask worker's part of the file)."""
    fmt = _format(path)
    with path.open("rb") as fh:
        header: list[str] | None = None
        if fmt != "jsonl":
            first = fh.readline(MAX_LINE)
            try:
                text = first.decode("utf-8-sig").rstrip("\r\n")
            except UnicodeDecodeError:
                raise IngestError(f"{path}:1: header is not valid UTF-8") from None
            header = next(csv.reader([text], delimiter="\t" if fmt == "tsv" else ","), [])
            if not header:
                raise IngestError(f"{path}:1: empty header")
            header = [h.strip().lower() for h in header]
            if start_offset == 0:
                start_offset, start_line = fh.tell(), 1
        fh.seek(start_offset)
        lineno = start_line
        rows: list[tuple[int, dict[str, Any] | None, str | None]] = []
        while end_offset is None or fh.tell() < end_offset:
            raw = fh.readline(MAX_LINE)
            if not raw:
                break
            lineno += 1
            if not raw.endswith(b"\n") and len(raw) >= MAX_LINE:
                rows.append((lineno, None, f"line longer than {MAX_LINE} bytes"))
                while raw and not raw.endswith(b"\n"):
                    raw = fh.readline(MAX_LINE)
            else:
                rows.append((lineno, *_parse_line(raw, fmt, header)))
            if len(rows) >= chunk_rows:
                yield Chunk(rows, fh.tell(), lineno)
                rows = []
        if rows:
            yield Chunk(rows, fh.tell(), lineno)


def _parse_line(raw: bytes, fmt: str, header: list[str] | None) -> tuple[dict | None, str | None]:
    try:
        text = raw.decode("utf-8").rstrip("\r\n")
    except UnicodeDecodeError as exc:
        return None, f"not valid UTF-8 at byte {exc.start}"
    if not text.strip():
        return None, "empty line"
    if fmt == "jsonl":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            return None, f"invalid JSON ({exc.msg})"
        if not isinstance(obj, dict):
            return None, "expected a JSON object"
        return {str(k).strip().lower(): v for k, v in obj.items()}, None
    assert header is not None  # already stripped and lower-cased
    delim = "\t" if fmt == "tsv" else ","
    # A line without quotes splits exactly as the csv module splits it, 6× faster.
    values = text.split(delim) if '"' not in text else next(csv.reader([text], delimiter=delim), [])
    if len(values) != len(header):
        return None, f"expected {len(header)} fields, got {len(values)}"
    return dict(zip(header, values, strict=True)), None


def header_of(path: Path) -> list[str]:
    """Column names (lower-cased): the CSV/TSV header, or the keys of the first JSON object."""
    fmt = _format(path)
    with path.open("rb") as fh:
        first = fh.readline(MAX_LINE)
    try:
        text = first.decode("utf-8-sig").strip()
    except UnicodeDecodeError:
        raise IngestError(f"{path}:1: not valid UTF-8") from None
    if fmt == "jsonl":
        try:
            return [str(k).lower() for k in json.loads(text)] if text else []
        except (json.JSONDecodeError, TypeError):
            raise IngestError(f"{path}:1: first line is not a JSON object") from None
    return [
        h.strip().lower()
        for h in next(csv.reader([text], delimiter="\t" if fmt == "tsv" else ","), [])
    ]


def insert_for(conn: Connection):
    return pg_insert if conn.dialect.name == "postgresql" else sqlite_insert


def bulk_insert(conn: Connection, table, columns: list[str], rows: list[tuple],
                on_conflict: str = "", raw: bool = False) -> None:  # fmt: skip
    """Many rows through the driver's executemany: 3× faster than Core's per-row parameter
    handling for the million-row tables. Names come from our schema; values stay parameters.
    Column types' bind processing (e.g. SQLite's datetime strings) is applied as Core would."""
    # The dialect's own type: the generic DateTime has no bind processor, so SQLite's driver
    # would store its default text for a datetime, not the format SQLAlchemy stores and reads.
    procs = [
        table.c[c].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for c in columns
    ]
    if any(procs) and not raw:  # raw: the caller gives values as the driver stores them
        rows = [tuple(p(v) if p and v is not None else v for p, v in zip(procs, r, strict=True))
                for r in rows]  # fmt: skip
    if conn.dialect.name == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        _copy_insert(conn, table.name, columns, rows, on_conflict)
        return
    mark = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"
    # ``on_conflict`` is a constant clause written by the caller (SQLite and PostgreSQL share it).
    conn.exec_driver_sql(f"{sql} {on_conflict}", rows)


# PostgreSQL: psycopg's pipelined executemany spent ~35 µs a row in Python; from this many rows
# on, they are copied into a temporary table and inserted from there in one statement.
COPY_MIN_ROWS = 1000


def _copy_insert(conn: Connection, name: str, columns: list[str], rows: list[tuple],
                 on_conflict: str) -> None:  # fmt: skip
    """COPY into a temporary table of the same column types (dropped at commit), then one
    INSERT … SELECT with the caller's conflict clause. A clause that updates needs rows unique
    on its target (PostgreSQL refuses to update a row twice in one statement); every caller's
    rows are (counts summed per key, sightings keyed)."""
    tmp = f"_bulk_{name}"
    cols = ", ".join(columns)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {tmp} ON COMMIT DROP AS SELECT {cols} FROM {name} "
        "WITH NO DATA"
    )
    conn.exec_driver_sql(f"TRUNCATE {tmp}")
    cur = conn.connection.dbapi_connection.cursor()  # the same connection and transaction
    with cur.copy(f"COPY {tmp} ({cols}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.exec_driver_sql(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM {tmp} {on_conflict}")


def begin_job(engine: Engine, kind: str, path: Path) -> tuple[int, int, int, bool]:
    """(job id, byte offset, line, already done) for this file's content."""
    sha = file_sha256(path)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        row = conn.execute(
            select(
                ingest_jobs.c.id,
                ingest_jobs.c.byte_offset,
                ingest_jobs.c.line_no,
                ingest_jobs.c.status,
            ).where(ingest_jobs.c.kind == kind, ingest_jobs.c.file_sha256 == sha)
        ).first()
        if row is not None:
            return row.id, row.byte_offset, row.line_no, row.status == "done"
        job_id = conn.execute(
            insert(ingest_jobs).values(
                kind=kind,
                file_name=str(path),
                file_sha256=sha,
                size=path.stat().st_size,
                status="running",
                byte_offset=0,
                line_no=0,
                rows_done=0,
                rows_rejected=0,
                started_at=now,
            )
        ).inserted_primary_key[0]
        return job_id, 0, 0, False


def advance_job(conn: Connection, job_id: int, chunk: Any, done: int, rejected: int) -> None:
    conn.execute(
        update(ingest_jobs)
        .where(ingest_jobs.c.id == job_id)
        .values(
            byte_offset=chunk.end_offset,
            line_no=chunk.end_line,
            rows_done=ingest_jobs.c.rows_done + done,
            rows_rejected=ingest_jobs.c.rows_rejected + rejected,
        )
    )


def finish_job(engine: Engine, job_id: int) -> tuple[int, int]:
    with engine.begin() as conn:
        conn.execute(
            update(ingest_jobs)
            .where(ingest_jobs.c.id == job_id)
            .values(status="done", finished_at=datetime.now(UTC))
        )
        row = conn.execute(
            select(ingest_jobs.c.rows_done, ingest_jobs.c.rows_rejected).where(
                ingest_jobs.c.id == job_id
            )
        ).one()
        return row.rows_done, row.rows_rejected


def start_job(engine: Engine, kind: str, path: Path) -> tuple[IngestResult, int, int, int]:
    """(result, job id, byte offset, line) to go on from; ``result.already_done`` for a file
    finished before."""
    result = IngestResult(str(path))
    job_id, offset, line, done = begin_job(engine, kind, path)
    result.already_done = done
    result.resumed_from_line = 0 if done else line
    return result, job_id, offset, line


def parse_rows(
    rows: Iterable[tuple[int, dict[str, Any] | None, str | None]],
    parse_row: Callable[[dict[str, Any]], Any],
    errors: list[tuple[int, str]],
    lines: list[int] | None = None,
) -> list[Any]:
    """Records of the rows that parse (their line numbers into ``lines``, if given); (line,
    message) of every other row into ``errors``."""
    from ocsea.ingest.rows import RowError

    out: list[Any] = []
    for lineno, raw, error in rows:
        if raw is not None:
            try:
                out.append(parse_row(raw))
                if lines is not None:
                    lines.append(lineno)
                continue
            except RowError as exc:
                error = str(exc)
        errors.append((lineno, error or "unreadable"))
    return out


def report_errors(errors: list[tuple[int, str]], path: Path, into: list[str]) -> None:
    """``file:line: message`` in line order, up to MAX_REPORTED_ERRORS in all."""
    for lineno, msg in sorted(errors):
        if len(into) >= MAX_REPORTED_ERRORS:
            break
        into.append(f"{path}:{lineno}: {msg}")


@dataclass
class ParsedChunk:
    """Consecutive rows of a file, parsed and ready to store: what the writer takes
    (``payload``: the parsed records, or a Dask worker's summary of them), how many rows that
    is, the rejected rows as (line, message), and where the chunk ends (the job's offset and
    line after it)."""

    payload: Any
    rows_done: int
    errors: list[tuple[int, str]]
    end_offset: int
    end_line: int
    n_lines: int


# (byte offset, line) to go on from → the file's parsed chunks from there, in file order.
ChunkSource = Callable[[int, int], Generator[ParsedChunk, None, None]]


def parsed_chunks(
    path: Path, parse_row: Callable[[dict[str, Any]], Any], chunk_rows: int
) -> ChunkSource:
    """The row path's chunks, read and parsed here."""

    def source(offset: int, line: int) -> Generator[ParsedChunk, None, None]:
        for chunk in read_chunks(path, offset, line, chunk_rows):
            errors: list[tuple[int, str]] = []
            records = parse_rows(chunk.rows, parse_row, errors)
            yield ParsedChunk(records, len(records), errors, chunk.end_offset, chunk.end_line,
                              len(chunk.rows))  # fmt: skip

    return source


def run_ingest(
    engine: Engine,
    path: Path,
    kind: str,
    parse_row: Callable[[dict[str, Any]], Any],
    write_chunk: Callable[[Connection, list[Any]], None],
    progress: Progress | None,
    chunk_rows: int,
) -> IngestResult:
    """The row path: chunks read and parsed here, stored by ``store_chunks``."""
    return store_chunks(engine, path, kind, parsed_chunks(path, parse_row, chunk_rows),
                        write_chunk, progress)  # fmt: skip


def store_chunks(
    engine: Engine,
    path: Path,
    kind: str,
    chunks: ChunkSource,
    write_chunk: Callable[[Connection, Any], None],
    progress: Progress | None,
) -> IngestResult:
    """The loop every row ingest shares, wherever its chunks were parsed (here, or on Dask
    workers): skip a finished file, resume after the last committed line, report bad rows (the
    rest go on), and commit each chunk with the job's offset in one transaction."""
    result, job_id, offset, line = start_job(engine, kind, path)
    if result.already_done:
        return result
    # closing(): stopped early (an error, an interrupt), the source lets go at once of its file
    # and of the parts it has in a cluster.
    with closing(chunks(offset, line)) as parsed:
        for chunk in parsed:
            with engine.begin() as conn:
                if chunk.rows_done:
                    write_chunk(conn, chunk.payload)
                advance_job(conn, job_id, chunk, chunk.rows_done, len(chunk.errors))
            result.rows_done += chunk.rows_done
            result.rows_rejected += len(chunk.errors)
            report_errors(chunk.errors, path, result.errors)
            if progress:
                progress(chunk.n_lines)
    finish_job(engine, job_id)
    return result
