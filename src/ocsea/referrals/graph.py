"""The entity graph (pure): actors (referrals, P2P sharers, triage findings) and the identifiers
they were seen with, each identifier with its verdict (``linking``: whether it joins, its weight,
why), and the networks the joining ones make (docs/referrals.md).

IP addresses join as links between two actors that used them within the window (both times and the
gap as evidence), not as shared nodes: a shared node would join the first and the last user of an
address weeks apart through the ones between.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import networkx as nx

from ocsea.referrals.linking import (
    Decision,
    Linking,
    LinkPolicy,
    Sighting,
    link,
    strength_of,
)

__all__ = ["Decision", "LinkPolicy", "Sighting", "build_graph", "components", "strength_of"]

ACTOR_TYPES = {"R": "referral", "S": "sharer", "F": "finding"}


def entity_node(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def build_graph(sightings: list[Sighting], actors: dict[str, dict], policy: LinkPolicy,
                decisions: list[Decision] = ()) -> nx.Graph:  # fmt: skip
    """Actors and entities as nodes; actor–entity edges for what each actor was seen with, and
    actor–actor edges for IP addresses used within the window. Every entity node carries its
    verdict (``joins``, ``weight``, ``reason``); every actor node its ``group``."""
    g = nx.Graph()
    for a, attrs in actors.items():
        g.add_node(a, node_type="actor", **attrs)
    for s in sightings:
        if s.actor not in g:
            g.add_node(s.actor, node_type="actor", actor_type=ACTOR_TYPES.get(s.actor[0], "actor"))
    result: Linking = link(sightings, reporters_of(dict(g.nodes(data=True))), policy, decisions)
    for s in sightings:
        node = entity_node(s.kind, s.value)
        if node not in g:
            v = result.verdicts[(s.kind, s.value)]
            g.add_node(node, node_type="entity", kind=s.kind, value=s.value, joins=v.joins,
                       weight=v.weight, reason=v.reason, actors=v.actors, groups=v.groups,
                       hub=not v.joins and v.groups > 1, joined=set(v.joined))  # fmt: skip
        ev = {"where": s.where, "at": s.at.isoformat() if s.at else None, "written": s.display,
              "role": s.role}  # fmt: skip
        if g.has_edge(s.actor, node):
            if len(g.edges[s.actor, node]["evidence"]) < 20:
                g.edges[s.actor, node]["evidence"].append(ev)
        else:
            g.add_edge(s.actor, node, link="seen", strength=strength_of(s.kind), evidence=[ev])
    for p in result.ip_links:
        ev = {"ip": p.ip, "at": [p.at[0].isoformat(), p.at[1].isoformat()],
              "gap_minutes": round(abs((p.at[1] - p.at[0]).total_seconds()) / 60, 1),
              "weight": p.weight}  # fmt: skip
        if g.has_edge(p.a, p.b):
            if len(g.edges[p.a, p.b]["evidence"]) < 20:
                g.edges[p.a, p.b]["evidence"].append(ev)
        else:
            g.add_edge(p.a, p.b, link="ip", strength="tentative", evidence=[ev])
    for a, grp in result.group.items():
        if a in g:
            g.nodes[a]["group"] = grp
    g.graph["refused"] = result.refused
    g.graph["merges"] = [d.id for d in result.merges]
    return g


def joining_view(g: nx.Graph, policy: LinkPolicy | None = None) -> nx.Graph:
    """The part of the graph that joins actors: actors, the entities that join, and the edges
    along which they joined (an analyst's split can keep an entity from joining all it names)."""

    def node_ok(n) -> bool:
        d = g.nodes[n]
        return d["node_type"] == "actor" or d.get("joins", False)

    def edge_ok(u, v) -> bool:
        e = g.edges[u, v]
        if e["link"] == "ip":
            return True
        ent, act = (u, v) if g.nodes[u]["node_type"] == "entity" else (v, u)
        return act in g.nodes[ent].get("joined", ())

    return nx.subgraph_view(g, filter_node=node_ok, filter_edge=edge_ok)


@dataclass
class Join:
    """What joins actors in a network: a shared identifier, or an IP used close in time. Evidence
    says how each document wrote it and where."""

    kind: str
    value: str
    strength: str
    actors: list[str]
    evidence: list[dict] = field(default_factory=list)
    weight: float | None = None


@dataclass
class Network:
    actors: list[str]
    joins: list[Join]
    central: list[tuple[str, float]]  # nodes by betweenness centrality
    # P2P sharers and triage findings that hold a file the network's referrals name: leads shown
    # with the network, never merged into it (unrelated people hold the same files).
    context: list[str] = field(default_factory=list)

    @property
    def referrals(self) -> list[str]:
        return [a for a in self.actors if a.startswith("R:")]

    @property
    def sharers(self) -> list[str]:
        return [a for a in self.actors if a.startswith("S:")]

    @property
    def findings(self) -> list[str]:
        return [a for a in self.actors if a.startswith("F:")]


def reporters_of(actors: dict[str, dict]) -> dict[str, str]:
    """Actor → who reported it (its own id when nobody is named), as linking counts reporters."""
    return {a: str(d.get("reporter") or a) for a, d in actors.items()}


def actor_order(a: str) -> tuple[int, int]:
    kind, _, num = a.partition(":")
    return ("RSF".find(kind) % 3, int(num) if num.isdigit() else 0)


def components(
    g: nx.Graph, policy: LinkPolicy | None = None, min_actors: int = 2,
    central_top: int | None = None,
) -> list[Network]:  # fmt: skip
    """The groups the linking made, of at least ``min_actors`` actors, with what joins them,
    largest first. Betweenness is computed for the ``central_top`` largest groups (all when None,
    none at 0): cases need the groups, a screen shows the first few."""
    by_group: dict[str, list[str]] = {}
    for n, d in g.nodes(data=True):
        if d["node_type"] == "actor":
            by_group.setdefault(d.get("group", n), []).append(n)
    view = joining_view(g)
    out: list[Network] = []
    for members in by_group.values():
        if len(members) < min_actors:
            continue
        actors = sorted(members, key=actor_order)
        joins: list[Join] = []
        if len(actors) > 1:
            joins = _joins(g, view, set(actors))
        out.append(Network(actors, joins, [], context_of(g, actors)))
    out.sort(key=lambda net: (-len(net.actors), actor_order(net.actors[0])))
    for net in out[:central_top]:
        if len(net.actors) < 2:
            continue
        nodes = set(net.actors) | {
            n for a in net.actors for n in view.neighbors(a) if g.nodes[n]["node_type"] == "entity"
        }
        sub = nx.Graph(view.subgraph(nodes))
        if len(sub) <= 3000:
            bc = nx.betweenness_centrality(sub, normalized=True)
        else:  # exact betweenness is O(n·m); degree is what stays cheap on very large groups
            bc = {n: d / max(1, len(sub) - 1) for n, d in sub.degree()}
        net.central = [
            (n, round(c, 4)) for n, c in sorted(bc.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ]
    return out


def context_of(g: nx.Graph, actors: list[str]) -> list[str]:
    """Sharers and findings that hold a file one of ``actors`` (referrals) names."""
    members = set(actors)
    out: set[str] = set()
    for a in actors:
        if not a.startswith("R:"):
            continue
        for n in g.neighbors(a):
            d = g.nodes[n]
            if d["node_type"] == "entity" and d["kind"] in ("md5", "sha1", "sha256"):
                out.update(x for x in g.neighbors(n) if x[:2] in ("S:", "F:") and x not in members)
    return sorted(out, key=actor_order)


def _joins(g: nx.Graph, view, members: set[str]) -> list[Join]:
    joins: list[Join] = []
    seen_entities: set[str] = set()
    for a in members:
        for n in view.neighbors(a):
            d = g.nodes[n]
            if d["node_type"] == "entity" and n not in seen_entities:
                seen_entities.add(n)
                linked = sorted((x for x in d["joined"] if x in members), key=actor_order)
                if len(linked) >= 2:
                    ev = [{"actor": x, **e} for x in linked for e in g.edges[x, n]["evidence"][:3]]
                    joins.append(Join(d["kind"], d["value"], strength_of(d["kind"]), linked,
                                      ev, d["weight"]))  # fmt: skip
    for u, v, e in g.subgraph(members).edges(data=True):
        if e["link"] == "ip":
            joins.append(Join("ip", e["evidence"][0]["ip"], "tentative",
                              sorted((u, v), key=actor_order), e["evidence"],
                              e["evidence"][0].get("weight")))  # fmt: skip
    joins.sort(key=lambda j: (j.strength != "confirmed", -len(j.actors), j.kind, j.value))
    return joins


# ---- exports ---------------------------------------------------------------------------------
def _flat(g: nx.Graph) -> nx.Graph:
    """Attributes GraphML can hold (strings, numbers, booleans)."""
    h = nx.Graph()
    for n, d in g.nodes(data=True):
        h.add_node(n, **{k: v for k, v in d.items() if isinstance(v, str | int | float | bool)})
    for u, v, d in g.edges(data=True):
        h.add_edge(
            u, v, link=d["link"], strength=d["strength"], evidence=_evidence_text(d["evidence"])
        )
    return h


def _evidence_text(ev: list[dict]) -> str:
    parts = []
    for e in ev[:20]:
        if "ip" in e:
            parts.append(f"{e['ip']} at {e['at'][0]} and {e['at'][1]}")
        else:
            written = f" as {e['written']!r}" if e.get("written") else ""
            parts.append(f"{e['where']}{written}" + (f" at {e['at']}" if e.get("at") else ""))
    return "; ".join(parts)


def to_graphml(g: nx.Graph) -> str:
    return "\n".join(nx.generate_graphml(_flat(g)))


def to_csv(g: nx.Graph) -> tuple[str, str]:
    """(nodes.csv, edges.csv) in the plain id/label/type and source/target/type shape that i2
    Analyst's Notebook and Maltego import."""
    nodes, edges = io.StringIO(), io.StringIO()
    wn = csv.writer(nodes)
    wn.writerow(["id", "type", "label", "kind", "hub"])
    for n, d in g.nodes(data=True):
        if d["node_type"] == "actor":
            wn.writerow([n, d.get("actor_type", ""), d.get("label", n), "", ""])
        else:
            wn.writerow([n, "entity", d["value"], d["kind"], "yes" if d.get("hub") else ""])
    we = csv.writer(edges)
    we.writerow(["source", "target", "link", "strength", "evidence"])
    for u, v, d in g.edges(data=True):
        we.writerow([u, v, d["link"], d["strength"], _evidence_text(d["evidence"])])
    return nodes.getvalue(), edges.getvalue()
