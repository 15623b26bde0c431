"""CLI adapters for known-material matching: ``hash``, ``match``, ``hashes …``, ``scan``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ocsea.cli.common import DaskOption, cluster_client, cluster_spec, finish, read_only
from ocsea.match.vpdq import format_meta_file, frames_from_json

if TYPE_CHECKING:
    from ocsea.cluster.spec import ClusterSpec

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (logs, grep)
out = Console()

hashes_app = typer.Typer(
    help="Hash lists of known material: import, list, export.", no_args_is_help=True
)


class ListFormat(StrEnum):
    auto = "auto"
    vics = "vics"
    icse = "icse"
    ncmec = "ncmec"
    text = "text"
    jsonl = "jsonl"
    vpdq = "vpdq"


class ExportFormat(StrEnum):
    vics = "vics"
    jsonl = "jsonl"


class TextType(StrEnum):
    auto = "auto"
    md5 = "md5"
    sha1 = "sha1"
    sha256 = "sha256"
    pdq = "pdq"


class RecordFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL (default: OCSEA_DATABASE_URL or ~/.local/share/ocsea)."
    ),
]


def _engine(db: str | None):
    from ocsea.store.db import make_engine

    return make_engine(db)


@hashes_app.command("import")
def hashes_import(
    files: Annotated[list[Path], typer.Argument(help="Hash list files.")],
    list_name: Annotated[str, typer.Option("--list", help="Name of the list to add to.")],
    source: Annotated[str, typer.Option(help="Where the list comes from (provenance).")] = "",
    fmt: Annotated[
        ListFormat, typer.Option("--format", help="The list's format (auto: detected).")
    ] = ListFormat.auto,
    text_type: Annotated[
        TextType, typer.Option(help="Hash type of 64-digit lines in text lists.")
    ] = TextType.auto,
    strict: Annotated[
        bool, typer.Option("--strict", help="Refuse a file whole when one row cannot be read.")
    ] = False,
    db: DbOption = None,
) -> None:
    """Import hash lists. Re-importing a file changes nothing. A row that cannot be read is named
    with its line and the others are imported (--strict: the file is refused); every row is kept
    as a source of its entry, and a changed category is reported (ocsea hashes show HASH)."""
    import getpass

    from ocsea.hashlists.formats import HashListError
    from ocsea.hashlists.store import import_file
    from ocsea.service import audit

    engine = _engine(db)
    failed = done = 0
    for f in files:
        try:
            r = import_file(engine, f, list_name, source, fmt.value, text_type.value, strict)
        except HashListError as exc:
            failed += 1
            err.print(f"[red]rejected[/] {escape(str(exc))}", highlight=False)
            continue
        done += 1
        for why in r.rejected[:50]:
            err.print(f"[red]rejected[/] {escape(why)}", highlight=False)
        if len(r.rejected) > 50:
            err.print(f"  … and {len(r.rejected) - 50} more rejected rows")
        for c in r.conflicts[:50]:
            err.print(f"category changed: {escape(c)}", highlight=False)
        failed += bool(r.rejected)
        if r.already_imported:
            err.print(
                f"{f}: already imported into {list_name!r} ({r.n_entries} entries); nothing changed"
            )
        else:
            err.print(f"{f}: {r.format}, {r.n_entries} entries, {r.n_new} new in {list_name!r}")
        audit.record(engine, f"cli:{getpass.getuser()}", "hashes.import", list_name[:300],
                     {"file": str(f)[-300:], "format": r.format, "entries": r.n_entries,
                      "new": r.n_new, "already_imported": r.already_imported})  # fmt: skip
    finish(done, failed)


@hashes_app.command("show")
@read_only
def hashes_show(
    value: Annotated[str, typer.Argument(help="An MD5, SHA-1, SHA-256, PDQ or PhotoDNA value.")],
    db: DbOption = None,
) -> None:
    """Every list entry holding a hash, with every source row behind it: file, line, category,
    media id, case."""
    from ocsea.hashlists.store import entry_history

    found = entry_history(_engine(db), value)
    if not found:
        err.print(f"{value[:80]}: on no list")
        raise typer.Exit(1)
    for item in found:
        e = item["entry"]
        out.print(f"[bold]{escape(e['list_name'])}[/] entry {e['id']}: category {e['category'] or '-'}, "
                  f"media id {escape(e['media_id'] or '-')}", highlight=False)  # fmt: skip
        t = Table("imported", "file", "line", "category", "media id", "other fields")
        for s in item["sources"]:
            t.add_row(str(s["imported_at"])[:16], escape(s["file_name"]), str(s["line"] or ""),
                      s["category"] or "", escape(s["media_id"] or ""),
                      escape(json.dumps(s["extra"], ensure_ascii=False)[:80]) if s["extra"] else "")  # fmt: skip
        out.print(t)


@hashes_app.command("lists")
@read_only
def hashes_lists(db: DbOption = None) -> None:
    """The stored lists with their provenance and categories."""
    from ocsea.hashlists.store import list_lists

    table = Table("list", "entries", "categories", "source", "imports", "updated")
    for li in list_lists(_engine(db)):
        cats = ", ".join(f"{k or '-'}:{v}" for k, v in sorted(li.categories.items()))
        table.add_row(
            li.name,
            str(li.n_entries),
            cats,
            li.source,
            str(li.imports),
            li.updated_at.isoformat(timespec="seconds"),
        )
    out.print(table)


@hashes_app.command("export")
@read_only
def hashes_export(
    list_name: Annotated[str, typer.Option("--list", help="The list to export.")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", help="Output format.")
    ] = ExportFormat.jsonl,
    out_path: Annotated[
        Path | None, typer.Option("--out", help="File to write (default stdout).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Export a list as VICS 2.0 JSON or ocsea JSONL."""
    from ocsea.hashlists.formats import to_jsonl, to_vics
    from ocsea.hashlists.store import list_entries

    entries = list_entries(_engine(db), list_name)
    text = to_vics(entries, list_name) if fmt is ExportFormat.vics else to_jsonl(entries)
    if out_path:
        out_path.write_text(text, encoding="utf-8")
        err.print(f"{len(entries)} entries written to {out_path}")
    else:
        sys.stdout.write(text)


def _walk(paths: list[Path]) -> Iterator[Path]:
    for p in paths:
        if p.is_dir():
            for q in sorted(p.rglob("*")):
                if q.is_file() and not q.is_symlink():
                    yield q
        else:
            yield p


def register(app: typer.Typer) -> None:
    app.add_typer(hashes_app, name="hashes")
    app.add_typer(db_app, name="db")
    register_scan(app)

    @app.command("hash")
    def hash_cmd(
        paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
        fmt: Annotated[
            RecordFormat, typer.Option("--format", help="jsonl for tools, table for reading.")
        ] = RecordFormat.jsonl,
        video_seconds: Annotated[
            float, typer.Option(min=0, help="Seconds between vPDQ frames (0: every frame).")
        ] = 1.0,
        vpdq_out: Annotated[
            Path | None, typer.Option(help="Folder for per-video vPDQ hash files.")
        ] = None,
        dask: DaskOption = None,
    ) -> None:
        """MD5, SHA-1, SHA-256; PDQ for images; vPDQ for video. One JSON object a file."""
        rows = []
        done = failed = 0
        for p, rec in _hashed(paths, video_seconds, cluster_spec(dask)):
            failed += "error" in rec
            done += "error" not in rec
            if "vpdq" in rec and vpdq_out is not None:
                # Meta's per-frame format (frame_number,quality,hash,timestamp): `hashes import`
                # and Meta's own tools read it
                vpdq_out.mkdir(parents=True, exist_ok=True)
                hf = vpdq_out / f"{rec['sha256']}.vpdq.txt"
                hf.write_text(format_meta_file(frames_from_json(rec["vpdq"])))
                rec["vpdq_file"] = str(hf)
                del rec["vpdq"]
            if fmt is RecordFormat.jsonl:
                sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                rows.append(rec)
            if "error" in rec:
                err.print(f"{p}: {rec['error']}", highlight=False)
        if rows:
            t = Table("path", "size", "sha256", "pdq", "q")
            for r in rows:
                t.add_row(
                    r["path"],
                    str(r.get("size", "")),
                    r.get("sha256", r.get("error", ""))[:16],
                    (r.get("pdq") or "")[:16],
                    str(r.get("pdq_quality", "")),
                )
            out.print(t)
        finish(done, failed)

    @app.command("match")
    @read_only
    def match_cmd(
        paths: Annotated[list[Path], typer.Argument(help="Files or folders.")],
        fmt: Annotated[
            RecordFormat, typer.Option("--format", help="jsonl for tools, table for reading.")
        ] = RecordFormat.jsonl,
        max_distance: Annotated[
            int, typer.Option(min=0, max=63, help="PDQ Hamming distance.")
        ] = 31,
        quality: Annotated[int, typer.Option(min=0, max=100, help="PDQ quality floor.")] = 50,
        lists: Annotated[list[str] | None, typer.Option("--list", help="Only these lists.")] = None,
        video_seconds: Annotated[
            float,
            typer.Option(min=0, help="Seconds between vPDQ frames of the query (0: every frame)."),
        ] = 1.0,
        vpdq_query_percent: Annotated[
            float,
            typer.Option(min=0, max=100, help="vPDQ: share of the query's frames that must match."),
        ] = 80.0,
        vpdq_index_percent: Annotated[
            float,
            typer.Option(
                min=0, max=100, help="vPDQ: share of the listed video's frames that must match."
            ),
        ] = 0.0,
        db: DbOption = None,
    ) -> None:
        """Each file with its matches: list, category, hash type, distance."""
        from ocsea.match.matcher import Matcher
        from ocsea.media.hashing import (
            IMAGE_EXTENSIONS,
            VIDEO_EXTENSIONS,
            MediaError,
            digest_path,
            pdq_dihedral,
            vpdq_video,
        )

        matcher = Matcher.from_store(
            _engine(db), lists, max_distance=max_distance, quality_floor=quality,
            vpdq_percent=vpdq_query_percent, vpdq_index_percent=vpdq_index_percent,
        )  # fmt: skip
        if not matcher.n_entries:
            err.print("warning: no hash list is loaded (ocsea hashes import …): nothing can match",
                      highlight=False)  # fmt: skip
        rows = []
        done = failed = 0
        for p in _walk(paths):
            rec: dict[str, Any] = {"path": str(p)}
            image = p.suffix.lower() in IMAGE_EXTENSIONS
            try:
                # an image's digests and PDQ from one read, of the same bytes
                d, source = digest_path(p, image)
            except OSError as exc:
                rec["error"] = f"cannot read: {exc.strerror or exc}"
                err.print(f"{p}: {rec['error']}", highlight=False)
                failed += 1
            else:
                rec.update(size=d.size, sha256=d.sha256)
                hits = matcher.match_digests(d)
                try:
                    if image:
                        variants = pdq_dihedral(source)
                        rec.update(pdq=variants[0].hex, pdq_quality=variants[0].quality)
                        hits += matcher.match_pdq(variants)
                    elif p.suffix.lower() in VIDEO_EXTENSIONS and matcher.videos:
                        hits += matcher.match_vpdq(vpdq_video(p, seconds_per_hash=video_seconds))
                except MediaError as exc:
                    rec["media_error"] = str(exc)
                rec["matches"] = [h.to_dict() for h in hits]
                done += 1
            if fmt is RecordFormat.jsonl:
                sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
            else:
                rows.append(rec)
        if rows:
            t = Table("path", "matches")
            for r in rows:
                t.add_row(
                    r["path"],
                    "; ".join(
                        f"{m['list']}/{m['category']} {m['hash_type']} d={m['distance']}"
                        for m in r.get("matches", [])
                    )
                    or r.get("error", "-"),
                )
            out.print(t)
        finish(done, failed)


HASH_BATCH_FILES = 32  # files a Dask task hashes: one task a file cost ~1 ms a file


def _hashed(paths: list[Path], video_seconds: float,
            spec: ClusterSpec | None) -> Iterator[tuple[Path, dict[str, Any]]]:  # fmt: skip
    """Each file's record, in walk order: here, or from batches hashed on a Dask cluster."""
    from ocsea.media.file_record import hash_batch_from, hash_one

    if spec is None:
        for p in _walk(paths):
            yield p, hash_one(p, video_seconds)
        return
    from ocsea.cluster import submit
    from ocsea.cluster.connect import worker_threads

    here = os.getcwd()
    with cluster_client(spec) as client:
        _check_shared(client, spec, paths)
        walk = iter(_walk(paths))
        parts = iter(lambda: [str(p) for p in islice(walk, HASH_BATCH_FILES)], [])
        window = submit.WINDOW_PER_SLOT * worker_threads(client)
        results = submit.ordered_results(
            client, hash_batch_from, (here, video_seconds), parts, window
        )
        for records in results:
            for rec in records:
                yield Path(rec["path"]), rec


def _check_shared(client, spec: ClusterSpec, paths: list[Path]) -> None:
    """On a running scheduler, every worker must see the evidence at the same path (a local
    cluster shares this machine's files). Called inside ``cluster_client``, which ends the
    command in one line on the ClusterError of a worker that does not."""
    from ocsea.cluster.connect import check_paths
    from ocsea.cluster.spec import Scheduler

    # Only what this machine sees: a path missing here too is reported as any missing file is.
    seen = [str(p.resolve()) for p in paths if p.exists()]
    if isinstance(spec, Scheduler) and seen:
        check_paths(client, seen)


@contextmanager
def _scan_executor(
    spec: ClusterSpec | None, root: Path | None = None
) -> Iterator[tuple[Executor | None, int]]:
    """Where the scan's batches run: local processes (None, the ``--workers`` count), or a Dask
    cluster's executor and its task slots; a failed part is retried there (a killed worker)."""
    if spec is None:
        yield None, 0
        return
    from ocsea.cluster.connect import worker_threads
    from ocsea.cluster.submit import RETRIES

    with cluster_client(spec) as client:
        if root is not None:
            _check_shared(client, spec, [root])
        yield client.get_executor(retries=RETRIES, pure=False), worker_threads(client)


def register_scan(app: typer.Typer) -> None:
    @app.command("scan")
    def scan_cmd(
        root: Annotated[
            Path, typer.Argument(help="Folder (a mounted drive, an export) or a file.")
        ],
        out_dir: Annotated[
            Path, typer.Option("--out", help="Report and scan-state folder.")
        ] = Path("scan-out"),
        archives: Annotated[
            bool, typer.Option("--archives/--no-archives", help="Look inside zip/tar.")
        ] = True,
        media: Annotated[
            bool, typer.Option("--media/--no-media", help="PDQ/vPDQ (off: digests only).")
        ] = True,
        video: Annotated[
            bool, typer.Option("--video/--no-video", help="vPDQ for video files.")
        ] = True,
        video_seconds: Annotated[
            float, typer.Option(min=0, help="Seconds between vPDQ frames (0: every frame).")
        ] = 1.0,
        workers: Annotated[
            int,
            typer.Option(
                min=1,
                max=64,
                help="Hashing processes (with --dask the cluster's workers hash instead).",
            ),
        ] = max(1, min(2, os.cpu_count() or 1)),
        max_distance: Annotated[
            int, typer.Option(min=0, max=63, help="PDQ Hamming distance for a match.")
        ] = 31,
        quality: Annotated[int, typer.Option(min=0, max=100, help="PDQ quality floor.")] = 50,
        media_risk: Annotated[
            bool,
            typer.Option(
                "--media-risk/--no-media-risk",
                help="Rank unknown images and videos by content risk (needs ocsea[media]).",
            ),
        ] = True,
        db: DbOption = None,
        dask: DaskOption = None,
    ) -> None:
        """Hash every file (and archive member), match against the stored lists, check names with
        the text detector, rank unknown media by content risk, and write a ranked report.
        Interrupt with Ctrl-C; re-run to resume."""
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        from ocsea.match.matcher import Matcher
        from ocsea.scan.report import write_report
        from ocsea.scan.runner import Ranker, run_scan
        from ocsea.scan.worker import ScanOptions
        from ocsea.text.detector import Detector

        if not root.exists():
            raise FileNotFoundError(f"{root}: no such file or folder")
        risk_on = media_risk and media
        weights: tuple[tuple[str, float], ...] = ()
        if risk_on:
            from ocsea.cli.media_risk import configured_weights, load_models_or_exit, require_models

            require_models()
            load_models_or_exit()  # a broken install stops here, not in every worker
            weights = tuple(sorted(configured_weights().items()))
        opts = ScanOptions(archives=archives, media=media, video=video, video_seconds=video_seconds,
                           media_risk=risk_on, risk_weights=weights)  # fmt: skip
        # The lists and the detector first: each file is ranked as it is saved, while the
        # workers hash the next ones (and a store that cannot be opened stops the scan here).
        matcher = Matcher.from_store(_engine(db), max_distance=max_distance, quality_floor=quality)
        ranker = Ranker(root, matcher, Detector.load(), dict(weights) or None)
        # the bar and the byte figure follow bytes; the file count is its own field
        progress = Progress(
            TextColumn("hashing"), BarColumn(), TextColumn("{task.fields[files]} files"), DownloadColumn(),
            TimeRemainingColumn(), console=err, disable=not err.is_terminal, transient=True,
        )  # fmt: skip
        with progress:
            task = progress.add_task("hashing", total=None, files="0")
            seen = {"files": 0, "of": None}

            def on_total(n: int, b: int) -> None:
                seen["of"] = n
                progress.update(task, total=b, files=f"{seen['files']}/{n}")

            def on_progress(n: int, b: int) -> None:
                seen["files"] += n
                of = f"/{seen['of']}" if seen["of"] is not None else ""
                progress.update(task, advance=b, files=f"{seen['files']}{of}")

            spec = cluster_spec(dask)
            with _scan_executor(spec, root) as (executor, slots):
                summary = run_scan(root, out_dir, opts, slots or workers, progress=on_progress,
                                   on_total=on_total, executor=executor,
                                   on_records=ranker.add)  # fmt: skip
        findings = ranker.findings()
        meta = {"archives": archives, "video": video, "max_distance": max_distance, "quality_floor": quality,
                "hash_list_entries": matcher.n_entries, "media_risk": risk_on}  # fmt: skip
        write_report(out_dir, root, summary, findings, meta)
        counts = {}
        for f in findings:
            counts[f.kind] = counts.get(f.kind, 0) + 1
        out.print(
            f"{summary.files_seen} files ({summary.files_hashed_now} hashed now, {summary.files_resumed} resumed); "
            + ", ".join(f"{k}: {v}" for k, v in counts.items())
        )
        t = Table("kind", "path", "why", title="most important first")
        for f in findings[:15]:
            why = (
                "; ".join(f"{m['list']} {m['hash_type']} d={m['distance']}" for m in f.matches)
                or "; ".join(f.text_reasons)
                or (f"risk {f.media_risk:.2f}: " + "; ".join(f.media_reasons[:2]) if f.media_risk is not None else "")
                or (f.error or "")
            )  # fmt: skip
            t.add_row(f.kind, f.path, why)
        out.print(t)
        out.print(f"report: {out_dir / 'report.html'} (also report.csv, report.json)")


db_app = typer.Typer(help="The ocsea database: schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Bring the database schema to the newest migration."""
    from ocsea.store.db import make_engine
    from ocsea.store.migrate import current_revision, head_revision

    engine = make_engine(db)
    err.print(f"database at revision {current_revision(engine)} (newest {head_revision()})")


@db_app.command("status")
def db_status(db: DbOption = None) -> None:
    """Where the database is, its revision, and its row counts (creates nothing)."""
    from sqlalchemy import func, select

    from ocsea.store import db as schema
    from ocsea.store.migrate import current_revision, head_revision

    url = schema.database_url(db or schema.default_url())
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        out.print(
            f"no database at {url.removeprefix('sqlite:///')} (run ocsea db upgrade to create it)",
            soft_wrap=True,
            highlight=False,
        )
        raise typer.Exit(2)
    engine = schema.make_engine(url, upgrade=False)
    rev = current_revision(engine)
    out.print(f"url: {engine.url.render_as_string(hide_password=True)}")
    out.print(f"revision: {rev or 'none (run ocsea db upgrade)'}; newest: {head_revision()}")
    if rev:
        t = Table("table", "rows")
        with engine.connect() as conn:
            for name, table in schema.metadata.tables.items():
                t.add_row(
                    name, str(conn.execute(select(func.count()).select_from(table)).scalar_one())
                )
        out.print(t)
