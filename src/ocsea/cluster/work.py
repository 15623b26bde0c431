"""What a Dask worker runs for ``ocsea classify``: render the distinct texts the client sends
(``ocsea.text.batch``), exactly as the plain command does. The detector is loaded once per worker
process and kept for the next parts (``cached_detector``, also for ``ingest``): tasks carry only
what loads it (model path, threshold, accepted terms), never the detector itself."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import BinaryIO

from ocsea.text.batch import Rendered, render_texts
from ocsea.text.detector import Detector
from ocsea.text.lexicon import Entry


@dataclass(frozen=True, slots=True)
class ClassifyJob:
    """What every part of one ``ocsea classify`` run shares."""

    model: str | None  # absolute path, None for the shipped model
    threshold: float
    kind: str
    fmt: str  # jsonl | csv (a table is drawn from jsonl)
    extra_entries: tuple[Entry, ...] = ()  # analysts' accepted terms, read by the client


@dataclass(slots=True)
class RenderedPart:
    """A part's renderings, as few bytes as they go: the outputs joined and LZ4-compressed
    (``data``), their lengths, and the errors by position.

    Why compressed: a verdict's JSON is some 1.6 kB, so the 181k distinct texts of the
    benchmark's 2M-line log render to some 290 MB; LZ4 sends an eighth of that, in about a
    millisecond a megabyte each way."""

    data: bytes
    lengths: list[int]
    errors: dict[int, str]

    @classmethod
    def pack(cls, rendered: list[Rendered]) -> RenderedPart:
        import lz4.frame

        data = lz4.frame.compress(b"".join(r[0] for r in rendered))
        errors = {i: r[1] for i, r in enumerate(rendered) if r[1] is not None}
        return cls(data, [len(r[0]) for r in rendered], errors)

    def unpack(self) -> list[Rendered]:
        import lz4.frame

        raw = lz4.frame.decompress(self.data)
        out: list[Rendered] = []
        at = 0
        get = self.errors.get
        for i, n in enumerate(self.lengths):
            out.append((raw[at : at + n], get(i)))
            at += n
        return out


def render_part(job: ClassifyJob, texts: list[bytes]) -> RenderedPart:
    """The plain command's rendering of each of ``texts`` (raw lines), packed to send back."""
    detector = cached_detector(DetectorSpec(job.model, job.threshold, job.extra_entries))
    return RenderedPart.pack(render_texts(detector, job.kind, job.fmt, texts))


@dataclass(frozen=True, slots=True)
class DetectorSpec:
    """What loads a detector on a worker: the tasks carry this, never the detector itself."""

    model: str | None  # absolute path, None for the shipped model
    threshold: float
    extra_entries: tuple[Entry, ...] = ()  # analysts' accepted terms, read by the client


_detector: tuple[DetectorSpec, Detector] | None = None
_detector_lock = threading.Lock()


def cached_detector(spec: DetectorSpec) -> Detector:
    """The detector for this model, threshold and terms, loaded once per process (a worker's
    threads share it: it is thread-safe for reads) and kept for the next parts. One is kept,
    not one per spec: each holds a verdict cache of up to 200,000 texts."""
    global _detector
    with _detector_lock:
        if _detector is None or _detector[0] != spec:
            loaded = Detector.load(
                spec.model, threshold=spec.threshold, extra_entries=spec.extra_entries
            )
            _detector = (spec, loaded)
        return _detector[1]


def open_input(source: str, size: int) -> BinaryIO:
    """The client's input file, opened on this worker: an OSError that says so when it cannot
    be read here or is not the same size (not the same file)."""
    try:
        fh = open(source, "rb")  # noqa: SIM115 (the caller closes it)
    except OSError as exc:
        raise OSError(f"{_where()} cannot read {source} ({exc.strerror}): the input must "
                      "be readable at the same path on every worker") from None  # fmt: skip
    seen = os.fstat(fh.fileno()).st_size
    if seen != size:
        fh.close()
        raise OSError(f"{_where()} sees {source} with {seen} bytes, the client {size}: not the "
                      "same file")  # fmt: skip
    return fh


def _where() -> str:
    try:
        from distributed import get_worker

        return f"Dask worker {get_worker().address}"
    except (ImportError, ValueError):
        return "this process"
