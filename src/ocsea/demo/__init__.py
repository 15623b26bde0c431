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
from ocsea.web.assets import (
    FONT_FAMILY,
    REPORT_SCRIPT_SRC,
    report_font_css,
    report_nav,
    report_script,
)

SOURCES = {"query log": "queries.txt", "filename list": "filenames.txt"}


def _bundled(name: str) -> list[str]:
    text = resources.files("ocsea.demo").joinpath(name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


DEMO_PSEUDONYM_KEY = b"ocsea-demo-key: synthetic data only, never use in production"


def run_demo(out_dir: Path, top: int, out: Console, err: Console, end_to_end: bool = True) -> None:
    """Text detection on the bundled samples, then (``end_to_end``) the whole story on generated
    synthetic data: hash list, scan, P2P and query-log ingest, triage and reports."""
    run_text_demo(out_dir / "text", top, out)
    if end_to_end:
        run_story(out_dir, top, out, err)


def run_story(out_dir: Path, top: int, out: Console, err: Console) -> None:
    import shutil

    from ocsea.config import load_settings
    from ocsea.demo.synthetic import make_demo_data
    from ocsea.hashlists.store import import_file
    from ocsea.ingest.p2p import ingest_p2p
    from ocsea.ingest.queries import ingest_queries
    from ocsea.ingest.scan import ingest_scan
    from ocsea.match.matcher import Matcher
    from ocsea.scan.report import write_report as write_scan_report
    from ocsea.scan.runner import rank_records, run_scan
    from ocsea.scan.worker import ScanOptions
    from ocsea.store.db import make_engine
    from ocsea.triage.report import ranked_findings, top_sharers, write_report
    from ocsea.triage.run import discover_terms, run_triage

    t0 = time.perf_counter()
    for sub in ("data", "scan", "triage", "cases"):
        shutil.rmtree(out_dir / sub, ignore_errors=True)
    db_path = out_dir / "ocsea.db"
    for p in out_dir.glob("ocsea.db*"):  # the store, its WAL, and its match index folder
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    out.rule("end-to-end: synthetic P2P log, query log, benign images")
    data = make_demo_data(out_dir / "data")
    engine = make_engine(f"sqlite:///{db_path}")
    settings = load_settings()
    settings.pseudonym_key = DEMO_PSEUDONYM_KEY
    r = import_file(engine, data.hash_list, "demo-known", source="generated benign images (demo)")
    out.print(f"hash list 'demo-known': {r.n_new} entries")
    # Content risk of unknown images when the [media] models are installed (make installs them).
    from ocsea.media.models import installed

    summary = run_scan(
        data.images, out_dir / "scan", ScanOptions(video=False, media_risk=installed()), workers=2
    )
    matcher = Matcher.from_store(engine)
    det = Detector.load()
    found = rank_records(summary.records, data.images, matcher, det)
    write_scan_report(out_dir / "scan", data.images, summary, found, {"demo": True})
    out.print(f"scan of {summary.files_seen} images: {sum(f.kind == 'known' for f in found)} known")
    ingest_scan(engine, out_dir / "scan", det, matcher)
    p = ingest_p2p(engine, data.p2p_log, det, settings)
    q = ingest_queries(engine, data.query_log, det, settings)
    out.print(f"ingested {p.rows_done} P2P records and {q.rows_done} search queries")
    s = run_triage(
        engine, settings.triage_weights, matcher, media_weights=settings.media_risk_weights or None
    )
    tok = det.lexicon.tokenizer
    cands = discover_terms(
        engine, det.lexicon.known_keys(), lambda t: [x.text for x in tok.tokenize(t)]
    )
    summ = {"files": s.items, "findings": s.findings, **s.by_kind, "sharers": s.sharers}
    report = write_report(out_dir / "triage", engine, cands, summ)
    table = Table("#", "kind", "priority", "file name", "why", title=f"top {top} findings")
    for f in ranked_findings(engine, top):
        table.add_row(
            str(f["rank"]),
            f["kind"],
            f"{f['priority']:.2f}",
            f["name"] or "",
            "; ".join(f["lists"]) or "; ".join(f["reasons"][:3]),
        )
    out.print(table)
    st = Table("#", "GUID", "priority", "unknown flagged files", "known files", title="top sharers")
    for sh in top_sharers(engine, 5):
        st.add_row(
            str(sh["rank"]),
            sh["guid"],
            f"{sh['priority']:.1f}",
            str(sh.get("unknown_flagged_files")),
            str(sh.get("known_files")),
        )
    out.print(st)
    out.print("new-term candidates: " + ", ".join(f"{c.term} (G²={c.g2:.0f})" for c in cands[:5]))
    run_casework(engine, data.p2p_log, out_dir, settings.referrals, top, out)
    _write_index(out_dir)
    out.print(f"done in {time.perf_counter() - t0:.1f}s. Report: {out_dir / 'report.html'} "
              f"(triage: {report}; scan: {out_dir / 'scan' / 'report.html'}; text: {out_dir / 'text' / 'report.html'}; cases: {out_dir / 'cases' / 'cases.html'})")  # fmt: skip


def run_casework(engine, p2p_log: Path, out_dir: Path, settings, top: int, out: Console) -> None:
    """Referrals in every format (planted networks, one naming a P2P sharer of the log), the
    networks and cases they form, and cross-border requests falling due."""
    from dataclasses import replace
    from datetime import UTC, datetime, timedelta

    from ocsea.demo.referrals import make_referrals
    from ocsea.referrals.legal_requests import LegalRequest
    from ocsea.referrals.priority import top_factors
    from ocsea.referrals.requests_store import add, change, due_list
    from ocsea.referrals.store import (
        import_documents,
        networks,
        read_inputs,
        rebuild_cases,
        top_cases,
    )
    from ocsea.store.db import referrals

    out.rule("casework: referrals, networks, cases, cross-border requests")
    # The demo's documentation ranges stand in for Thai address space.
    settings = replace(settings, thai_ip_ranges=[*settings.thai_ip_ranges, "2001:db8:71::/48"])
    demo = make_referrals(out_dir / "data" / "referrals", p2p_log=p2p_log)
    res = import_documents(engine, read_inputs([demo.archive]), "demo", settings=settings)
    out.print(f"referrals: {res.new} imported from {demo.archive.name}, {len(res.duplicates)} duplicate, "
              f"{len(res.rejected)} rejected ({'; '.join(r.split('!')[-1][:70] for r in res.rejected)})")  # fmt: skip
    rebuild_cases(engine, settings, "demo")
    g, nets = networks(engine, settings, central_top=5)
    for i, net in enumerate(nets[:5], 1):
        joins = "; ".join(f"{j.kind} {j.value[:40]} [{j.strength}]" for j in net.joins[:3])
        who = ", ".join(str(g.nodes[a].get("label", a)) for a in net.actors[:5])
        out.print(f"network {i}: {who}{' …' if len(net.actors) > 5 else ''}\n    joined by {joins}",
                  highlight=False, markup=False)  # fmt: skip
    with engine.connect() as conn:
        report_of = dict(
            conn.execute(
                referrals.select().with_only_columns(referrals.c.id, referrals.c.report_id)
            ).all()
        )
    t = Table("case", "priority", "referrals", "sharers", "top factors", title="top cases")
    for c in top_cases(engine, min(top, 8)):
        t.add_row(c.key, f"{c.priority:.2f}", ", ".join(report_of[r] for r in c.referral_ids[:4]),
                  str(len(c.sharer_ids)), top_factors(c.breakdown))  # fmt: skip
    out.print(t)
    today = datetime.now(UTC).date()
    pres = add(engine, LegalRequest("preservation", "outgoing", "Thailand", "United States", provider="ChatApp",
                                    sent_on=today - timedelta(days=82), referrals=("7100001", "7100003"),
                                    entities=("promptpay:+66875550107",)), "demo", settings)  # fmt: skip
    change(engine, pres.id, "demo", settings, status="acknowledged", on=today - timedelta(days=80))
    add(engine, LegalRequest("mlat", "outgoing", "Thailand", "United States", central_authority="Office of the Attorney General",
                             legal_basis="Thai–US MLAT (1986)", provider="CloudDrive", sent_on=today - timedelta(days=190),
                             referrals=("7200001",)), "demo", settings)  # fmt: skip
    add(engine, LegalRequest("emergency_disclosure", "outgoing", "Thailand", "Singapore", provider="StreamHub",
                             sent_on=today - timedelta(days=1), referrals=("XML-730001",)), "demo", settings)  # fmt: skip
    add(engine, LegalRequest("mlat", "incoming", "Australia", "Thailand", legal_basis="Thai–Australia MLAT",
                             referrals=("AG-2026-001",)), "demo", settings)  # fmt: skip
    from ocsea.referrals.report import write_report

    write_report(out_dir / "cases", engine, settings, within=timedelta(days=14))
    t = Table(
        "request",
        "what",
        "date",
        "days",
        "type",
        "to",
        "provider",
        title="requests due within 14 days",
    )
    for d in due_list(engine, timedelta(days=14), today):
        t.add_row(str(d.request_id), d.what, d.on.isoformat(), str(d.days_left), d.request.type,
                  d.request.requested_state, d.request.provider)  # fmt: skip
    out.print(t)


def _write_index(out_dir: Path) -> None:
    links = [("triage/report.html", "Triage: ranked findings, sharers, query intelligence, new terms"),
             ("scan/report.html", "Scan of a folder of benign images against the demo hash list"),
             ("text/report.html", "Text detection on the bundled query log and filename list"),
             ("cases/cases.html", "Casework: synthetic referrals, networks, ranked cases, requests due")]  # fmt: skip
    items = "".join(f'<li><a href="{h}">{html.escape(t)}</a></li>' for h, t in links)
    for href, _ in links:  # each report links back to this index and to the others
        page = out_dir / href
        if page.is_file():
            doc = page.read_text(encoding="utf-8")
            if "<body>" in doc and "<nav " not in doc:
                page.write_text(
                    doc.replace("<body>", "<body>" + report_nav(href), 1), encoding="utf-8"
                )
    (out_dir / "report.html").write_text(
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>ocsea demo</title>"
        f"<style>{report_font_css()}</style></head>"
        f"<body style='font-family:{FONT_FAMILY};margin:2rem'><h1>ocsea demo</h1>"
        f"<p>All data here is synthetic.</p><ul>{items}</ul></body></html>\n",
        encoding="utf-8",
    )


def run_text_demo(out_dir: Path, top: int, out: Console) -> None:
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
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; font-src data:; script-src {REPORT_SCRIPT_SRC}">
<style>{report_font_css()}
body{{font-family:{FONT_FAMILY};margin:2rem;color:#222}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}}
tr.csa td:nth-child(3){{color:#b00;font-weight:bold}}tr.adult td:nth-child(3){{color:#a60}}
.summary span{{margin-right:2rem}}
</style></head><body>
<h1>ocsea text detection — demo report</h1>
<p class="summary"><span>texts: {len(findings)}</span><span>csa: {counts["csa"]}</span>
<span>adult: {counts["adult"]}</span><span>benign: {counts["benign"]}</span><span>time: {took:.2f}s</span></p>
<p>Synthetic, keyword-level sample data. Ranked by P(csa); every row lists the evidence behind it.</p>
<table><thead><tr><th>#</th><th>source</th><th>label</th><th>P(csa)</th><th>text</th><th>reasons</th></tr></thead>
<tbody>{"".join(rows)}</tbody></table>{report_script()}</body></html>
"""
    path.write_text(doc, encoding="utf-8")
