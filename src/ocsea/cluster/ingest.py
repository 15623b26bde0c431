"""``ocsea ingest --dask``: the file cut into byte ranges on line starts from where the ingest
job goes on (a resumed job, from its last committed line); each range read, parsed, cleaned and
classified on a worker (``ingest_part``), which hands back what the client stores; the client
stores the parts in file order through the same loop as a plain run (``store_chunks``: the
job's offset committed with each part, so idempotence, resume and rejected-row reports are the
plain run's). Workers never touch the database."""

from __future__ import annotations

import sys
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocsea.cluster import ranges, submit
from ocsea.cluster.connect import worker_threads
from ocsea.cluster.ranges import ByteRange
from ocsea.cluster.work import DetectorSpec, cached_detector, open_input
from ocsea.ingest.stream import (
    MAX_LINE,
    ChunkSource,
    ParsedChunk,
    _format,
    parse_rows,
    read_chunks,
)

if TYPE_CHECKING:
    from distributed import Client

    from ocsea.text.detector import Detector, Verdict

# Input per part (one transaction each, as a plain run's chunk): some 50,000 query-log rows, as
# many as the row path's chunk. What a worker sends back is of the order of its input: counts
# (queries) or every row's sighting (P2P), and one verdict for each distinct text.
PART_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class IngestJob:
    """What every part of one file's ingest shares. ``parse_row`` and ``prepare`` are
    module-level functions (or partials of them), so they travel by name."""

    source: str  # absolute path, the same on every worker (a shared mount)
    source_size: int  # its size when cut, to notice a different file on a worker
    parse_row: Callable[[dict[str, Any]], Any]  # a row → its record, or RowError
    prepare: Callable[[list[Any], Detector], Any]  # a part's records → what the client stores
    detector: DetectorSpec


def ingest_part(job: IngestJob, part: ByteRange) -> ParsedChunk:
    """One part of the file read and parsed as the plain run reads it (``read_chunks``, then
    ``parse_rows``), its records prepared for storing with the worker's detector."""
    open_input(job.source, job.source_size).close()  # the client's file, or an OSError
    rows: list[tuple[int, dict[str, Any] | None, str | None]] = []
    end = (part.start, part.first_line - 1)
    for chunk in read_chunks(Path(job.source), part.start, part.first_line - 1, sys.maxsize,
                             end_offset=part.end):  # fmt: skip
        rows += chunk.rows
        end = (chunk.end_offset, chunk.end_line)
    if end[0] != part.end:
        raise OSError(f"{job.source} changed while it was read: not the client's file")
    errors: list[tuple[int, str]] = []
    records = parse_rows(rows, job.parse_row, errors)
    payload = job.prepare(records, cached_detector(job.detector)) if records else None
    return ParsedChunk(payload, len(records), errors, end[0], end[1], len(rows))


def cluster_chunks(client: Client, path: Path, job: IngestJob) -> ChunkSource:
    """The file's parts from where the job goes on, parsed on the cluster and taken back in
    file order."""
    header = _format(path) != "jsonl"  # CSV, TSV: the first line names the columns

    def source(offset: int, line: int) -> Generator[ParsedChunk, None, None]:
        with path.open("rb") as fh:
            if offset == 0 and header:  # a fresh job: rows start after the header, as plain
                fh.readline(MAX_LINE)
                offset, line = fh.tell(), 1
            size = fh.seek(0, 2)
            slots = worker_threads(client)
            n = submit.part_count(size - offset, slots, PART_BYTES)
            parts = ranges.split_lines(fh, n, start=offset, first_line=line + 1)
            window = submit.WINDOW_PER_SLOT * slots
            yield from submit.ordered_results(client, ingest_part, (job,), parts, window)

    return source


class KnownVerdicts:
    """The verdicts a worker gave for a part's texts, answering the store's ``classify`` calls
    as the detector would (the store asks only for texts of the part)."""

    def __init__(self, verdicts: dict[str, Verdict], kind: str) -> None:
        self.verdicts = verdicts
        self.kind = kind

    def classify(self, text: str, kind: str = "auto") -> Verdict:
        if kind != self.kind:
            raise ValueError(f"verdicts were made for {self.kind} texts, not {kind}")
        return self.verdicts[text]
