"""`ocsea demo`: classify the bundled synthetic query log and filename list, write a report."""

from __future__ import annotations

import csv
import html
import time
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ocsea.text.detector import Detector, Verdict

SOURCES = {"query log": "queries.txt", "filename list": "filenames.txt"}


def _bundled(name: str) -> list[str]:
    text = resources.files("ocsea.demo").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def run_demo(out_dir: Path, top: int, out: Console, err: Console) -> None:
    t0 = time.perf_counter()
    det = Detector.load()
    load_s = time.perf_counter() - t0
    findings: list[tuple[str, Verdict]] = []
    for source, name in SOURCES.items():
        for line in _bundled(name):
            findings.append((source, det.classify(line)))
    took = time.perf_counter() - t0
    findings.sort(key=lambda f: -f[1].score)
    counts = {
        lab: sum(1 for _, v in findings if v.label == lab) for lab in ("csa", "adult", "benign")
    }
    out.print(
        f"classified {len(findings)} texts in {took:.2f}s (model load {load_s:.2f}s): "
        f"[bold red]{counts['csa']} csa[/], [yellow]{counts['adult']} adult[/], "
        f"[green]{counts['benign']} benign[/]"
    )
    table = Table("source", "score", "text", "reasons", title=f"top {top} findings")
    for source, v in findings[:top]:
        table.add_row(source, f"{v.score:.3f}", v.text, _reason_text(v))
    out.print(table)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / "report.csv", findings)
    _write_html(out_dir / "report.html", findings, counts, took)
    out.print(f"report: {out_dir / 'report.html'} and {out_dir / 'report.csv'}")


def _reason_text(v: Verdict) -> str:
    return "; ".join(
        f"{r.category}: {r.term}" for r in v.reasons if r.kind in ("lexicon", "age", "rule")
    )


def _write_csv(path: Path, findings: list[tuple[str, Verdict]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["rank", "source", "label", "score", "p_adult", "p_benign", "text", "reasons"])
        for i, (source, v) in enumerate(findings, start=1):
            w.writerow(
                [
                    i,
                    source,
                    v.label,
                    f"{v.score:.4f}",
                    f"{v.probs['adult']:.4f}",
                    f"{v.probs['benign']:.4f}",
                    v.text,
                    _reason_text(v),
                ]
            )


def _write_html(path: Path, findings: list[tuple[str, Verdict]], counts: dict, took: float) -> None:
    e = html.escape
    rows = []
    for i, (source, v) in enumerate(findings, start=1):
        if v.label == "benign" and i > 200:
            break
        rows.append(
            f"<tr class='{e(v.label)}'><td>{i}</td><td>{e(source)}</td><td>{e(v.label)}</td>"
            f"<td>{v.score:.3f}</td><td>{e(v.text)}</td><td>{e(_reason_text(v))}</td></tr>"
        )
    doc = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ocsea demo report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}}
tr.csa td:nth-child(3){{color:#b00;font-weight:bold}}tr.adult td:nth-child(3){{color:#a60}}
.summary span{{margin-right:2rem}}
</style></head><body>
<h1>ocsea text detection — demo report</h1>
<p class="summary"><span>texts: {len(findings)}</span><span>csa: {counts["csa"]}</span>
<span>adult: {counts["adult"]}</span><span>benign: {counts["benign"]}</span><span>time: {took:.2f}s</span></p>
<p>Synthetic, keyword-level sample data. Ranked by P(csa); every row lists the evidence behind it.</p>
<table><thead><tr><th>#</th><th>source</th><th>label</th><th>P(csa)</th><th>text</th><th>reasons</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table></body></html>
"""
    path.write_text(doc, encoding="utf-8")
