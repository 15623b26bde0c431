"""CLI adapters for unknown-media risk: ``media score`` and ``media calibrate``.

A risk is a prioritisation signal — what to review first — never a finding that material is
illegal; every row and report says so in those words.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ocsea.cli.common import EXIT_NOTHING_DONE, finish

err = Console(stderr=True, soft_wrap=True, markup=False)  # paths and hints hold brackets
out = Console()

media_app = typer.Typer(
    help="Unknown media: a risk score that says what to review first (never a verdict).",
    no_args_is_help=True,
)

NOT_A_VERDICT = "risk orders review; it is no finding that anything is illegal and never evidence"


class ScoreFormat(StrEnum):
    jsonl = "jsonl"
    table = "table"


def _media_files(paths: list[Path]) -> list[Path]:
    from ocsea.media.hashing import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

    media = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(
                q
                for q in sorted(p.rglob("*"))
                if q.is_file() and not q.is_symlink() and q.suffix.lower() in media
            )
        else:
            found.append(p)  # named by the user: scored, or an error row saying why not
    return found


def _score_one(args: tuple[str, dict[str, float], float, int]) -> dict[str, Any]:
    from ocsea.media.scoring import VideoSampling, score_file

    path, weights, seconds, max_frames = args
    return score_file(path, weights, VideoSampling(seconds=seconds, max_frames=max_frames))


def configured_weights() -> dict[str, float]:
    from ocsea.config import ConfigError, load_settings
    from ocsea.media.risk import DEFAULT_WEIGHTS

    try:
        return load_settings().media_risk_weights or dict(DEFAULT_WEIGHTS)
    except ConfigError as exc:
        err.print(f"error: {exc}", highlight=False)
        raise typer.Exit(EXIT_NOTHING_DONE) from None


def require_models() -> None:
    """Stop with the install instruction when the optional media models are absent."""
    from ocsea.media.models import MediaModelsMissing, check_installed

    try:
        check_installed()
    except MediaModelsMissing as exc:
        err.print(f"error: {exc}", highlight=False)
        raise typer.Exit(EXIT_NOTHING_DONE) from None


def load_models_or_exit() -> None:
    """Load the models once here, so that a damaged install (a checksum mismatch, a changed
    package) stops the command with its reason instead of failing in every worker."""
    from ocsea.media.models import MediaModels

    try:
        MediaModels.shared()
    except Exception as exc:
        err.print(f"error: the media models cannot be loaded: {exc}", highlight=False)
        raise typer.Exit(EXIT_NOTHING_DONE) from None


@media_app.command("score")
def score_cmd(
    paths: Annotated[list[Path], typer.Argument(help="Image or video files, or folders.")],
    fmt: Annotated[
        ScoreFormat, typer.Option("--format", help="jsonl for tools, table for reading.")
    ] = ScoreFormat.jsonl,
    workers: Annotated[
        int, typer.Option(min=0, max=64, help="Worker processes (0: one per core).")
    ] = 0,
    video_seconds: Annotated[
        float, typer.Option(min=0.1, help="At most one key frame every this many seconds.")
    ] = 5.0,
    max_frames: Annotated[int, typer.Option(min=1, max=100, help="Frames per video.")] = 24,
) -> None:
    """Risk of each image and video, with its signals and reasons: sexual-content score,
    faces with apparent age, size; for a video, its highest-risk key frame and that frame's
    time. One JSON object per file, in input order; unreadable files are error rows."""
    require_models()
    weights = configured_weights()
    files = _media_files(paths)
    if files:
        load_models_or_exit()
    if not files:
        err.print("error: no image or video files found", highlight=False)
        raise typer.Exit(EXIT_NOTHING_DONE)
    n_workers = workers or max(1, min(len(files), os.cpu_count() or 1))
    jobs = [(str(p), weights, video_seconds, max_frames) for p in files]
    rows: list[dict[str, Any]] = []
    done = failed = 0
    with Progress(console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("scoring media", total=len(jobs))
        if n_workers == 1:
            results = map(_score_one, jobs)
        else:
            pool = ProcessPoolExecutor(max_workers=n_workers)
            results = pool.map(_score_one, jobs, chunksize=4)
        try:
            for rec in results:
                progress.advance(task)
                if "error" in rec:
                    failed += 1
                    err.print(f"{rec['path']}: {rec['error']}", highlight=False)
                else:
                    done += 1
                if fmt is ScoreFormat.jsonl:
                    sys.stdout.write(json.dumps(rec, ensure_ascii=False) + "\n")
                    sys.stdout.flush()
                else:
                    rows.append(rec)
        finally:
            if n_workers > 1:
                pool.shutdown(cancel_futures=True)
    if rows:
        t = Table("risk", "path", "sexual content", "faces (youngest apparent age)", "frame s",
                  title="Review first: highest risk first. " + NOT_A_VERDICT)  # fmt: skip
        for r in sorted(rows, key=lambda r: -r.get("risk", -1.0)):
            faces = r.get("faces") or []
            young = min(faces, key=lambda f: f["age_low"]) if faces else None
            t.add_row(
                f"{r['risk']:.2f}" if "risk" in r else "error",
                r["path"],
                f"{r['nsfw']:.2f}" if "nsfw" in r else r.get("error", ""),
                f"{len(faces)} ({young['age_low']:.0f}-{young['age_high']:.0f})" if young else "0",
                f"{r['frame_time']:.1f}" if "frame_time" in r else "",
            )
        out.print(t)
    finish(done, failed)


LABELS_RISKY = {"baseline", "national", "csa", "1", "true", "yes"}
LABELS_NOT = {"not_illegal", "benign", "adult", "0", "false", "no"}


def read_reviews(path: Path) -> tuple[list[tuple[float, ...]], list[int], list[str]]:
    """Rows with media signals and a review label from ``ocsea reviews export`` (or any CSV with
    the columns nsfw, minor_face, small_image and classification or label). Rows without
    media signals or without a known label are skipped and counted."""
    from ocsea.media.risk import FEATURES

    xs: list[tuple[float, ...]] = []
    ys: list[int] = []
    problems: list[str] = []
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        cols = set(reader.fieldnames or ())
        missing = [c for c in ("nsfw", "minor_face") if c not in cols]
        if missing or not ({"classification", "label"} & cols):
            need = ", ".join(missing + ([] if {"classification", "label"} & cols else ["label"]))
            raise ValueError(f"{path}: missing column(s) {need} (use `ocsea reviews export`)")
        for line, row in enumerate(reader, start=2):
            label = (row.get("classification") or row.get("label") or "").strip().lower()
            if not (row.get("nsfw") or "").strip():
                continue  # a reviewed finding without media signals (a text-only item)
            if label not in LABELS_RISKY | LABELS_NOT:
                problems.append(f"line {line}: unknown label {label!r}")
                continue
            try:
                nsfw = float(row["nsfw"])
                minor = float(row.get("minor_face") or 0.0)
                small = float(row.get("small_image") or 0.0)
            except ValueError:
                problems.append(f"line {line}: a signal is not a number")
                continue
            if not all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in (nsfw, minor, small)):
                problems.append(f"line {line}: signals must be within 0..1")
                continue
            feats = dict(zip(FEATURES, (nsfw, minor, nsfw * minor, small), strict=True))
            xs.append(tuple(feats[f] for f in FEATURES))
            ys.append(1 if label in LABELS_RISKY else 0)
    return xs, ys, problems


@media_app.command("calibrate")
def calibrate_cmd(
    reviews_csv: Annotated[Path, typer.Argument(help="`ocsea reviews export` CSV.")],
    out_path: Annotated[
        Path | None, typer.Option("--out", help="Write the [media.risk] table to this file.")
    ] = None,
    min_rows: Annotated[int, typer.Option(min=10, help="Fewest labelled rows to fit on.")] = 40,
) -> None:
    """Refit the media risk weights on your own reviewed cases (baseline/national against not
    illegal), on this machine: only the numbers leave the reviews, never an image. Prints the
    [media.risk] table for ocsea.toml and how well the fitted and the current weights rank the
    reviewed files (cross-validated ROC AUC)."""
    from ocsea.media.calibrate import CalibrationError, fit_weights

    try:
        xs, ys, problems = read_reviews(reviews_csv)
    except (OSError, ValueError) as exc:
        err.print(f"error: {exc}", highlight=False)
        raise typer.Exit(EXIT_NOTHING_DONE) from None
    for p in problems[:20]:
        err.print(f"{reviews_csv}: {p}", highlight=False)
    try:
        fit = fit_weights(xs, ys, configured_weights(), min_rows=min_rows)
    except CalibrationError as exc:
        err.print(f"error: {exc}", highlight=False)
        raise typer.Exit(EXIT_NOTHING_DONE) from None
    table = fit.toml()
    if out_path is not None:
        out_path.write_text(table, encoding="utf-8")
        err.print(f"written to {out_path}", highlight=False)
    else:
        sys.stdout.write(table)
    err.print(
        f"{fit.n} reviewed files ({fit.n_positive} baseline/national); ROC AUC, 5-fold: "
        f"fitted {fit.auc_fitted:.3f}, current weights {fit.auc_current:.3f}. {NOT_A_VERDICT}.",
        highlight=False,
    )
    negative = [k for k in ("nsfw", "minor_face", "nsfw_x_minor_face") if fit.weights[k] < 0]
    if negative:
        err.print(
            f"warning: {', '.join(negative)} came out negative: on these reviews a stronger signal "
            "means less risk, which is more likely a sign of too few or unrepresentative reviews "
            "than of the signal. Keep the current weights unless you know why.",
            highlight=False,
        )
    err.print(
        "note: reviewed files are mostly those already ranked high; review a random sample of "
        "low-risk files too, or the fit learns only the top of the queue.",
        highlight=False,
    )
    if problems:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.add_typer(media_app, name="media")
