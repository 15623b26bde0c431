"""Scan report: HTML readable offline, CSV and JSON; most important first."""

from __future__ import annotations

import csv
import html
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocsea.scan.runner import Finding, ScanSummary
from ocsea.web.assets import FONT_FAMILY, REPORT_SCRIPT_SRC, report_font_css, report_script

SECTIONS = (
    ("suspicious-unknown", "Suspicious names, no known match (possible new material)"),
    ("known", "Known material (exact hash match)"),
    ("near-duplicate", "Near-duplicates of known material (PDQ / vPDQ)"),
    (
        "review-first",
        "Unknown media to review first (content risk: a priority, never a finding of illegality)",
    ),
    ("suspicious-adult", "Adult-sexual names, no known match"),
    ("error", "Unreadable or skipped files"),
)


def write_report(
    out_dir: Path, root: Path, summary: ScanSummary, findings: list[Finding], meta: dict[str, Any]
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {k: sum(1 for f in findings if f.kind == k) for k, _ in SECTIONS}
    doc = {
        "root": str(root),
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "files_seen": summary.files_seen,
        "files_hashed_now": summary.files_hashed_now,
        "files_resumed": summary.files_resumed,
        "records": len(summary.records),
        "counts": counts,
        "meta": meta,
        "findings": [f.to_dict() for f in findings],
    }
    (out_dir / "report.json").write_text(
        json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    with (out_dir / "report.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "rank",
                "kind",
                "score",
                "path",
                "size",
                "sha256",
                "matches",
                "text_label",
                "text_score",
                "text_reasons",
                "error",
                "media_risk",
                "media_reasons",
                "frame_time",
            ]
        )
        for i, f in enumerate(findings, start=1):
            w.writerow([
                i, f.kind, f.rank_score, f.path, f.size or "", f.sha256 or "",
                "; ".join(f"{m['list']}/{m.get('category')}/{m['hash_type']}/d={m['distance']}" for m in f.matches),
                f.text_label or "", f.text_score if f.text_score is not None else "", "; ".join(f.text_reasons), f.error or "",
                f.media_risk if f.media_risk is not None else "", "; ".join(f.media_reasons),
                f.frame_time if f.frame_time is not None else "",
            ])  # fmt: skip
    e = html.escape
    parts = []
    for kind, title in SECTIONS:
        rows = [f for f in findings if f.kind == kind]
        parts.append(f"<h2>{e(title)} — {len(rows)}</h2>")
        if not rows:
            continue
        parts.append(
            "<table><tr><th>#</th><th>path</th><th>size</th><th>matches</th><th>text</th>"
            "<th>media risk (review first)</th><th>note</th></tr>"
        )
        for i, f in enumerate(rows[:5000], start=1):
            m = "<br>".join(
                e(f"{x['list']} / {x.get('category')} / {x['hash_type']} d={x['distance']}")
                for x in f.matches
            )
            t = (
                e(f"{f.text_label} {f.text_score:.2f}: " + "; ".join(f.text_reasons))
                if f.text_label
                else ""
            )
            r = (
                e(f"{f.media_risk:.2f}: " + "; ".join(f.media_reasons))
                + (e(f" (frame at {f.frame_time:.1f} s)") if f.frame_time is not None else "")
                if f.media_risk is not None
                else ""
            )
            parts.append(
                f"<tr><td>{i}</td><td>{e(f.path)}</td><td>{f.size or ''}</td><td>{m}</td><td>{t}</td><td>{r}</td><td>{e(f.error or '')}</td></tr>"
            )
        parts.append("</table>")
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ocsea scan report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; font-src data:; script-src {REPORT_SCRIPT_SRC}">
<style>{report_font_css()}body{{font-family:{FONT_FAMILY};margin:2rem;color:#222}}table{{border-collapse:collapse;width:100%;margin-bottom:1rem}}
td,th{{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;font-size:90%}}td:nth-child(2){{word-break:break-all}}</style></head><body>
<h1>ocsea scan report</h1>
<p>Root: {e(str(root))}<br>Files seen: {summary.files_seen}; hashed in this run: {summary.files_hashed_now};
resumed from an earlier run: {summary.files_resumed}; records (incl. archive members): {len(summary.records)}.<br>
No media is shown in this report: names, hashes, matches and, for unknown media, the content
risk's reasons in words. A risk says what to review first; it is never a finding of illegality.</p>
{"".join(parts)}{report_script()}</body></html>
"""
    (out_dir / "report.html").write_text(page, encoding="utf-8")
