"""Triage report: ranked findings, sharers and query intelligence as HTML (offline, charts
embedded), CSV and JSON. No media, ever: names, hashes, counts."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from ocsea.store.db import findings, items, observations, sharers
from ocsea.triage.run import flagged_share_by_day, top_flagged_queries
from ocsea.triage.terms import Candidate
from ocsea.web.assets import FONT_FAMILY, REPORT_SCRIPT_SRC, report_font_css, report_script


def ranked_findings(engine: Engine, limit: int = 500) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                findings.c.id,
                findings.c.kind,
                findings.c.priority,
                findings.c.breakdown,
                items.c.text,
                items.c.sha1,
                items.c.md5,
                items.c.id.label("item_id"),
            )
            .join(items, items.c.id == findings.c.item_id)
            .order_by(findings.c.priority.desc(), findings.c.id)
            .limit(limit)
        ).all()
        ids = [r.item_id for r in rows]
        n_sh = (
            dict(
                conn.execute(
                    select(
                        observations.c.item_id, func.count(func.distinct(observations.c.sharer_id))
                    )
                    .where(observations.c.item_id.in_(ids))
                    .group_by(observations.c.item_id)
                ).all()
            )
            if ids
            else {}
        )
    return [
        {
            "rank": i,
            "finding_id": r.id,
            "kind": r.kind,
            "priority": r.priority,
            "name": r.text,
            "sha1": r.sha1,
            "md5": r.md5,
            "sharers": n_sh.get(r.item_id, 0),
            "lists": r.breakdown.get("lists", []),
            "reasons": r.breakdown.get("reasons", []),
            "factors": r.breakdown.get("factors", {}),
        }
        for i, r in enumerate(rows, start=1)
    ]


def top_sharers(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(sharers)
            .where(sharers.c.priority.is_not(None))
            .order_by(sharers.c.priority.desc(), sharers.c.id)
            .limit(limit)
        ).all()
        ids = [r.id for r in rows]
        ips: dict[int, list[dict]] = defaultdict(list)
        if ids:
            for r in conn.execute(
                select(
                    observations.c.sharer_id,
                    observations.c.ip,
                    func.min(observations.c.seen_at),
                    func.max(observations.c.seen_at),
                    func.count(),
                )
                .where(observations.c.sharer_id.in_(ids), observations.c.ip.is_not(None))
                .group_by(observations.c.sharer_id, observations.c.ip)
            ):
                ips[r[0]].append(
                    {
                        "ip": r[1],
                        "first_seen": str(r[2]),
                        "last_seen": str(r[3]),
                        "observations": r[4],
                    }
                )
    return [
        {
            "rank": i,
            "sharer_id": r.id,
            "network": r.network,
            "guid": r.guid,
            "client": r.client,
            "priority": r.priority,
            "first_seen": str(r.first_seen),
            "last_seen": str(r.last_seen),
            **(r.breakdown or {}),
            "ips": ips.get(r.id, []),
        }
        for i, r in enumerate(rows, start=1)
    ]


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def _charts(engine: Engine, fnd: list[dict], shr: list[dict], share: list) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = {}
    if fnd:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist([f["priority"] for f in fnd], bins=30, color="#a33")
        ax.set_xlabel("priority")
        ax.set_ylabel("findings")
        ax.set_title("Priority distribution")
        out["priority"] = _png(fig)
        with engine.connect() as conn:
            rows = conn.execute(
                select(func.date(observations.c.seen_at), findings.c.kind, func.count())
                .join(findings, findings.c.item_id == observations.c.item_id)
                .group_by(func.date(observations.c.seen_at), findings.c.kind)
            ).all()
        series: dict[str, dict[str, int]] = defaultdict(dict)
        for d, k, n in rows:
            series[k][str(d)] = n
        if series:
            fig, ax = plt.subplots(figsize=(7, 3))
            for k, pts in sorted(series.items()):
                xs = sorted(pts)
                ax.plot(xs, [pts[x] for x in xs], marker=".", label=k)
            ax.set_title("Observations of flagged and known files per day")
            days = sorted({x for pts in series.values() for x in pts})
            ax.set_xticks(days[:: max(1, len(days) // 10)])
            ax.legend(fontsize=8)
            ax.tick_params(axis="x", labelrotation=45, labelsize=7)
            out["timeline"] = _png(fig)
    if shr:
        top = shr[:15][::-1]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.barh(
            [f"{s['network']}:{s['guid'][:10]}" for s in top],
            [s["priority"] for s in top],
            color="#345",
        )
        ax.set_title("Top sharers by priority")
        ax.tick_params(axis="y", labelsize=7)
        out["sharers"] = _png(fig)
    if share:
        fig, ax = plt.subplots(figsize=(7, 3))
        ax.plot(
            [str(d) for d, _, _ in share],
            [100 * f / a if a else 0 for _, f, a in share],
            marker=".",
            color="#a33",
        )
        ax.set_ylabel("% of queries flagged")
        ax.set_title("Flagged share of search queries")
        ax.set_xticks([str(d) for d, _, _ in share][:: max(1, len(share) // 10)])
        ax.tick_params(axis="x", labelrotation=45, labelsize=7)
        out["queries"] = _png(fig)
    return out


def write_report(
    out_dir: Path, engine: Engine, candidates: list[Candidate], summary: dict[str, Any]
) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    fnd = ranked_findings(engine)
    shr = top_sharers(engine)
    share = flagged_share_by_day(engine)
    topq = top_flagged_queries(engine)
    cands = [c.__dict__ | {"examples": list(c.examples)} for c in candidates]
    doc = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "summary": summary, "findings": fnd,
           "sharers": shr, "flagged_share_by_day": [[str(d), f, a] for d, f, a in share],
           "top_flagged_queries": topq, "term_candidates": cands}  # fmt: skip
    (out_dir / "report.json").write_text(
        json.dumps(doc, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    with (out_dir / "findings.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "rank",
                "kind",
                "priority",
                "name",
                "sha1",
                "md5",
                "sharers",
                "lists",
                "reasons",
                "factors",
            ]
        )
        for f in fnd:
            w.writerow([f["rank"], f["kind"], f["priority"], f["name"], f["sha1"] or "", f["md5"] or "", f["sharers"],
                        "; ".join(f["lists"]), "; ".join(f["reasons"]), json.dumps(f["factors"])])  # fmt: skip
    with (out_dir / "sharers.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "rank",
                "network",
                "guid",
                "client",
                "priority",
                "files",
                "unknown_flagged_files",
                "known_files",
                "producer",
                "first_seen",
                "last_seen",
                "ips",
            ]
        )
        for s in shr:
            w.writerow([s["rank"], s["network"], s["guid"], s["client"] or "", s["priority"], s.get("files"), s.get("unknown_flagged_files"),
                        s.get("known_files"), s.get("producer"), s["first_seen"], s["last_seen"], " ".join(i["ip"] for i in s["ips"])])  # fmt: skip
    with (out_dir / "terms.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["term", "g2", "flagged", "total", "rising", "examples"])
        for c in candidates:
            w.writerow(
                [
                    c.term,
                    c.g2,
                    c.flagged,
                    c.total,
                    c.rising if c.rising is not None else "",
                    " | ".join(c.examples),
                ]
            )
    charts = _charts(engine, fnd, shr, share)
    e = html.escape

    def img(key: str) -> str:
        return f'<img alt="{e(key)}" src="{charts[key]}">' if key in charts else ""

    frows = "".join(
        f"<tr><td>{f['rank']}</td><td>{e(f['kind'])}</td><td>{f['priority']:.2f}</td><td>{e(f['name'] or '')}</td>"
        f"<td>{f['sharers']}</td><td>{e('; '.join(f['lists']))}</td><td>{e('; '.join(f['reasons']))}</td>"
        f"<td>{e(', '.join(f'{k}={v}' for k, v in f['factors'].items()))}</td></tr>"
        for f in fnd[:200]
    )
    srows = "".join(
        f"<tr><td>{s['rank']}</td><td>{e(s['network'])}</td><td>{e(s['guid'])}</td><td>{s['priority']:.2f}</td>"
        f"<td>{s.get('files')}</td><td>{s.get('unknown_flagged_files')}</td><td>{s.get('known_files')}</td>"
        f"<td>{'yes' if s.get('producer') else ''}</td><td>{e(s['first_seen'][:19])} – {e(s['last_seen'][:19])}</td>"
        f"<td>{e(', '.join(i['ip'] for i in s['ips'][:5]))}</td></tr>"
        for s in shr
    )
    trows = "".join(
        f"<tr><td>{e(c.term)}</td><td>{c.g2:.1f}</td><td>{c.flagged}</td><td>{c.total}</td>"
        f"<td>{'' if c.rising is None else f'{100 * c.rising:.0f}%'}</td><td>{e(' | '.join(c.examples))}</td></tr>"
        for c in candidates[:50]
    )
    qrows = "".join(f"<tr><td>{e(q)}</td><td>{n}</td><td>{s:.2f}</td></tr>" for q, n, s in topq)
    summ = " · ".join(f"{e(str(k))}: {e(str(v))}" for k, v in summary.items())
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ocsea triage report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; script-src {REPORT_SCRIPT_SRC}">
<style>{report_font_css()}body{{font-family:{FONT_FAMILY};margin:2rem;color:#222;max-width:1400px}}table{{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}}
td,th{{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top;font-size:85%}}img{{max-width:48%;margin:.3rem}}</style></head><body>
<h1>ocsea triage report</h1><p>{summ}</p>
<p>{img("priority")}{img("timeline")}{img("sharers")}{img("queries")}</p>
<h2>Findings, most important first</h2><p>unknown-flagged: the text detector flags the file and no hash list knows it — possibly new material.</p>
<table><tr><th>#</th><th>kind</th><th>priority</th><th>file name</th><th>sharers</th><th>hash lists</th><th>reasons</th><th>priority breakdown</th></tr>{frows}</table>
<h2>Sharers</h2><table><tr><th>#</th><th>network</th><th>GUID</th><th>priority</th><th>files</th><th>unknown flagged</th><th>known</th><th>possible producer</th><th>seen</th><th>IPs</th></tr>{srows}</table>
<h2>Most frequent flagged queries</h2><table><tr><th>normalised query</th><th>count</th><th>P(csa)</th></tr>{qrows}</table>
<h2>New-term candidates (not in the lexicon; ranked by log-likelihood ratio with flagged queries)</h2>
<p>Accept with <code>ocsea terms accept TERM</code>; accepted terms join the lexicon with provenance.</p>
<table><tr><th>term</th><th>G²</th><th>in flagged queries</th><th>in all queries</th><th>share in last 7 days</th><th>examples</th></tr>{trows}</table>
{report_script()}</body></html>
"""
    (out_dir / "report.html").write_text(page, encoding="utf-8")
    return out_dir / "report.html"
