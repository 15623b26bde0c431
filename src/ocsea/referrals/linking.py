"""Which shared identifiers join actors, and the groups they make (pure; docs/referrals.md, Links).

Each identifier gets a verdict before it may join anyone:

1. **What it is.** Some values never name one person and never join:
   - a reporting party's own contact (a platform's support or legal address, a hotline's or a
     police unit's contact block), learned from where the reports put it: a value seen once in a
     reporting party's block is a reporting party's everywhere, and ``[referrals] party_contacts``
     adds more;
   - a host alone (a domain, a URL without a path): it names everyone on a platform;
   - a platform account or user name with no platform: the same number names different people on
     different platforms;
   - a file: unrelated people hold the same file, so a file hash never joins two referrals. It
     brings a P2P sharer or a triage finding that holds the file into the case as context
     (``context_of``) without merging anything;
   - an IP in a shared range (private, CGNAT), flagged as a possible proxy, or without a time;
   - what an analyst marked as not identifying (a café's Wi-Fi, a school's gateway).
2. **How specific it is** (Fellegi–Sunter with frequency adjustment, as in Splink): an identifier
   carried by many *otherwise unrelated* groups of actors (an exit node, a contact quoted in
   reports from many platforms) is not specific to any of them. Identifiers are taken from the
   most specific (fewest actors) to the least; each one's weight is its kind's prior less
   ``FANOUT_BITS`` × log2 of the number of groups it would join. It joins when the weight reaches
   ``JOIN_BITS``. With the default priors that is: personal identifiers (e-mail, phone, payment,
   wallet, account, device, LINE id) join up to 10 unrelated groups; user names and URLs up to 5;
   IPs up to 4.
3. **The analyst's decisions** hold over everything: a split keeps two sets of actors apart
   whatever joins them (the union that would bring them together is refused and shown), a merge
   joins two actors whatever the data says.

An IP joins two actors only when both used it within the window; it is a link between the two
actors, not a shared node.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ocsea.referrals.entities import CONFIRMED_KINDS, ip_is_shared, url_names_a_resource

# Prior weight of a shared value of each kind, in bits: how much more often two reports that share
# one come from the same offender than from strangers. Ordered by how personal the kind is;
# calibrated on the blind referral set's dev part (tests/data/blind-referrals/, issue 15).
PRIOR_BITS: dict[str, float] = {
    "email": 16.0, "phone": 16.0, "platform_id": 16.0, "device": 16.0, "promptpay": 16.0,
    "bank_account": 16.0, "crypto": 16.0, "p2p_guid": 16.0, "line_id": 16.0,
    "screen_name": 13.0, "url": 13.0, "md5": 12.0, "sha1": 12.0, "sha256": 12.0, "ip": 12.0,
}  # fmt: skip
FANOUT_BITS = 3.0
JOIN_BITS = 6.0
HASH_KINDS = frozenset({"md5", "sha1", "sha256"})
NEVER_JOIN_KINDS = frozenset({"domain", "name"}) | HASH_KINDS
PARTY_ROLE = "reporting_party"
PARTY_TEXT_ROLE = "party_text"  # named with a reporting party in free text: this mention only
HOSTING_ROLE = "hosting"  # a server's address or URL in a hotline report, not a person's


@dataclass(frozen=True, slots=True)
class Sighting:
    """An actor seen with an identifier: ``R:<referral id>``, ``S:<sharer id>`` (P2P sharer) or
    ``F:<finding id>`` (triage finding)."""

    actor: str
    kind: str
    value: str
    at: datetime | None = None
    where: str = ""
    role: str = ""
    display: str = ""
    flags: frozenset[str] = frozenset()  # file annotations (viral, potentialMeme), proxy


@dataclass(frozen=True)
class LinkPolicy:
    ip_window: timedelta = timedelta(hours=1)
    max_actors: int = 10_000  # a safety bound: more actors than this is never one person's
    min_strength: str = "tentative"  # "confirmed": tentative kinds do not join
    party_contacts: frozenset[tuple[str, str]] = frozenset()  # configured (kind, value)

    def allows(self, strength: str) -> bool:
        return strength == "confirmed" or self.min_strength == "tentative"


@dataclass(frozen=True)
class Decision:
    """An analyst's correction (stored, audited, applied on every rebuild)."""

    id: int
    action: str  # not_identifying | split | merge
    kind: str = ""  # not_identifying: the identifier
    value: str = ""
    side_a: frozenset[str] = frozenset()  # split: actors kept apart from side_b; merge: joined
    side_b: frozenset[str] = frozenset()
    note: str = ""


@dataclass(slots=True)  # one per identifier: 99,000 referrals had 400,000 of them
class Verdict:
    """Whether an identifier joins, its weight, and why."""

    kind: str
    value: str
    joins: bool
    weight: float | None
    reason: str
    actors: int
    groups: int = 0
    joined: list[str] = field(default_factory=list)  # actors it joined (IPs: see pair links)


@dataclass(slots=True)
class PairLink:
    """Two actors joined by an IP both used within the window."""

    a: str
    b: str
    ip: str
    at: tuple[datetime, datetime]
    weight: float


@dataclass
class Linking:
    group: dict[str, str]  # actor → its group's first actor
    verdicts: dict[tuple[str, str], Verdict]
    ip_links: list[PairLink]
    refused: list[dict]  # unions an analyst's split refused
    merges: list[Decision]


_SILENT = {
    PARTY_TEXT_ROLE: "named in free text with a reporting party (forwarded by, contact …)",
    HOSTING_ROLE: "a hosting server's address: many sites share one",
}


def strength_of(kind: str) -> str:
    return "confirmed" if kind in CONFIRMED_KINDS else "tentative"


def weight_of(kind: str, groups: int) -> float:
    return round(PRIOR_BITS.get(kind, 10.0) - FANOUT_BITS * math.log2(max(1, groups)), 1)


class _Groups:
    """Union-find whose groups carry the split decisions they touch, so that a union which would
    put both sides of a split in one group is refused."""

    def __init__(self, actors, splits: list[Decision]) -> None:
        self.parent = {a: a for a in actors}
        self.sides: dict[str, dict[int, str]] = {}
        for d in splits:
            for side, members in (("a", d.side_a), ("b", d.side_b)):
                for a in members:
                    if a in self.parent:
                        self.sides.setdefault(a, {})[d.id] = side

    def find(self, a: str) -> str:
        root = a
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[a] != root:
            self.parent[a], a = root, self.parent[a]
        return root

    def conflict(self, ra: str, rb: str) -> int | None:
        sa, sb = self.sides.get(ra, {}), self.sides.get(rb, {})
        small, big = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
        return next((d for d, side in small.items() if big.get(d, side) != side), None)

    def union(self, a: str, b: str) -> int | None:
        """Join; returns the split decision that refused it, if one did."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return None
        refused = self.conflict(ra, rb)
        if refused is not None:
            return refused
        if ra > rb:
            ra, rb = rb, ra
        self.parent[rb] = ra
        if rb in self.sides:
            self.sides.setdefault(ra, {}).update(self.sides.pop(rb))
        return None


def _category(kind: str, value: str, group: list[Sighting], policy: LinkPolicy,
              reporters: dict[str, str], marked: dict[tuple[str, str], Decision]) -> str | None:  # fmt: skip
    """Why an identifier never joins, whatever its frequency; None when it may."""
    d = marked.get((kind, value))
    if d is not None:
        return f"marked not identifying (decision {d.id}{': ' + d.note if d.note else ''})"
    if kind == "domain":
        return "a host alone names everyone on it"
    if kind in HASH_KINDS:
        return "a file: unrelated people hold the same file (shown as context, joins no one)"
    if kind in NEVER_JOIN_KINDS:
        return f"a {kind} is not an identifier"
    if kind == "url" and not url_names_a_resource(value):
        return "a host alone names everyone on it"
    if (kind, value) in policy.party_contacts:
        return "a reporting party's contact (configured)"
    party = next((s for s in group if s.role == PARTY_ROLE), None)
    if party is not None:
        return f"a reporting party's own contact ({party.where or 'contact block'})"
    if kind in ("platform_id", "screen_name") and value.startswith("unknown|"):
        return "no platform named: the same id names different accounts on different platforms"
    if not policy.allows(strength_of(kind)):
        return "tentative kind (confirmed links only)"
    if kind == "ip":
        if ip_is_shared(value):
            return "a shared address range (private, CGNAT, loopback)"
        if any("proxy" in s.flags for s in group):
            return "flagged as a possible proxy"
    return None


def link(sightings: list[Sighting], reporters: dict[str, str], policy: LinkPolicy,
         decisions: list[Decision] = ()) -> Linking:  # fmt: skip
    """Verdicts for every identifier and the groups of actors they join."""
    by_id: dict[tuple[str, str], list[Sighting]] = defaultdict(list)
    silent: dict[tuple[str, str], str] = {}  # identifiers all of whose mentions may not join
    actors: set[str] = set(reporters)
    for s in sightings:
        actors.add(s.actor)
        if s.role == PARTY_TEXT_ROLE or (s.kind == "ip" and s.role == HOSTING_ROLE):
            silent.setdefault((s.kind, s.value), s.role)
            continue  # shown in the graph, never a carrier
        by_id[(s.kind, s.value)].append(s)
    marked = {(d.kind, d.value): d for d in decisions if d.action == "not_identifying"}
    splits = [d for d in decisions if d.action == "split"]
    merges = [d for d in decisions if d.action == "merge"]
    uf = _Groups(sorted(actors), splits)
    refused: list[dict] = []
    for d in merges:  # the analyst's merges first: the data cannot undo them
        members = sorted(a for a in d.side_a | d.side_b if a in actors)
        for b in members[1:]:
            why = uf.union(members[0], b)
            if why is not None:
                refused.append({"decision": why, "by": f"merge {d.id}", "actors": [members[0], b]})
    verdicts: dict[tuple[str, str], Verdict] = {
        k: Verdict(k[0], k[1], False, None, _SILENT[role], 0)
        for k, role in silent.items() if k not in by_id
    }  # fmt: skip
    candidates = []
    for (kind, value), group in by_id.items():
        n = len({s.actor for s in group})
        reason = _category(kind, value, group, policy, reporters, marked)
        if reason is None and n > policy.max_actors:
            reason = f"seen with {n} actors (more than {policy.max_actors})"
        if reason is not None:
            verdicts[(kind, value)] = Verdict(kind, value, False, None, reason, n)
        elif n < 2:
            verdicts[(kind, value)] = Verdict(kind, value, False, None, "seen with one actor", n)
        else:
            candidates.append((n, -PRIOR_BITS.get(kind, 10.0), kind, value))
    ip_links: list[PairLink] = []
    for n, _, kind, value in sorted(candidates):
        group = by_id[(kind, value)]
        carriers = sorted({s.actor for s in group})
        groups = len({uf.find(a) for a in carriers})
        exact = PRIOR_BITS.get(kind, 10.0) - FANOUT_BITS * math.log2(max(1, groups))
        w = weight_of(kind, groups)
        v = Verdict(kind, value, exact >= JOIN_BITS, w, "", n, groups)
        verdicts[(kind, value)] = v
        if not v.joins:
            v.reason = (f"carried by {groups} otherwise unrelated groups: shared, not personal "
                        f"(weight {w} < {JOIN_BITS})")  # fmt: skip
            continue
        if kind == "ip":
            pairs = _ip_pairs(group, policy.ip_window)
            if not pairs:
                v.joins, v.reason = (
                    False,
                    f"no two actors used it within {_hours(policy.ip_window)}",
                )
                continue
            joined_here: set[str] = set()
            for a, b in pairs:
                why = uf.union(a.actor, b.actor)
                if why is not None:
                    refused.append(
                        {"decision": why, "by": f"ip {value}", "actors": [a.actor, b.actor]}
                    )
                    continue
                ip_links.append(PairLink(a.actor, b.actor, value, (a.at, b.at), w))
                joined_here.update((a.actor, b.actor))
            v.joined = sorted(joined_here)
            v.reason = f"used by two actors within {_hours(policy.ip_window)}"
            continue
        joined = [carriers[0]]
        for b in carriers[1:]:
            why = uf.union(carriers[0], b)
            if why is None:
                joined.append(b)
            else:
                refused.append(
                    {"decision": why, "by": f"{kind} {value}", "actors": [carriers[0], b]}
                )
        v.joined = joined
        v.reason = f"shared by {n} actors in {groups} groups (weight {w})"
    group_of = {a: uf.find(a) for a in actors}
    return Linking(group_of, verdicts, ip_links, refused, merges)


def _hours(window: timedelta) -> str:
    h = window.total_seconds() / 3600
    return f"{h:g} h" if h >= 1 else f"{h * 60:g} min"


def _ip_pairs(group: list[Sighting], window: timedelta) -> list[tuple[Sighting, Sighting]]:
    """Each pair of different actors that used the address within the window of each other,
    once (the first such pair of uses in time)."""
    timed = sorted((s for s in group if s.at is not None), key=lambda s: (s.at, s.actor))
    out = []
    seen: set[tuple[str, str]] = set()
    for i, a in enumerate(timed):
        for b in timed[i + 1 :]:
            if b.at - a.at > window:
                break
            if b.actor == a.actor:
                continue
            pair = (min(a.actor, b.actor), max(a.actor, b.actor))
            if pair not in seen:
                seen.add(pair)
                out.append((a, b))
    return out
