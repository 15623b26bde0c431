"""Casework report for a folder: ranked cases with their breakdown, networks with what joins
them, requests falling due — HTML readable offline, plus CSV and JSON. Identifiers only; never
media, never the free text of a referral."""

from __future__ import annotations

import csv
import html
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from ocsea.config import ReferralSettings
from ocsea.referrals.requests_store import due_list
from ocsea.referrals.store import networks, top_cases
from ocsea.store.db import referrals
from ocsea.web.assets import FONT_FAMILY, REPORT_SCRIPT_SRC, report_font_css, report_script

_STYLE = (f"body{{font-family:{FONT_FAMILY};margin:2rem;max-width:80rem}}"
          "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
          "vertical-align:top;text-align:left}th{background:#f3f3f3}.late{color:#a00;font-weight:600}")  # fmt: skip


def _e(x: object) -> str:
    return html.escape(str(x))


def write_report(out_dir: Path, engine: Engine, settings: ReferralSettings, top: int = 100,
                 within: timedelta = timedelta(days=14)) -> Path:  # fmt: skip
    """cases.html, cases.csv, cases.json, networks.json and requests-due.csv under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        label = {r.id: f"{r.source} {r.report_id}" for r in conn.execute(
            select(referrals.c.id, referrals.c.source, referrals.c.report_id))}  # fmt: skip
    rows = top_cases(engine, top)
    g, nets = networks(engine, settings, central_top=min(top, 50))
    due = due_list(engine, within)
    case_json = [{"key": r.key, "priority": r.priority, "referrals": [label.get(i, i) for i in r.referral_ids],
                  "sharers": r.sharer_ids, "breakdown": r.breakdown, "evidence": r.evidence} for r in rows]  # fmt: skip
    (out_dir / "cases.json").write_text(
        json.dumps(case_json, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    with (out_dir / "cases.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["rank", "case", "priority", "referrals", "sharers", "factors"])
        for i, c in enumerate(case_json, 1):
            w.writerow([i, c["key"], c["priority"], "; ".join(map(str, c["referrals"])), len(c["sharers"]),
                        "; ".join(f"{k} {v:+.2f}" for k, v in sorted(c["breakdown"].items(), key=lambda kv: -kv[1]))])  # fmt: skip
    net_json = [{"actors": [str(g.nodes[a].get("label", a)) for a in n.actors],
                 "joined_by": [{"kind": j.kind, "value": j.value, "strength": j.strength,
                                "actors": [str(g.nodes[a].get("label", a)) for a in j.actors]} for j in n.joins]}
                for n in nets[:top]]  # fmt: skip
    (out_dir / "networks.json").write_text(
        json.dumps(net_json, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    with (out_dir / "requests-due.csv").open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "request",
                "what",
                "date",
                "days_left",
                "type",
                "status",
                "requested_state",
                "provider",
            ]
        )
        for d in due:
            w.writerow([d.request_id, d.what, d.on.isoformat(), d.days_left, d.request.type, d.request.status,
                        d.request.requested_state, d.request.provider])  # fmt: skip
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>ocsea casework</title>"
             "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; "
             f"style-src 'unsafe-inline'; font-src data:; script-src {REPORT_SCRIPT_SRC}\">"
             f"<style>{report_font_css()}{_STYLE}</style></head><body><h1>Casework</h1>"
             f"<p>Written {datetime.now(UTC):%Y-%m-%d %H:%M} UTC. Identifiers only. Also: cases.csv, cases.json, "
             "networks.json, requests-due.csv.</p>"]  # fmt: skip
    parts.append(f"<h2>Requests due within {within.days} days</h2>")
    if due:
        parts.append("<table><tr><th>request</th><th>what</th><th>date</th><th>days</th><th>type</th>"
                     "<th>status</th><th>to</th><th>provider</th></tr>")  # fmt: skip
        for d in due:
            cls = " class='late'" if d.what in ("overdue", "expired") else ""
            parts.append(f"<tr{cls}><td>{d.request_id}</td><td>{_e(d.what)}</td><td>{d.on}</td><td>{d.days_left}</td>"
                         f"<td>{_e(d.request.type)}</td><td>{_e(d.request.status)}</td>"
                         f"<td>{_e(d.request.requested_state)}</td><td>{_e(d.request.provider)}</td></tr>")  # fmt: skip
        parts.append("</table>")
    else:
        parts.append("<p>Nothing due.</p>")
    parts.append(f"<h2>Top {len(case_json)} cases</h2><table><tr><th>#</th><th>case</th><th>priority</th>"
                 "<th>referrals</th><th>why</th></tr>")  # fmt: skip
    for i, c in enumerate(case_json, 1):
        why = "<br>".join(f"<b>{_e(k)}</b> {v:+.2f}: {_e('; '.join(c['evidence'].get(k, [])))}"
                          for k, v in sorted(c["breakdown"].items(), key=lambda kv: -abs(kv[1])))  # fmt: skip
        refs = ", ".join(_e(x) for x in c["referrals"][:20]) + (
            " …" if len(c["referrals"]) > 20 else ""
        )
        sh = f"<br>{len(c['sharers'])} P2P sharers" if c["sharers"] else ""
        parts.append(f"<tr><td>{i}</td><td>{_e(c['key'])}</td><td>{c['priority']:.2f}</td><td>{refs}{sh}</td>"
                     f"<td>{why}</td></tr>")  # fmt: skip
    parts.append("</table>")
    parts.append(f"<h2>Networks ({len(nets)})</h2>")
    for i, n in enumerate(net_json[:50], 1):
        joins = "".join(f"<li>{_e(j['kind'])} <code>{_e(j['value'])}</code> [{_e(j['strength'])}]: "
                        f"{_e(', '.join(j['actors'][:8]))}</li>" for j in n["joined_by"][:10])  # fmt: skip
        parts.append(f"<h3>network {i}: {len(n['actors'])} actors</h3><p>{_e(', '.join(n['actors'][:15]))}</p>"
                     f"<ul>{joins}</ul>")  # fmt: skip
    parts.append(report_script() + "</body></html>\n")
    path = out_dir / "cases.html"
    path.write_text("".join(parts), encoding="utf-8")
    return path
