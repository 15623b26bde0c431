"""CLI adapters for the triage store: ``ingest``, ``triage``, ``sharers``, ``terms``."""

from __future__ import annotations

import getpass
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ocsea.cli.common import DaskOption, cluster_client, cluster_spec, finish, read_only

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ocsea.cluster.spec import ClusterSpec
    from ocsea.config import Settings
    from ocsea.ingest.stream import IngestResult

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (logs, grep)
out = Console()

ingest_app = typer.Typer(
    help="Ingest P2P monitoring exports and search-query logs.", no_args_is_help=True
)
terms_app = typer.Typer(
    help="New-term discovery in query logs, and accepting terms into the lexicon.",
    no_args_is_help=True,
)
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: ocsea.toml / OCSEA_DATABASE_URL)."),
]


def _store(db: str | None) -> tuple[Settings, Engine]:
    from ocsea.config import load_settings
    from ocsea.store.db import make_engine

    settings = load_settings()
    return settings, make_engine(db or settings.database_url)


def _ctx(db: str | None):
    from ocsea.text.detector import Detector
    from ocsea.triage.run import overlay_entries

    settings, engine = _store(db)
    detector = Detector.load(
        threshold=settings.text_threshold, extra_entries=overlay_entries(engine)
    )
    return settings, engine, detector


def _count_lines(path: Path) -> int:
    with path.open("rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


# (file, progress) → what ingesting it did
Ingest = Callable[[Path, Callable[[int], None]], "IngestResult"]


@contextmanager
def _ingester(
    kind: str, db: str | None, spec: ClusterSpec | None
) -> Iterator[tuple[Engine, Ingest]]:
    """The store, and the ingest of one file: here, or with its rows parsed and classified on
    a Dask cluster (the detector loads on the workers, not here)."""
    from ocsea.ingest import p2p, queries

    if spec is None:
        settings, engine, detector = _ctx(db)
        fn = p2p.ingest_p2p if kind == "p2p" else queries.ingest_queries
        yield engine, lambda f, progress: fn(engine, f, detector, settings, progress=progress)
        return
    from ocsea.cluster.work import DetectorSpec
    from ocsea.triage.run import overlay_entries

    settings, engine = _store(db)
    # The plain run's detector (shipped model, threshold, accepted terms), loaded by the workers.
    detector = DetectorSpec(None, settings.text_threshold, tuple(overlay_entries(engine)))
    on_cluster = p2p.ingest_p2p_on_cluster if kind == "p2p" else queries.ingest_queries_on_cluster
    with cluster_client(spec) as client:
        yield (
            engine,
            lambda f, progress: on_cluster(engine, f, settings, client, detector, progress),
        )


def _run_ingest(kind: str, files: list[Path], db: str | None, dask: str | None = None) -> None:
    spec = cluster_spec(dask)  # a bad --dask ends the command before anything loads
    with _ingester(kind, db, spec) as (engine, ingest):
        done, failed = _ingest_files(kind, files, engine, ingest)
    finish(done, failed)


def _ingest_files(kind: str, files: list[Path], engine: Engine, ingest: Ingest) -> tuple[int, bool]:
    """Each file ingested, reported and audited: (files that added rows, whether any failed)."""
    from ocsea.ingest.stream import IngestError
    from ocsea.service import audit

    failed = False
    done = 0
    for f in files:
        if not f.is_file():
            err.print(
                f"[red]error[/] {f}: {'a directory, not a file' if f.is_dir() else 'no such file'}"
            )
            failed = True
            continue
        # data rows: a CSV/TSV header line is not one
        total = max(0, _count_lines(f) - (f.suffix.lower() not in (".jsonl", ".ndjson", ".json")))
        with Progress(TextColumn(f"{f.name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                      console=err, disable=not err.is_terminal, transient=True) as prog:  # fmt: skip
            task = prog.add_task("rows", total=total)
            try:
                r = ingest(f, lambda n, t=task: prog.update(t, advance=n))
            except IngestError as exc:
                err.print(f"[red]rejected[/] {escape(str(exc))}", highlight=False)
                failed = True
                continue
        for line in r.errors[:20]:
            err.print(f"  {line}", highlight=False, markup=False)
        if len(r.errors) > 20:
            err.print(f"  … and {r.rows_rejected - 20} more rejected rows")
        if r.already_done:
            err.print(f"{f}: already ingested (same content); nothing added")
            done += 1
        else:
            resumed = f", resumed after line {r.resumed_from_line}" if r.resumed_from_line else ""
            err.print(f"{f}: {r.rows_done} rows ingested, {r.rows_rejected} rejected{resumed}")
            done += r.rows_done > 0
            failed = failed or r.rows_rejected > 0
        audit.record(engine, f"cli:{getpass.getuser()}", f"ingest.{kind}", str(f)[-300:],
                     {"rows": getattr(r, "rows_done", 0), "rejected": getattr(r, "rows_rejected", 0)})  # fmt: skip
    return done, failed


@ingest_app.command("p2p")
def ingest_p2p_cmd(
    files: Annotated[list[Path], typer.Argument(help="CSV/TSV/JSONL exports.")],
    db: DbOption = None,
    dask: DaskOption = None,
) -> None:
    """P2P monitoring exports: timestamp, network, ip, port, guid, client, filename, size, hashes."""
    _run_ingest("p2p", files, db, dask)


@ingest_app.command("queries")
def ingest_queries_cmd(
    files: Annotated[list[Path], typer.Argument(help="CSV/TSV/JSONL query logs.")],
    db: DbOption = None,
    dask: DaskOption = None,
) -> None:
    """Search-query logs: timestamp, query, session/user id (pseudonymised on ingest), region."""
    _run_ingest("queries", files, db, dask)


@ingest_app.command("scan")
def ingest_scan_cmd(
    scan_dirs: Annotated[
        list[Path], typer.Argument(help="The --out folders of `ocsea scan` runs.")
    ],
    db: DbOption = None,
) -> None:
    """Results of `ocsea scan` (every hashed file, with its name and matches) into the store."""
    from ocsea.ingest.scan import ingest_scan
    from ocsea.ingest.stream import IngestError
    from ocsea.match.matcher import Matcher

    _, engine, detector = _ctx(db)
    matcher = Matcher.from_store(engine)
    failed = False
    for d in scan_dirs:
        try:
            r = ingest_scan(engine, d, detector, matcher)
        except IngestError as exc:
            err.print(f"[red]rejected[/] {escape(str(exc))}", highlight=False)
            failed = True
            continue
        if r.already_done:
            err.print(f"{d}: already ingested; nothing added")
        else:
            err.print(
                f"{d}: {r.rows_done} files ingested ({r.rows_rejected} unreadable or skipped)"
            )
    if failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
    app.add_typer(terms_app, name="terms")

    @app.command("triage")
    def triage_cmd(
        report: Annotated[
            Path | None, typer.Option("--report", help="Write the report to this folder.")
        ] = None,
        top: Annotated[
            int, typer.Option(min=1, max=1000, help="Findings shown, most important first.")
        ] = 15,
        db: DbOption = None,
    ) -> None:
        """Match against the hash lists, score every finding and sharer, show the top ones."""
        from ocsea.match.matcher import Matcher
        from ocsea.triage.report import ranked_findings, write_report
        from ocsea.triage.run import discover_terms, run_triage

        settings, engine, detector = _ctx(db)
        s = run_triage(engine, settings.triage_weights, Matcher.from_store(engine),
                       media_weights=settings.media_risk_weights or None)  # fmt: skip
        summary = {
            "files": s.items,
            "findings": s.findings,
            **s.by_kind,
            "hash matches": s.hash_matches,
            "sharers": s.sharers,
        }
        out.print(" · ".join(f"{k}: {v}" for k, v in summary.items()))
        t = Table("#", "kind", "priority", "file name", "why", title="most important first")
        for f in ranked_findings(engine, top):
            why = "; ".join(f["lists"]) or "; ".join(f["reasons"][:3])
            t.add_row(str(f["rank"]), f["kind"], f"{f['priority']:.2f}", f["name"] or "", why)
        out.print(t)
        if report:
            cands = discover_terms(engine, detector.lexicon.known_keys(), _tokenizer(detector))
            path = write_report(report, engine, cands, summary)
            out.print(f"report: {path} (also findings.csv, sharers.csv, terms.csv, report.json)")

    @app.command("sharers")
    @read_only
    def sharers_cmd(
        top: Annotated[int, typer.Option(min=1, max=10000, help="Sharers shown.")] = 20,
        db: DbOption = None,
    ) -> None:
        """Sharer profiles, highest priority first (run `ocsea triage` first)."""
        from ocsea.store.db import make_engine
        from ocsea.triage.report import top_sharers

        t = Table(
            "#",
            "network",
            "GUID",
            "priority",
            "files",
            "unknown flagged",
            "known",
            "producer?",
            "last seen",
            "IPs",
        )
        for s in top_sharers(make_engine(db), top):
            t.add_row(str(s["rank"]), s["network"], s["guid"], f"{s['priority']:.2f}", str(s.get("files")),
                      str(s.get("unknown_flagged_files")), str(s.get("known_files")), "yes" if s.get("producer") else "",
                      s["last_seen"][:19], ", ".join(i["ip"] for i in s["ips"][:3]))  # fmt: skip
        out.print(t)


def _tokenizer(detector):
    def tok(text: str) -> list[str]:
        return [t.text for t in detector.lexicon.tokenizer.tokenize(text)]

    return tok


@terms_app.command("discover")
def terms_discover(
    top: Annotated[int, typer.Option(min=1, max=1000, help="Candidate terms shown.")] = 30,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Also write the candidates as CSV.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Words that co-occur with flagged queries and are not in the lexicon (log-likelihood ratio)."""
    import csv

    from ocsea.triage.run import discover_terms

    _, engine, detector = _ctx(db)
    cands = discover_terms(engine, detector.lexicon.known_keys(), _tokenizer(detector), top)
    t = Table("term", "G²", "in flagged", "in all", "last 7 days", "examples")
    for c in cands:
        t.add_row(
            c.term,
            f"{c.g2:.1f}",
            str(c.flagged),
            str(c.total),
            "" if c.rising is None else f"{100 * c.rising:.0f}%",
            " | ".join(c.examples[:2]),
        )
    out.print(t)
    if out_path:
        with out_path.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["term", "g2", "flagged", "total", "rising", "examples"])
            for c in cands:
                w.writerow([c.term, c.g2, c.flagged, c.total, c.rising, " | ".join(c.examples)])
        err.print(f"{len(cands)} candidates written to {out_path}")


@terms_app.command("accept")
def terms_accept(
    terms: Annotated[list[str], typer.Argument(help="Terms to add to the lexicon.")],
    category: Annotated[str, typer.Option(help="Lexicon category.")] = "csa_code",
    lang: Annotated[str, typer.Option(help="en, th, th-Latn or mixed.")] = "mixed",
    weight: Annotated[
        float, typer.Option(min=-5, max=5, help="How strongly each term counts.")
    ] = 0.8,
    analyst: Annotated[str, typer.Option(help="Who accepts them (provenance).")] = "",
    db: DbOption = None,
) -> None:
    """Accept terms into the local lexicon overlay; every later verdict uses them."""
    from ocsea.store.db import make_engine
    from ocsea.text.lexicon import CATEGORIES, LANGS
    from ocsea.triage.run import accept_terms

    if category not in CATEGORIES:
        raise typer.BadParameter(f"category must be one of {CATEGORIES}")
    if lang not in LANGS:
        raise typer.BadParameter(f"lang must be one of {LANGS}")
    clean = [t.strip() for t in terms if t.strip()]
    if not clean or any(len(t) > 200 for t in clean):
        raise typer.BadParameter("terms must be 1..200 characters")
    n = accept_terms(make_engine(db), clean, category, lang, weight, analyst or getpass.getuser())
    err.print(f"{n} term(s) accepted into category {category!r}; later verdicts use them")


@terms_app.command("list")
@read_only
def terms_list(db: DbOption = None) -> None:
    """Terms analysts accepted into the local lexicon overlay, with who and when."""
    from ocsea.store.db import make_engine
    from ocsea.triage.run import list_terms

    t = Table("term", "category", "lang", "weight", "source", "accepted")
    for r in list_terms(make_engine(db)):
        t.add_row(escape(r.term), r.category, r.lang, f"{r.weight:+.2f}", escape(r.source or ""),
                  str(r.accepted_at)[:16])  # fmt: skip
    out.print(t)


@terms_app.command("remove")
def terms_remove(
    terms: Annotated[list[str], typer.Argument(help="Accepted terms to take out of the lexicon.")],
    category: Annotated[str | None, typer.Option(help="Only from this category.")] = None,
    db: DbOption = None,
) -> None:
    """Take accepted terms out of the local lexicon overlay (audited); later verdicts stop using them."""
    from ocsea.store.db import make_engine
    from ocsea.triage.run import remove_terms

    n = remove_terms(
        make_engine(db), [t.strip() for t in terms], category, f"cli:{getpass.getuser()}"
    )
    err.print(f"{n} term(s) removed" if n else "no such accepted term")
    if not n:
        raise typer.Exit(1)
