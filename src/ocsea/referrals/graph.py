"""The entity graph (pure): actors (referrals, P2P sharers) joined through the identifiers they
share, each link with a strength and the evidence behind it (docs/referrals.md).

Two rules keep links honest:
- an IP address joins two actors only when both used it within ``ip_window`` of each other. IPs are
  therefore links between actors (with the two times as evidence), not shared nodes: a shared node
  would join the first and the last user of an address weeks apart through the ones between;
- an identifier seen with more than ``max_actors`` actors (a platform's NAT gateway, a viral file,
  a help-line number) is a hub: shown, never used to join.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import networkx as nx

from ocsea.referrals.entities import CONFIRMED_KINDS, ip_is_shared

ACTOR_TYPES = {"R": "referral", "S": "sharer", "F": "finding"}


@dataclass(frozen=True)
class Sighting:
    """An actor seen with an identifier: ``R:<referral id>``, ``S:<sharer id>`` (P2P sharer) or
    ``F:<finding id>`` (triage finding)."""

    actor: str
    kind: str
    value: str
    at: datetime | None = None
    where: str = ""


@dataclass(frozen=True)
class LinkPolicy:
    ip_window: timedelta = timedelta(hours=24)
    max_actors: int = 50
    min_strength: str = "tentative"  # "confirmed": tentative links do not join

    def allows(self, strength: str) -> bool:
        return strength == "confirmed" or self.min_strength == "tentative"


def strength_of(kind: str) -> str:
    return "confirmed" if kind in CONFIRMED_KINDS else "tentative"


def entity_node(kind: str, value: str) -> str:
    return f"{kind}:{value}"


def build_graph(sightings: list[Sighting], actors: dict[str, dict], policy: LinkPolicy) -> nx.Graph:
    """Actors and entities as nodes; actor–entity edges for what each actor was seen with, and
    actor–actor edges for IP addresses used within the window."""
    g = nx.Graph()
    for a, attrs in actors.items():
        g.add_node(a, node_type="actor", **attrs)
    by_entity: dict[tuple[str, str], list[Sighting]] = defaultdict(list)
    for s in sightings:
        by_entity[(s.kind, s.value)].append(s)
        if s.actor not in g:
            g.add_node(s.actor, node_type="actor", actor_type=ACTOR_TYPES.get(s.actor[0], "actor"))
    for (kind, value), group in by_entity.items():
        n_actors = len({s.actor for s in group})
        node = entity_node(kind, value)
        hub = n_actors > policy.max_actors
        shared_ip = kind == "ip" and ip_is_shared(value)
        g.add_node(node, node_type="entity", kind=kind, value=value, hub=hub,
                   joins=kind != "ip" and not hub, shared=shared_ip, actors=n_actors)  # fmt: skip
        for s in group:
            if g.has_edge(s.actor, node):
                g.edges[s.actor, node]["evidence"].append(_ev(s))
            else:
                g.add_edge(
                    s.actor, node, link="seen", strength=strength_of(kind), evidence=[_ev(s)]
                )
        if kind == "ip" and not hub and not shared_ip:
            _ip_links(g, value, group, policy.ip_window)
    return g


def _ev(s: Sighting) -> dict:
    return {"where": s.where, "at": s.at.isoformat() if s.at else None}


def _ip_links(g: nx.Graph, ip: str, group: list[Sighting], window: timedelta) -> None:
    timed = sorted((s for s in group if s.at is not None), key=lambda s: s.at)
    for i, a in enumerate(timed):
        for b in timed[i + 1 :]:
            if b.at - a.at > window:
                break
            if a.actor == b.actor:
                continue
            ev = {"ip": ip, "at": [a.at.isoformat(), b.at.isoformat()],
                  "gap_minutes": round((b.at - a.at).total_seconds() / 60, 1)}  # fmt: skip
            if g.has_edge(a.actor, b.actor):
                edge = g.edges[a.actor, b.actor]
                if len(edge["evidence"]) < 20:
                    edge["evidence"].append(ev)
            else:
                g.add_edge(a.actor, b.actor, link="ip", strength="tentative", evidence=[ev])


def joining_view(g: nx.Graph, policy: LinkPolicy) -> nx.Graph:
    """The part of the graph that may join actors into one network."""

    def node_ok(n) -> bool:
        d = g.nodes[n]
        return d["node_type"] == "actor" or d.get("joins", False)

    def edge_ok(u, v) -> bool:
        return policy.allows(g.edges[u, v]["strength"])

    return nx.subgraph_view(g, filter_node=node_ok, filter_edge=edge_ok)


@dataclass
class Join:
    """What joins actors in a network: a shared identifier, or an IP used close in time."""

    kind: str
    value: str
    strength: str
    actors: list[str]
    evidence: list[dict] = field(default_factory=list)


@dataclass
class Network:
    actors: list[str]
    joins: list[Join]
    central: list[tuple[str, float]]  # nodes by betweenness centrality

    @property
    def referrals(self) -> list[str]:
        return [a for a in self.actors if a.startswith("R:")]

    @property
    def sharers(self) -> list[str]:
        return [a for a in self.actors if a.startswith("S:")]

    @property
    def findings(self) -> list[str]:
        return [a for a in self.actors if a.startswith("F:")]


def _actor_order(a: str) -> tuple[int, int]:
    kind, _, num = a.partition(":")
    return ("RSF".find(kind) % 3, int(num) if num.isdigit() else 0)


def components(
    g: nx.Graph, policy: LinkPolicy, min_actors: int = 2, central_top: int | None = None
) -> list[Network]:
    """Connected groups of at least ``min_actors`` actors, with what joins them, largest first.
    Betweenness is computed for the ``central_top`` largest groups (all when None, none at 0):
    cases need the groups, a screen shows the first few."""
    # A copy, not the filtered view: traversals over a subgraph view cost 5× more here.
    view = nx.Graph(joining_view(g, policy))
    out: list[tuple[Network, set]] = []
    for comp in nx.connected_components(view):
        actors = sorted((n for n in comp if g.nodes[n]["node_type"] == "actor"), key=_actor_order)
        if len(actors) < min_actors:
            continue
        sub = view.subgraph(comp)
        joins: list[Join] = []
        for n in comp:
            d = g.nodes[n]
            if d["node_type"] == "entity":
                linked = sorted((a for a in sub.neighbors(n)), key=_actor_order)
                if len(linked) >= 2:
                    joins.append(
                        Join(d["kind"], d["value"], g.edges[linked[0], n]["strength"], linked)
                    )
        for u, v, e in sub.edges(data=True):
            if e["link"] == "ip":
                joins.append(Join("ip", e["evidence"][0]["ip"], "tentative",
                                  sorted((u, v), key=_actor_order), e["evidence"]))  # fmt: skip
        joins.sort(key=lambda j: (j.strength != "confirmed", -len(j.actors), j.kind, j.value))
        out.append((Network(actors, joins, []), comp))
    out.sort(key=lambda nc: (-len(nc[0].actors), _actor_order(nc[0].actors[0])))
    for net, comp in out[:central_top]:
        sub = view.subgraph(comp).copy()
        if len(sub) <= 3000:
            bc = nx.betweenness_centrality(sub, normalized=True)
        else:  # exact betweenness is O(n·m); degree is what stays cheap on very large groups
            bc = {n: d / max(1, len(sub) - 1) for n, d in sub.degree()}
        net.central = [
            (n, round(c, 4)) for n, c in sorted(bc.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        ]
    return [net for net, _ in out]


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
            parts.append(f"{e['where']}" + (f" at {e['at']}" if e.get("at") else ""))
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
