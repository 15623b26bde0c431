"""What a case's page shows: its referrals in time order, the identifiers that link them (with how
each referral wrote each one), the cross-border requests about them, and the network as a drawing.

The drawing is laid out here with networkx (already the linking engine's graph library) and drawn
as SVG by the template: no script library, no build step, nothing fetched, and it works under the
pages' strict CSP. Referrals and identifiers are the nodes; an edge is "this referral states this
identifier", titled with the words the referral used.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import networkx as nx
from sqlalchemy import select
from sqlalchemy.engine import Connection

from ocsea.store.db import cases, entities, legal_requests, mentions, referrals

MAX_REFERRALS = 500  # shown on one page; a larger case is read through the API or GraphML
MAX_DRAWN = 150  # nodes drawn; beyond this the page lists instead of drawing
WIDTH, HEIGHT, MARGIN = 860, 480, 40


@dataclass
class Identifier:
    entity_id: int
    kind: str
    value: str
    written: list[tuple[int, str, str]] = field(default_factory=list)  # (referral, display, field)

    @property
    def referral_ids(self) -> list[int]:
        return sorted({r for r, _, _ in self.written})

    @property
    def links(self) -> bool:
        return len(self.referral_ids) > 1


@dataclass
class CaseView:
    case: object
    referrals: list
    identifiers: list[Identifier]
    requests: list
    shown_all: bool
    drawing: dict | None


def case_view(conn: Connection, key: str) -> CaseView | None:
    c = conn.execute(select(cases).where(cases.c.key == key)).first()
    if c is None:
        return None
    ids = [int(x) for x in (c.referral_ids or [])]
    shown = ids[:MAX_REFERRALS]
    refs = conn.execute(
        select(referrals.c.id, referrals.c.source, referrals.c.report_id, referrals.c.received_at,
               referrals.c.incident_type, referrals.c.reporter)
        .where(referrals.c.id.in_(shown))
    ).all()  # fmt: skip
    refs.sort(key=lambda r: (r.received_at is None, str(r.received_at or ""), r.id))
    found: dict[int, Identifier] = {}
    for m in conn.execute(
        select(mentions.c.referral_id, mentions.c.display, mentions.c.field, entities.c.id,
               entities.c.kind, entities.c.value)
        .join(entities, entities.c.id == mentions.c.entity_id)
        .where(mentions.c.referral_id.in_(shown))
        .order_by(mentions.c.referral_id, mentions.c.id)
    ):  # fmt: skip
        ident = found.setdefault(m.id, Identifier(m.id, m.kind, m.value))
        ident.written.append((m.referral_id, m.display, m.field))
    idents = sorted(found.values(), key=lambda i: (not i.links, i.kind, i.value))
    wanted = set(shown)
    reqs = [
        r
        for r in conn.execute(select(legal_requests).order_by(legal_requests.c.id))
        if wanted.intersection(int(x) for x in (r.referrals or []))
    ]
    return CaseView(c, refs, idents, reqs, len(ids) <= MAX_REFERRALS, drawing(refs, idents))


def drawing(refs: list, idents: list[Identifier]) -> dict | None:
    """Node and edge positions in a WIDTH×HEIGHT box, or None where there are too many to draw.
    Identifiers stated by one referral only are left out of the drawing (the table has them):
    the drawing is about what links."""
    linking = [i for i in idents if i.links]
    if not refs or len(refs) + len(linking) > MAX_DRAWN:
        return None
    g = nx.Graph()
    for r in refs:
        g.add_node(("r", r.id))
    for i in linking:
        g.add_node(("e", i.entity_id))
        for rid, display, fld in i.written:
            if g.has_node(("r", rid)):
                g.add_edge(("r", rid), ("e", i.entity_id), title=f"{display} ({fld})")
    pos = (
        nx.spring_layout(g, seed=7, k=None, iterations=100)
        if len(g) > 1
        else {n: (0.0, 0.0) for n in g}
    )
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)

    def place(p) -> tuple[float, float]:
        x = MARGIN + (p[0] - x0) / ((x1 - x0) or 1) * (WIDTH - 2 * MARGIN)
        y = MARGIN + (p[1] - y0) / ((y1 - y0) or 1) * (HEIGHT - 2 * MARGIN)
        return round(x, 1), round(y, 1)

    by_entity = {i.entity_id: i for i in linking}
    nodes = []
    for n in g:
        x, y = place(pos[n])
        if n[0] == "r":
            r = next(r for r in refs if r.id == n[1])
            nodes.append({"kind": "referral", "x": x, "y": y, "label": f"R{r.id}",
                          "title": f"{r.source} {r.report_id}", "id": r.id})  # fmt: skip
        else:
            i = by_entity[n[1]]
            nodes.append({"kind": i.kind, "x": x, "y": y, "label": i.kind,
                          "title": f"{i.kind}: {i.value}", "id": i.entity_id})  # fmt: skip
    edges = []
    for a, b, data in g.edges(data=True):
        (ax, ay), (bx, by) = place(pos[a]), place(pos[b])
        edges.append({"x1": ax, "y1": ay, "x2": bx, "y2": by, "title": data.get("title", "")})
    kinds: dict[str, int] = defaultdict(int)
    for i in linking:
        kinds[i.kind] += 1
    return {"width": WIDTH, "height": HEIGHT, "nodes": nodes, "edges": edges, "kinds": dict(kinds)}
