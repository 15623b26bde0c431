"""``ocsea classify`` and ``ocsea text``: text detection from the command line (classify a file
or stream, explain one text, train, evaluate, build the synthetic corpus)."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ocsea.cli.common import DaskOption, cluster_client, cluster_spec

if TYPE_CHECKING:
    from ocsea.cluster.spec import ClusterSpec
    from ocsea.cluster.work import ClassifyJob
    from ocsea.text.detector import Detector

text_app = typer.Typer(
    help="Text detection: explain, train, evaluate, corpus.", no_args_is_help=True
)

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (logs, grep)
out = Console()


class OutFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    table = "table"


class Kind(StrEnum):
    auto = "auto"
    query = "query"
    filename = "filename"
    path = "path"


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not enabled or not err.is_terminal,
        transient=True,
    )


def _accepted_terms() -> list:
    """Terms analysts accepted (``ocsea terms accept``), when a database already exists; a
    database is never created just to look."""
    from sqlalchemy import inspect

    from ocsea.store.db import default_url, make_engine
    from ocsea.triage.run import overlay_entries

    url = default_url()
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return []
    try:
        engine = make_engine(url, upgrade=False)
        if not inspect(engine).has_table("lexicon_terms"):
            return []
        return overlay_entries(engine)
    except Exception as exc:  # the detector still works without them: say so, go on
        err.print(f"note: accepted terms not loaded ({exc.__class__.__name__})", highlight=False)
        return []


def _load_detector(model: Path | None, threshold: float | None = None):
    from ocsea.text.detector import DEFAULT_THRESHOLD, Detector

    with err.status("loading model", spinner="dots") if err.is_terminal else _null():
        return Detector.load(
            model,
            threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
            extra_entries=_accepted_terms(),
        )


@contextmanager
def _null() -> Iterator[None]:
    yield


@contextmanager
def _open_input(source: str) -> Iterator[tuple[BinaryIO, int | None]]:
    if source == "-":
        yield sys.stdin.buffer, None
        return
    path = Path(source)
    if path.is_dir():
        raise ValueError(f"{source} is a directory: give a file with one text per line")
    if not path.is_file():
        raise FileNotFoundError(f"{source}: no such file")
    with path.open("rb") as fh:
        head = fh.read(8192)
        if _is_binary(head):
            raise ValueError(
                f"{source} is binary data, not text: give a file with one text per line"
            )
        fh.seek(0)
        yield fh, path.stat().st_size


def _is_binary(head: bytes) -> bool:
    """NUL bytes, or mostly bytes that are not UTF-8 text (an image, an archive, a model)."""
    if b"\x00" in head:
        return True
    text = head.decode("utf-8", errors="replace")
    return bool(head) and text.count("\ufffd") > max(8, len(text) // 20)


def _utf8_stdout() -> bool:
    """Whether text written to stdout reaches it as the same UTF-8 bytes (no other encoding, no
    line-ending translation): only then may encoded output bypass the text layer."""
    import codecs
    import os

    enc = getattr(sys.stdout, "encoding", None) or ""
    try:
        utf8 = codecs.lookup(enc).name == "utf-8"
    except LookupError:
        return False
    return utf8 and os.linesep == "\n"


def _rendered_fmt(fmt: OutFormat) -> str:
    """What lines are rendered as: a table is drawn from their jsonl records."""
    return "jsonl" if fmt is OutFormat.table else fmt.value


class _Sink:
    """Where classify's output goes, the same for a plain run and a Dask run: records to stdout
    in the chosen format (a table at the end), bad lines named on stderr."""

    def __init__(self, fmt: OutFormat) -> None:
        from ocsea.text.output import CSV_HEADER, csv_line

        self.fmt = fmt
        self.bad = 0
        self.rows: list[dict] = []
        if fmt is OutFormat.csv:
            sys.stdout.write(csv_line(CSV_HEADER))

    def bad_line(self, lineno: int, error: str) -> None:
        self.bad += 1
        err.print(f"line {lineno}: {error}", markup=False, highlight=False)

    def block(self, first_line: int, data: bytes, errors: list[tuple[int, str]]) -> None:
        """A block of lines as ``ocsea.text.batch`` renders them (from line ``first_line``),
        and its bad lines."""
        if self.fmt is OutFormat.table:
            import json

            for lineno, error in errors:
                self.bad_line(lineno, error)
            self.rows.extend(json.loads(line) for line in data.split(b"\n")[:-1])
            return
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None and _utf8_stdout():
            for lineno, error in errors:
                self.bad_line(lineno, error)
            sys.stdout.flush()  # what was written as text (the CSV header) goes first
            buffer.write(data)
            return
        # Through the text layer, as a plain run wrote, a line at a time with its error before
        # it: a line the encoding cannot take stops the run after the lines before it.
        bad = dict(errors)
        for i, line in enumerate(data.split(b"\n")[:-1]):
            if (error := bad.get(first_line + i)) is not None:
                self.bad_line(first_line + i, error)
            sys.stdout.write(line.decode("utf-8") + "\n")

    def finish(self) -> None:
        from rich.markup import escape

        from ocsea.text.output import reasons_short

        if self.fmt is OutFormat.table:
            table = Table("line", "label", "score", "text", "reasons", show_lines=False)
            for rec in self.rows:
                # The input's own text is never read as markup ("[/]" in a line ended the run).
                if "error" in rec:
                    table.add_row(
                        str(rec["line"]),
                        "[red]error",
                        "",
                        escape(rec["text"]),
                        escape(rec["error"]),
                    )
                else:
                    style = {"csa": "bold red", "adult": "yellow", "benign": "green"}[rec["label"]]
                    table.add_row(
                        str(rec["line"]), f"[{style}]{rec['label']}", f"{rec['score']:.3f}",
                        escape(rec["text"]), escape(reasons_short(rec["reasons"])),
                    )  # fmt: skip
            out.print(table)
        sys.stdout.flush()
        if self.bad:
            err.print(f"{self.bad} line(s) could not be classified (see above)")
            raise typer.Exit(1)


def classify(
    source: Annotated[
        str, typer.Argument(help="File with one text per line, or - for stdin.")
    ] = "-",
    fmt: Annotated[
        OutFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutFormat.jsonl,
    threshold: Annotated[
        float | None, typer.Option(min=0.0, max=1.0, help="P(csa) at or above which label is csa.")
    ] = None,
    kind: Annotated[Kind, typer.Option(help="What the lines are.")] = Kind.auto,
    model: Annotated[Path | None, typer.Option(help="A model from `ocsea text train`.")] = None,
    dask: DaskOption = None,
) -> None:
    """Classify texts, one per line. Bad lines are reported with their line number; the batch goes on."""
    spec = cluster_spec(dask)
    if spec is None:
        det = _load_detector(model, threshold)
        sink = _Sink(fmt)
        _classify_here(source, sink, det, kind)
    else:
        job = _dask_job(model, threshold, kind, _rendered_fmt(fmt))
        sink = _Sink(fmt)
        _classify_on_dask(spec, source, sink, job)
    sink.finish()


def _classify_here(source: str, sink: _Sink, det: Detector, kind: Kind) -> None:
    """Each distinct text classified and rendered once, in this process (``ocsea.text.batch``)."""
    from ocsea.text.batch import DistinctLines, read_blocks, render_texts

    fmt = _rendered_fmt(sink.fmt)
    lines = DistinctLines(fmt)
    with (
        _open_input(source) as (stream, size),
        _progress(size is not None and size > 1_000_000) as prog,
    ):
        task = prog.add_task("classifying", total=size)
        for block in read_blocks(stream):
            plan = lines.plan(block)
            rendered = render_texts(det, kind.value, fmt, plan.missing)
            sink.block(block.first_line, *lines.output(plan, rendered))
            prog.update(task, advance=block.size)


def _dask_job(model: Path | None, threshold: float | None, kind: Kind, fmt: str) -> ClassifyJob:
    """What the workers need to load the same detector as a plain run: the model checked here
    (the same error for a bad file), the analysts' accepted terms read here (workers need no
    database)."""
    from ocsea.cluster.work import ClassifyJob
    from ocsea.text.detector import DEFAULT_THRESHOLD
    from ocsea.text.model import LinearModel

    if model is not None:
        LinearModel.load(model)
    return ClassifyJob(
        model=None if model is None else str(model.resolve()),
        threshold=DEFAULT_THRESHOLD if threshold is None else threshold,
        kind=kind.value,
        fmt=fmt,
        extra_entries=tuple(_accepted_terms()),
    )


def _classify_on_dask(spec: ClusterSpec, source: str, sink: _Sink, job: ClassifyJob) -> None:
    """The plain run's output, with the texts no earlier block rendered sent to Dask workers a
    block at a time and the blocks written in input order. The client reads the input (the
    workers need no shared mount) and writes every line, as it must anyway: its output."""
    from collections import deque

    from ocsea.cluster import submit
    from ocsea.cluster.connect import worker_threads
    from ocsea.cluster.work import render_part
    from ocsea.text.batch import DistinctLines, Plan, read_blocks

    lines = DistinctLines(job.fmt)
    plans: deque[Plan] = deque()
    with (
        _open_input(source) as (stream, size),
        cluster_client(spec) as client,
        _progress(size is not None and size > 1_000_000) as prog,
    ):
        task = prog.add_task("classifying", total=size)

        def parts() -> Iterator[list[bytes]]:
            for block in read_blocks(stream):
                plans.append(plan := lines.plan(block))
                yield plan.missing

        window = submit.WINDOW_PER_SLOT * worker_threads(client)
        for part in submit.ordered_results(client, render_part, (job,), parts(), window):
            plan = plans.popleft()
            sink.block(plan.block.first_line, *lines.output(plan, part.unpack()))
            prog.update(task, advance=plan.block.size)


@text_app.command("explain")
def explain(
    text: Annotated[str, typer.Argument(help="The text to explain.")],
    model: Annotated[Path | None, typer.Option(help="A model from `ocsea text train`.")] = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="P(csa) at or above which the label is csa."),
    ] = None,
) -> None:
    """The verdict on one text with every reason behind it."""
    det = _load_detector(model, threshold)
    v = det.classify(text)
    style = {"csa": "bold red", "adult": "yellow", "benign": "green"}[v.label]
    out.print(
        f"[{style}]{v.label}[/]  P(csa)={v.score:.3f}  "
        + "  ".join(f"{k}={p:.3f}" for k, p in v.probs.items())
    )
    out.print(f"normalised: {v.normalized}", markup=False, highlight=False)
    table = Table("kind", "term", "category", "original text", "weight", "why / source")
    for r in v.reasons:
        span = text[r.span[0] : r.span[1]] if r.span else ""
        table.add_row(r.kind, r.term, r.category, span, f"{r.weight:+.2f}", r.detail or r.source)
    out.print(table)


@text_app.command("train")
def train(
    data: Annotated[Path, typer.Argument(help="CSV/TSV/JSONL with text,label columns.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write the model (.npz).")],
    c: Annotated[float, typer.Option(min=1e-4, help="Inverse regularisation strength.")] = 4.0,
    seed: Annotated[
        int, typer.Option(help="Random seed (the same seed gives the same result).")
    ] = 0,
    reviews: Annotated[
        list[Path] | None,
        typer.Option(
            help="Analysts' reviews (`ocsea reviews export`), counted --review-weight times."
        ),
    ] = None,
    review_weight: Annotated[
        float, typer.Option(min=1.0, max=1000.0, help="How many times each review counts.")
    ] = 20.0,
) -> None:
    """Train a model on labelled data (an agency's own, or `ocsea text corpus` output), with
    analysts' reviews counted more than the base rows so that a correction takes hold."""
    from ocsea.text.dataset import read_labelled
    from ocsea.text.lexicon import Lexicon
    from ocsea.text.train import train_model

    rows = read_labelled(data)
    weights = [r.weight for r in rows]  # the base's own weights (`ocsea text corpus` writes some)
    for path in reviews or ():
        reviewed = read_labelled(path)
        rows.extend(reviewed)
        weights.extend([review_weight] * len(reviewed))
    lexicon = Lexicon.default()
    with _progress(True) as prog:
        task = prog.add_task("featurising", total=len(rows))
        model = train_model(
            [r.text for r in rows], [r.label for r in rows], lexicon, c=c, seed=seed,
            progress=lambda n: prog.update(task, advance=n), source=str(data),
            weights=weights if any(w != 1.0 for w in weights) else None,
        )  # fmt: skip
    path = model.save(out_path)
    err.print(
        f"model written to {path} ({len(rows)} examples, vocabulary {len(model.vocab)}, "
        f"temperature {model.temperature:.2f})"
    )


@text_app.command("evaluate")
def evaluate(
    data: Annotated[
        Path, typer.Argument(help="CSV/TSV/JSONL with text,label[,lang,kind,intent] columns.")
    ],
    model: Annotated[
        Path | None, typer.Option(help="Model to evaluate (default: shipped).")
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Write metrics.json, pr-curve.png.")
    ] = None,
    threshold: Annotated[
        float | None,
        typer.Option(min=0.0, max=1.0, help="P(csa) at or above which the label is csa."),
    ] = None,
) -> None:
    """Precision/recall/F1 per class; csa recall and false alarms per language, kind and intent;
    confusion matrix, PR curve."""
    from ocsea.text.dataset import read_labelled
    from ocsea.text.evaluate import evaluate_predictions, run_detector, write_report

    rows = read_labelled(data)
    det = _load_detector(model, threshold)

    def one(t: str) -> tuple[str, float]:
        v = det.classify(t)
        return v.label, v.score

    predicted, scores = run_detector(rows, one)
    metrics = evaluate_predictions(rows, predicted, scores)
    metrics["threshold"] = det.threshold
    _print_metrics(metrics)
    if out_dir:
        write_report(out_dir, rows, predicted, scores, metrics)
        err.print(f"report written to {out_dir}/ (metrics.json, errors.tsv, pr-curve.png)")


def _print_metrics(m: dict) -> None:
    t = Table(
        "class",
        "precision",
        "recall",
        "f1",
        "support",
        title=f"n={m['n']} accuracy={m['accuracy']}",
    )
    for lab, v in m["per_class"].items():
        t.add_row(
            lab, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"])
        )
    out.print(t)
    cm = Table("true \\ predicted", *m["confusion"]["labels"], title="confusion matrix")
    for lab, row in zip(m["confusion"]["labels"], m["confusion"]["matrix"], strict=True):
        cm.add_row(lab, *map(str, row))
    out.print(cm)
    for key, title in (
        ("per_language", "language"),
        ("per_kind", "kind"),
        ("per_intent", "intent"),
    ):
        if key not in m:
            continue
        lt = Table(title, "n", "csa recall", "benign→csa", "adult→csa", "accuracy", title=key)
        for name, v in m[key].items():
            lt.add_row(
                name,
                str(v["n"]),
                str(v["csa_recall"]),
                str(v["benign_to_csa"]),
                str(v["adult_to_csa"]),
                str(v["accuracy"]),
            )
        out.print(lt)


@text_app.command("corpus")
def corpus(
    out_path: Annotated[
        Path, typer.Option("--out", help="TSV to write (label, lang, kind, template, text).")
    ],
    per_label: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Examples per label.")
    ] = 1000,
    seed: Annotated[
        int, typer.Option(help="Random seed (the same seed gives the same result).")
    ] = 0,
    with_written: Annotated[
        bool,
        typer.Option(
            "--written/--no-written",
            help="Add the hand-written examples the shipped model is trained on, as it counts them.",
        ),
    ] = True,
) -> None:
    """Generate the keyword-level training corpus: synthetic examples, and the hand-written ones
    the shipped model also learns from, so that an agency's model starts where it does."""
    from ocsea.text.corpus import CorpusGenerator
    from ocsea.text.written import WRITTEN_WEIGHT, written_examples

    examples = CorpusGenerator(seed=seed).generate(per_label)
    written = written_examples() if with_written else []
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n")
    w.writerow(["label", "lang", "kind", "template", "text", "weight"])
    for e in examples:
        w.writerow([e.label, e.lang, e.kind, e.template, e.text, 1])
    for e in written:
        w.writerow([e.label, e.lang, e.kind, e.template, e.text, f"{WRITTEN_WEIGHT:g}"])
    out_path.write_text(buf.getvalue(), encoding="utf-8")
    err.print(
        f"{len(examples) + len(written)} examples written to {out_path}"
        + (f" ({len(written)} of them hand-written, weight {WRITTEN_WEIGHT:g})" if written else "")
    )


def register(app: typer.Typer) -> None:
    app.add_typer(text_app, name="text")
    app.command()(classify)
