"""CLI adapters for casework: ``referrals``, ``networks``, ``cases``, ``requests``."""

from __future__ import annotations

import getpass
import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ocsea.cli.common import DaskOption, cluster_client, cluster_spec, read_only

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ocsea.cluster.spec import ClusterSpec
    from ocsea.config import ReferralSettings

err = Console(stderr=True, soft_wrap=True)  # error lines stay whole (logs, grep)
out = Console()
referrals_app = typer.Typer(
    help="Referrals: NCMEC CyberTipline JSON, platform XML, hotline URL reports, any CSV.",
    no_args_is_help=True,
)
cases_app = typer.Typer(help="Cases: linked referrals, ranked by priority.", no_args_is_help=True)
requests_app = typer.Typer(
    help="Cross-border requests: MLAT, preservation, emergency disclosure, extradition, "
    "parallel investigation.",
    no_args_is_help=True,
)
DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: ocsea.toml / OCSEA_DATABASE_URL)."),
]


class RefFormat(StrEnum):
    auto = "auto"
    ncmec = "ncmec"
    cybertip_xml = "cybertip-xml"
    hotline = "hotline"
    csv = "csv"


class ListFormat(StrEnum):
    table = "table"
    json = "json"


class NetFormat(StrEnum):
    table = "table"
    json = "json"
    graphml = "graphml"
    csv = "csv"


def _actor() -> str:
    return f"cli:{getpass.getuser()}"


def _ctx(db: str | None):
    from ocsea.config import load_settings
    from ocsea.store.db import make_engine

    settings = load_settings()
    return settings.referrals, make_engine(db or settings.database_url)


def _days(text: str) -> timedelta:
    m = re.fullmatch(r"(\d{1,4})d", text.strip())
    if not m:
        raise typer.BadParameter("use days, e.g. 14d")
    return timedelta(days=int(m.group(1)))


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a date (YYYY-MM-DD)") from None


# ---- referrals -------------------------------------------------------------------------------
@referrals_app.command("import")
def referrals_import(
    files: Annotated[list[Path], typer.Argument(help="Files, folders or zip/tar archives.")],
    fmt: Annotated[RefFormat, typer.Option("--format", help="Force a format.")] = RefFormat.auto,
    show_warnings: Annotated[bool, typer.Option(help="List unreadable values.")] = False,
    db: DbOption = None,
    dask: DaskOption = None,
) -> None:
    """Import referrals (duplicates are skipped), then link them into cases. Exit code 1 when a
    document or record was rejected; the others are imported."""
    from rich.progress import Progress, SpinnerColumn, TextColumn

    from ocsea.referrals.store import import_documents, rebuild_cases, relink_reason

    spec = cluster_spec(dask)  # a bad --dask ends the command before anything is read
    settings, engine = _ctx(db)
    with (
        _documents(files, fmt.value, settings, engine, spec) as docs,
        Progress(SpinnerColumn(), TextColumn("{task.description}"), console=err,
                 disable=not err.is_terminal, transient=True) as bar,
    ):  # fmt: skip
        task = bar.add_task("importing", total=None)
        res = import_documents(
            engine, docs, _actor(), fmt.value, settings,
            on_document=lambda name: bar.update(task, description=f"importing {Path(name.split('!')[-1]).name}"),
        )  # fmt: skip
        bar.update(task, description="linking cases")
        # Also when a run before this one stopped between storing and linking (killed, failed).
        why = relink_reason(engine)
        n_cases = None
        if res.new or why:
            # Only the cases the new referrals can change, unless a correction waits to be applied.
            new = None if why == "decision" else res.new_ids
            n_cases = rebuild_cases(engine, settings, _actor(), new=new)
    out.print(f"{res.new} new referrals from {res.documents} documents"
              f"{f', {res.documents_already} documents already imported' if res.documents_already else ''}; "
              f"{len(res.duplicates)} duplicates, {len(res.rejected)} rejected, {len(res.warnings)} warnings"
              + (f"; {n_cases} cases linked" if n_cases is not None else ""), highlight=False, soft_wrap=True)  # fmt: skip
    for d in res.duplicates[:20]:
        err.print(f"duplicate: {escape(d)}", highlight=False)
    for r in res.rejected:
        err.print(f"[red]rejected[/] {escape(r)}", highlight=False)
    if show_warnings:
        for w in res.warnings:
            err.print(f"warning: {escape(w)}", highlight=False)
    elif res.warnings:
        err.print(f"{len(res.warnings)} values could not be read (--show-warnings lists them)")
    if res.rejected:
        raise typer.Exit(1)


@contextmanager
def _documents(files: list[Path], fmt: str, settings: ReferralSettings, engine: Engine,
               spec: ClusterSpec | None) -> Iterator[Iterable]:  # fmt: skip
    """The documents to import: read here as they are stored, or each read on a Dask worker
    first (the client still stores and links them)."""
    from ocsea.referrals.store import read_inputs, read_on_cluster

    if spec is None:
        yield read_inputs(files)
        return
    with cluster_client(spec) as client:
        yield read_on_cluster(client, engine, read_inputs(files), fmt, settings)


@referrals_app.command("list")
@read_only
def referrals_list(
    source: Annotated[str | None, typer.Option(help="ncmec, cybertip-xml, hotline or csv.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="Referrals shown.")] = 50,
    fmt: Annotated[
        ListFormat, typer.Option("--format", help="table for reading, json for tools.")
    ] = ListFormat.table,
    db: DbOption = None,
) -> None:
    """Referrals, newest first."""
    from sqlalchemy import select

    from ocsea.service import audit
    from ocsea.store.db import referrals

    _, engine = _ctx(db)
    q = select(referrals.c.id, referrals.c.source, referrals.c.report_id, referrals.c.received_at,
               referrals.c.reporter, referrals.c.incident_type, referrals.c.case_key)  # fmt: skip
    if source:
        q = q.where(referrals.c.source == source)
    with engine.connect() as conn:
        rows = conn.execute(
            q.order_by(referrals.c.received_at.desc(), referrals.c.id.desc()).limit(limit)
        ).all()
    audit.record(engine, _actor(), "referrals.list", source or "", {"returned": len(rows)})
    if fmt is ListFormat.json:
        for r in rows:
            print(
                json.dumps(
                    {**r._asdict(), "received_at": str(r.received_at) if r.received_at else None},
                    ensure_ascii=False,
                )
            )
        return
    t = Table("id", "source", "report", "received", "reporter", "incident type", "case")
    for r in rows:
        t.add_row(str(r.id), r.source, escape(r.report_id), str(r.received_at or "")[:16], escape(r.reporter or ""),
                  escape((r.incident_type or "")[:50]), r.case_key or "")  # fmt: skip
    out.print(t)


@referrals_app.command("show")
@read_only
def referrals_show(
    ident: Annotated[str, typer.Argument(help="Referral id or report id.")],
    original: Annotated[bool, typer.Option(help="Print the untouched original document.")] = False,
    fmt: Annotated[
        ListFormat, typer.Option("--format", help="table for reading, json for tools.")
    ] = ListFormat.table,
    db: DbOption = None,
) -> None:
    """One referral: what was read from it, its identifiers and its case."""
    from ocsea.referrals.store import original_document, referral_row
    from ocsea.service import audit

    _, engine = _ctx(db)
    r = referral_row(engine, ident)
    if r is None:
        raise ValueError(f"no referral {ident!r}")
    audit.record(engine, _actor(), "referral.read", str(r.id), {"original": original})
    if original:
        sys.stdout.buffer.write(original_document(engine, r.id))
        return
    s = r.summary
    if fmt is ListFormat.json:
        print(json.dumps({"id": r.id, "case": r.case_key, "document": r.file_name, "document_sha256": r.document_sha256,
                          "locator": r.locator, **s}, ensure_ascii=False, indent=2))  # fmt: skip
        return
    out.print(
        f"[bold]referral {r.id}[/] — {s['source']} report {escape(s['report_id'])}  case {r.case_key or '-'}"
    )
    out.print(f"document {escape(r.file_name)} ({r.format}, sha256 {r.document_sha256[:16]}…) at {escape(r.locator)}",
              highlight=False)  # fmt: skip
    for k in ("received_at", "incident_at", "reporter", "incident_type", "escalate"):
        if s.get(k):
            out.print(f"{k.replace('_', ' ')}: {escape(str(s[k]))}", highlight=False)
    if s.get("report_annotations"):
        out.print(f"report annotations: {', '.join(s['report_annotations'])}")
    for f in s.get("files", []):
        out.print(f"file {escape(f['name'] or '?')}: md5 {f['md5'] or '-'} sha1 {f['sha1'] or '-'}"
                  f" annotations {', '.join(f['annotations']) or '-'} class {f['classification'] or '-'}", highlight=False)  # fmt: skip
    if s.get("victim_ages"):
        out.print(f"victim ages: {', '.join(f'{a:g}' for a in s['victim_ages'])}")
    if s.get("hotline"):
        out.print("hotline: " + ", ".join(f"{k} {v}" for k, v in s["hotline"].items() if v))
    t = Table("kind", "value", "as written", "role", "when", "where")
    for m in s.get("mentions", []):
        t.add_row(
            m["kind"],
            escape(m["value"]),
            escape(m["display"]),
            m["role"],
            (m.get("at") or "")[:16],
            escape(m["field"]),
        )
    out.print(t)
    for label, key in (
        ("unknown fields kept in the original", "unknown_fields"),
        ("unreadable values", "warnings"),
    ):
        if s.get(key):
            out.print(f"{label}: {escape(', '.join(s[key][:20]))}", highlight=False)


# ---- networks and cases ----------------------------------------------------------------------
def _network_json(g, net) -> dict:
    return {
        "actors": [{"id": a, "label": g.nodes[a].get("label", a)} for a in net.actors],
        "joined_by": [{"kind": j.kind, "value": j.value, "strength": j.strength, "weight": j.weight,
                       "actors": j.actors, "evidence": j.evidence[:5]} for j in net.joins],
        "central": [{"node": n, "betweenness": c} for n, c in net.central],
        "context": [{"id": a, "label": g.nodes[a].get("label", a)} for a in net.context],
    }  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(referrals_app, name="referrals")
    app.add_typer(cases_app, name="cases")
    app.add_typer(requests_app, name="requests")

    @app.command("networks")
    @read_only
    def networks_cmd(
        fmt: Annotated[
            NetFormat,
            typer.Option("--format", help="table; json; graphml or csv for i2/Maltego/Gephi."),
        ] = NetFormat.table,
        output: Annotated[
            Path | None, typer.Option("--out", help="Write here (csv: a folder).")
        ] = None,
        confirmed_only: Annotated[bool, typer.Option(help="Join only on confirmed links.")] = False,
        top: Annotated[
            int, typer.Option(min=1, max=10_000, help="Networks shown (largest first).")
        ] = 20,
        db: DbOption = None,
    ) -> None:
        """Offender networks: actors joined through shared identifiers, with what joins them."""
        from dataclasses import replace

        from ocsea.referrals.graph import to_csv, to_graphml
        from ocsea.referrals.store import networks
        from ocsea.service import audit

        settings, engine = _ctx(db)
        if confirmed_only:
            settings = replace(settings, min_strength="confirmed")
        g, nets = networks(engine, settings, central_top=top)
        audit.record(engine, _actor(), "networks.read", fmt.value, {"networks": len(nets)})
        if fmt is NetFormat.graphml:
            text = to_graphml(g)
            if output:
                output.write_text(text, encoding="utf-8")
                out.print(
                    f"wrote {output} ({g.number_of_nodes()} nodes, {g.number_of_edges()} edges)"
                )
            else:
                print(text)
            return
        if fmt is NetFormat.csv:
            folder = output or Path(".")
            if folder.exists() and not folder.is_dir():
                raise typer.BadParameter(
                    f"{folder} is a file: csv writes nodes.csv and edges.csv into a folder"
                )
            folder.mkdir(parents=True, exist_ok=True)
            nodes, edges = to_csv(g)
            (folder / "nodes.csv").write_text(nodes, encoding="utf-8")
            (folder / "edges.csv").write_text(edges, encoding="utf-8")
            out.print(f"wrote {folder / 'nodes.csv'} and {folder / 'edges.csv'}")
            return
        if fmt is NetFormat.json:
            text = json.dumps(
                [_network_json(g, n) for n in nets[:top]], ensure_ascii=False, indent=2
            )
            if output:
                output.write_text(text, encoding="utf-8")
            else:
                print(text)
            return
        if not nets:
            out.print("no networks: no two referrals or sharers share an identifier")
            return
        for i, net in enumerate(nets[:top], 1):
            out.print(
                f"[bold]network {i}[/]: {len(net.referrals)} referrals, {len(net.sharers)} sharers, {len(net.findings)} findings"
            )
            out.print("  actors: " + escape(", ".join(g.nodes[a].get("label", a) for a in net.actors[:12]))
                      + (" …" if len(net.actors) > 12 else ""), highlight=False)  # fmt: skip
            for j in net.joins[:8]:
                extra = (
                    f" ({j.evidence[0]['gap_minutes']} min apart)"
                    if j.kind == "ip" and j.evidence
                    else ""
                )
                who = ", ".join(str(g.nodes[a].get("label", a)) for a in j.actors[:6])
                weight = f", weight {j.weight:g}" if j.weight is not None else ""
                out.print(f"  joined by {j.kind} {escape(j.value)} \\[{j.strength}{weight}]{extra}: {escape(who)}",
                          highlight=False)  # fmt: skip
                written = sorted({e["written"] for e in j.evidence if e.get("written")})
                if len(written) > 1:
                    out.print(f"    written as: {escape(' | '.join(written[:5]))}", highlight=False)
            if net.context:
                out.print("  holds files also held by: " + escape(", ".join(
                    str(g.nodes[a].get("label", a)) for a in net.context[:6])), highlight=False)  # fmt: skip
            out.print("  most central: " + escape(", ".join(f"{g.nodes[n].get('label', n)} ({c:.2f})" for n, c in net.central[:3])),
                      highlight=False)  # fmt: skip
        if len(nets) > top:
            out.print(f"… {len(nets) - top} more (--top)")


@cases_app.command("rebuild")
def cases_rebuild(
    if_needed: Annotated[
        bool,
        typer.Option(
            help="Only when referrals are waiting to be linked (after a failed or killed import)."
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Relink every referral and rescore every case (after a config change)."""
    from ocsea.referrals.store import needs_relink, rebuild_cases

    settings, engine = _ctx(db)
    if if_needed and not needs_relink(engine):
        out.print("nothing to relink: every referral is in a case, every correction applied")
        return
    out.print(f"{rebuild_cases(engine, settings, _actor())} cases")


# ---- analysts' corrections of the network graph -----------------------------------------------
def _relinked(engine, settings, decision_id: int, what: str) -> None:
    from ocsea.referrals.store import rebuild_cases

    n = rebuild_cases(engine, settings, _actor())
    out.print(f"decision {decision_id}: {what}; relinked, {n} cases", highlight=False)


NoteOption = Annotated[str, typer.Option(help="Why (kept with the decision and in the audit log).")]


@cases_app.command("split")
def cases_split(
    key: Annotated[str, typer.Argument(help="The case to split, e.g. C12.")],
    referrals: Annotated[
        str, typer.Option(help="Referral ids to keep apart from the rest, comma-separated.")
    ],
    note: NoteOption = "",
    db: DbOption = None,
) -> None:
    """Keep some of a case's referrals apart from the rest, whatever joins them, on every relink."""
    from ocsea.referrals.decisions import split_case

    settings, engine = _ctx(db)
    ids = _ids(referrals)
    did = split_case(engine, _actor(), key, ids, note)
    _relinked(
        engine,
        settings,
        did,
        f"referrals {', '.join(map(str, ids))} kept apart from the rest of {key}",
    )


@cases_app.command("merge")
def cases_merge(
    keys: Annotated[list[str], typer.Argument(help="Two or more cases, e.g. C12 C40.")],
    note: NoteOption = "",
    db: DbOption = None,
) -> None:
    """Join cases into one network, whatever the data says, on every relink."""
    from ocsea.referrals.decisions import merge_cases

    settings, engine = _ctx(db)
    did = merge_cases(engine, _actor(), keys, note)
    _relinked(engine, settings, did, f"{', '.join(keys)} joined")


@cases_app.command("not-identifying")
def cases_not_identifying(
    kind: Annotated[
        str, typer.Argument(help="email, phone, ip, url, line_id, md5, crypto, platform_id …")
    ],
    value: Annotated[
        str, typer.Argument(help="As written (it is normalised like the documents').")
    ],
    note: Annotated[str, typer.Option(help="Why, e.g. 'café Wi-Fi'.")] = "",
    db: DbOption = None,
) -> None:
    """Mark an identifier that names no one person (a shared Wi-Fi, a school gateway): it never joins."""
    from ocsea.referrals.decisions import mark_not_identifying

    settings, engine = _ctx(db)
    did = mark_not_identifying(engine, _actor(), kind, value, note, settings.region)
    _relinked(engine, settings, did, f"{kind} {value} marked not identifying")


@cases_app.command("decisions")
@read_only
def cases_decisions(
    revoked: Annotated[bool, typer.Option(help="Include revoked decisions.")] = False,
    db: DbOption = None,
) -> None:
    """Analysts' corrections of the network graph, in force (and revoked with --revoked)."""
    from ocsea.referrals.decisions import list_decisions
    from ocsea.service import audit

    _, engine = _ctx(db)
    rows = list_decisions(engine, revoked)
    audit.record(engine, _actor(), "networks.decisions", "", {"returned": len(rows)})
    t = Table("id", "action", "what", "note", "by", "at", "revoked")
    for r in rows:
        what = (f"{r.kind} {r.value}" if r.action == "not_identifying"
                else f"{r.side_a} | {r.side_b}")  # fmt: skip
        t.add_row(str(r.id), r.action, escape(what[:80]), escape(r.note[:60]), escape(r.created_by),
                  str(r.created_at)[:16], f"{r.revoked_by} {str(r.revoked_at)[:16]}" if r.revoked_at else "")  # fmt: skip
    out.print(t)


@cases_app.command("revoke")
def cases_revoke(
    decision: Annotated[int, typer.Argument(help="Decision id (ocsea cases decisions).", min=1)],
    db: DbOption = None,
) -> None:
    """Revoke an analyst's decision (kept for the record) and relink."""
    from ocsea.referrals.decisions import revoke

    settings, engine = _ctx(db)
    revoke(engine, _actor(), decision)
    _relinked(engine, settings, decision, "revoked")


def _ids(text: str) -> list[int]:
    try:
        ids = [int(x) for x in text.replace(" ", "").split(",") if x]
    except ValueError:
        raise typer.BadParameter(f"{text!r}: referral ids are numbers, comma-separated") from None
    if not ids or any(i < 1 or i >= 2**31 for i in ids):
        raise typer.BadParameter("give one or more referral ids (ocsea referrals list)")
    return ids


@cases_app.command("report")
@read_only
def cases_report(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for cases.html, CSV and JSON.")],
    top: Annotated[int, typer.Option(min=1, max=100_000, help="Cases in the report.")] = 100,
    within: Annotated[str, typer.Option(help="Requests due within, e.g. 14d.")] = "14d",
    db: DbOption = None,
) -> None:
    """An offline report: ranked cases with their reasons, networks, requests due."""
    from ocsea.referrals.report import write_report
    from ocsea.service import audit

    settings, engine = _ctx(db)
    path = write_report(out_dir, engine, settings, top, _days(within))
    audit.record(engine, _actor(), "cases.report", str(out_dir), {"top": top})
    out.print(f"report: {path}")


@cases_app.command("list")
@read_only
def cases_list(
    top: Annotated[
        int, typer.Option(min=1, max=100_000, help="Cases shown, highest priority first.")
    ] = 20,
    fmt: Annotated[
        ListFormat, typer.Option("--format", help="table for reading, json for tools.")
    ] = ListFormat.table,
    db: DbOption = None,
) -> None:
    """Open cases by priority."""
    from ocsea.referrals.priority import top_factors
    from ocsea.referrals.store import top_cases
    from ocsea.service import audit

    _, engine = _ctx(db)
    rows = top_cases(engine, top)
    audit.record(engine, _actor(), "cases.list", "", {"returned": len(rows)})
    if fmt is ListFormat.json:
        for r in rows:
            print(json.dumps({"key": r.key, "priority": r.priority, "referrals": r.referral_ids, "sharers": r.sharer_ids,
                              "breakdown": r.breakdown}, ensure_ascii=False))  # fmt: skip
        return
    t = Table("case", "priority", "referrals", "sharers", "top factors")
    for r in rows:
        t.add_row(r.key, f"{r.priority:.2f}", str(len(r.referral_ids)), str(len(r.sharer_ids)),
                  top_factors(r.breakdown))  # fmt: skip
    out.print(t)


@cases_app.command("show")
@read_only
def cases_show(
    key: Annotated[str, typer.Argument(help="Case key, e.g. C12.")],
    fmt: Annotated[
        ListFormat, typer.Option("--format", help="table for reading, json for tools.")
    ] = ListFormat.table,
    db: DbOption = None,
) -> None:
    """One case: its score breakdown and why, and its referrals."""
    from sqlalchemy import select

    from ocsea.service import audit
    from ocsea.store.db import cases, referrals

    _, engine = _ctx(db)
    with engine.connect() as conn:
        c = conn.execute(select(cases).where(cases.c.key == key)).first()
        if c is None:
            raise ValueError(f"no case {key!r}")
        if c.status == "merged":
            out.print(f"case {key} was merged into {c.merged_into}")
            key = c.merged_into
            c = conn.execute(select(cases).where(cases.c.key == key)).first()
        refs = conn.execute(select(referrals.c.id, referrals.c.source, referrals.c.report_id, referrals.c.received_at)
                            .where(referrals.c.id.in_(c.referral_ids)).order_by(referrals.c.id)).all()  # fmt: skip
    audit.record(engine, _actor(), "case.read", key)
    if fmt is ListFormat.json:
        print(json.dumps({"key": c.key, "priority": c.priority, "breakdown": c.breakdown, "evidence": c.evidence,
                          "referrals": [{"id": r.id, "source": r.source, "report_id": r.report_id} for r in refs],
                          "sharers": c.sharer_ids}, ensure_ascii=False, indent=2))  # fmt: skip
        return
    out.print(f"[bold]case {c.key}[/] priority {c.priority:.2f}")
    t = Table("factor", "points", "why")
    for k, v in sorted(c.breakdown.items(), key=lambda kv: -abs(kv[1])):
        t.add_row(k, f"{v:+.2f}", escape("; ".join(c.evidence.get(k, []))))
    out.print(t)
    for r in refs:
        out.print(
            f"  referral {r.id}: {r.source} {escape(r.report_id)} received {str(r.received_at or '')[:10]}"
        )
    if c.sharer_ids:
        out.print(f"  P2P sharers joined: {', '.join(map(str, c.sharer_ids))} (ocsea sharers)")


# ---- cross-border requests -------------------------------------------------------------------
def _print_request(r) -> None:
    dates = ", ".join(f"{k.replace('_on', '')} {getattr(r, k)}" for k in
                      ("drafted_on", "sent_on", "acknowledged_on", "due_on", "executed_on", "expires_on") if getattr(r, k))  # fmt: skip
    out.print(f"request {r.id}: {r.type} ({r.direction}) {escape(r.requesting_state)} → {escape(r.requested_state)}"
              f" [{r.status}]{' — ' + escape(r.reason) if r.reason else ''}; {dates}", highlight=False)  # fmt: skip


@requests_app.command("add")
def requests_add(
    type_: Annotated[
        str,
        typer.Option(
            "--type",
            help="mlat, preservation, emergency_disclosure, extradition, parallel_investigation.",
        ),
    ],
    requesting: Annotated[str, typer.Option("--from", help="Requesting state.")],
    requested: Annotated[str, typer.Option("--to", help="Requested state.")],
    direction: Annotated[str, typer.Option(help="incoming or outgoing.")] = "outgoing",
    authority: Annotated[str, typer.Option(help="Central authority.")] = "",
    basis: Annotated[str, typer.Option(help="Legal basis (treaty, law, reciprocity).")] = "",
    provider: Annotated[str, typer.Option(help="Service provider concerned.")] = "",
    sent: Annotated[str | None, typer.Option(help="Already sent on (YYYY-MM-DD).")] = None,
    due: Annotated[
        str | None, typer.Option(help="Due date (default: per type, from sending).")
    ] = None,
    referral: Annotated[
        list[str] | None, typer.Option(help="Linked referral id or report id (repeat).")
    ] = None,
    entity: Annotated[
        list[str] | None, typer.Option(help="Linked entity as kind:value (repeat).")
    ] = None,
    follows_up: Annotated[
        int | None, typer.Option(help="The preservation request this follows up.")
    ] = None,
    notes: Annotated[str, typer.Option(help="Free notes kept with the request.")] = "",
    db: DbOption = None,
) -> None:
    """Record a request (as a draft, or as sent with --sent)."""
    from ocsea.referrals.legal_requests import LegalRequest
    from ocsea.referrals.requests_store import add, change

    settings, engine = _ctx(db)
    req = LegalRequest(type=type_, direction=direction, requesting_state=requesting, requested_state=requested,
                       central_authority=authority, legal_basis=basis, provider=provider, sent_on=_date(sent),
                       due_on=_date(due), referrals=tuple(referral or ()), entities=tuple(entity or ()), notes=notes)  # fmt: skip
    r = add(engine, req, _actor(), settings)
    if follows_up is not None:
        change(engine, follows_up, _actor(), settings, follow_up_id=r.id)
    _print_request(r)


@requests_app.command("update")
def requests_update(
    request_id: Annotated[int, typer.Argument(min=1, help="Request id (ocsea requests list).")],
    status: Annotated[
        str | None,
        typer.Option(help="sent, acknowledged, in_execution, completed, refused, postponed."),
    ] = None,
    on: Annotated[str | None, typer.Option(help="When the step happened (default today).")] = None,
    reason: Annotated[str, typer.Option(help="Why refused or postponed.")] = "",
    extend: Annotated[int | None, typer.Option(help="Extend the preservation by N days.")] = None,
    due: Annotated[str | None, typer.Option(help="New due date (YYYY-MM-DD).")] = None,
    provider: Annotated[str | None, typer.Option(help="Service provider concerned.")] = None,
    authority: Annotated[str | None, typer.Option(help="Central authority.")] = None,
    notes: Annotated[str | None, typer.Option(help="Free notes kept with the request.")] = None,
    referral: Annotated[list[str] | None, typer.Option(help="Link a referral (repeat).")] = None,
    entity: Annotated[
        list[str] | None, typer.Option(help="Link an entity kind:value (repeat).")
    ] = None,
    follow_up: Annotated[
        int | None, typer.Option(help="The request that follows this one up.")
    ] = None,
    db: DbOption = None,
) -> None:
    """Move a request on, or edit it; every change is audited."""
    from ocsea.referrals.requests_store import change

    settings, engine = _ctx(db)
    r = change(engine, request_id, _actor(), settings, status=status, on=_date(on), reason=reason,
               extend_days=extend, follow_up_id=follow_up, link_referrals=referral or [],
               link_entities=entity or [], due_on=_date(due), provider=provider,
               central_authority=authority, notes=notes)  # fmt: skip
    _print_request(r)


@requests_app.command("show")
@read_only
def requests_show(
    request_id: Annotated[int, typer.Argument(min=1, help="Request id.")], db: DbOption = None
) -> None:
    """One request with its history: every change, who made it and when (from the audit log)."""
    from ocsea.referrals.requests_store import get, history

    _, engine = _ctx(db)
    with engine.connect() as conn:
        r = get(conn, request_id)
    _print_request(r)
    for label, value in (("central authority", r.central_authority), ("legal basis", r.legal_basis),
                         ("provider", r.provider), ("referrals", ", ".join(r.referrals)),
                         ("entities", ", ".join(r.entities)), ("follow-up request", r.follow_up_id), ("notes", r.notes)):  # fmt: skip
        if value:
            out.print(f"  {label}: {escape(str(value))}", highlight=False)
    for h in history(engine, request_id):
        d = h["detail"] or {}
        what = ("recorded" if h["action"] == "request.add" else
                "; ".join(f"{k} {a} → {b}" for k, (a, b) in d.get("changes", {}).items()))  # fmt: skip
        out.print(
            f"  {str(h['at'])[:19]} {escape(h['actor'])}: {escape(what)}",
            highlight=False,
            soft_wrap=True,
        )


@requests_app.command("list")
@read_only
def requests_list(
    status: Annotated[str | None, typer.Option(help="Only requests with this status.")] = None,
    db: DbOption = None,
) -> None:
    """All requests."""
    from ocsea.referrals.requests_store import list_requests

    _, engine = _ctx(db)
    for r in list_requests(engine, status):
        _print_request(r)


@requests_app.command("due")
@read_only
def requests_due(
    within: Annotated[str, typer.Option(help="Horizon in days, e.g. 14d.")] = "14d",
    fmt: Annotated[
        ListFormat, typer.Option("--format", help="table for reading, json for tools.")
    ] = ListFormat.table,
    db: DbOption = None,
) -> None:
    """What is overdue, falls due, or whose preservation expires within the horizon."""
    from ocsea.referrals.requests_store import due_list

    _, engine = _ctx(db)
    items = due_list(engine, _days(within))
    if fmt is ListFormat.json:
        for d in items:
            print(json.dumps({"request": d.request_id, "what": d.what, "on": d.on.isoformat(), "days_left": d.days_left,
                              "type": d.request.type, "status": d.request.status,
                              "requested_state": d.request.requested_state, "provider": d.request.provider}, ensure_ascii=False))  # fmt: skip
        return
    if not items:
        out.print(f"nothing due within {within}")
        return
    t = Table("request", "what", "date", "days", "type", "status", "to", "provider")
    for d in items:
        style = "red" if d.what in ("overdue", "expired") else None
        t.add_row(str(d.request_id), d.what, d.on.isoformat(), str(d.days_left), d.request.type, d.request.status,
                  escape(d.request.requested_state), escape(d.request.provider), style=style)  # fmt: skip
    out.print(t)
