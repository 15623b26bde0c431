"""Case priority: one documented function, weights in config (``[cases.weights]``), a breakdown
for every case (docs/referrals.md). Pure: it reads referral summaries and what the store linked.

score = Σ weight × factor, each factor in [0, 1] except the two counts, which enter as log(1 + n).
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_CASE_WEIGHTS: dict[str, float] = {
    "escalated": 3.0,  # the platform asked for high priority (escalateToHighPriority)
    "live_streaming": 3.0,  # file annotation liveStreaming, or live-stream words
    "infant": 3.0,  # file annotation infant, hotline age group infant, stated age under 3
    "young_victim": 1.5,  # stated victim age under 13, hotline age group pre-pubescent
    "physical_harm": 2.0,  # physicalHarm / violenceGore
    "production": 2.0,  # possibleSelfProduction, production words: a producer may be found
    "contact_abuse": 2.5,  # incident type or words that say the offender met or touched a child
    "sextortion": 2.5,  # report annotation sextortion
    "csam_solicitation": 1.5,  # report annotation csamSolicitation
    "payment": 1.5,  # PromptPay, bank account or crypto address in the case, or payment words
    "linked_referrals": 1.0,  # × log(1 + other referrals joined + prior CyberTipline reports)
    "thai_nexus": 2.0,  # Thai phone, Thai IP range, Thai hosting/country, Thai payment id
    "known_material": 1.0,  # a referred file is on a hash list
    "triage_findings": 1.0,  # × log(1 + P2P sharers and triage findings joined to the case)
    "generative_ai": -0.5,  # every annotated file is AI-generated: no identified child at risk
}

INCIDENT_CONTACT = re.compile(r"molest|traffick|sex tourism|enticement|contact|assault", re.I)
# Keyword-level signs (source: analyst seed list, to review with the unit; docs/referrals.md).
WORDS = {
    "live_streaming": re.compile(r"live\s?stream|livestream|ไลฟ์สด|ถ่ายทอดสด|\blive\b", re.I),
    "production": re.compile(r"self[- ]?produc|produced|filmed|recorded|ถ่ายเอง|อัดคลิป", re.I),
    "contact_abuse": re.compile(r"meet (?:in person|up)|met (?:the|a) (?:child|minor)|hotel|นัดเจอ|นัดพบ", re.I),
    "payment": re.compile(r"\bpay(?:ment)?\b|\bpaid\b|gift ?card|โอนเงิน|โอน|จ่ายเงิน|promptpay|พร้อมเพย์", re.I),
}  # fmt: skip
PAYMENT_KINDS = {"promptpay", "bank_account", "crypto"}


def load_ip_ranges(lines: Iterable[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """CIDRs, one a line, or APNIC's delegated-stats lines (``apnic|TH|ipv4|1.0.128.0|32768|…``)."""
    out = []
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split("|")
        try:
            if len(parts) >= 5 and parts[2] in ("ipv4", "ipv6"):
                if parts[1].upper() != "TH":
                    continue
                if parts[2] == "ipv4":
                    first = ipaddress.IPv4Address(parts[3])
                    last = first + int(parts[4]) - 1
                    out += list(ipaddress.summarize_address_range(first, last))
                else:
                    out.append(ipaddress.ip_network(f"{parts[3]}/{parts[4]}", strict=False))
            elif len(parts) == 1:
                out.append(ipaddress.ip_network(line, strict=False))
        except ValueError:
            raise ValueError(f"not a CIDR or APNIC delegated line: {line[:80]!r}") from None
    return out


@dataclass
class CaseFacts:
    referrals: list[dict]  # Referral.summary() of each referral in the case
    hash_matches: list[str] = field(default_factory=list)  # "list name: hash"
    linked_actors: list[str] = field(default_factory=list)  # sharers / findings joined


@dataclass
class CasePriority:
    score: float
    breakdown: dict[str, float]
    evidence: dict[str, list[str]]


def _ip_in(value: str, ranges) -> bool:
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in ranges)


def case_factors(facts: CaseFacts, thai_ranges=()) -> tuple[dict[str, float], dict[str, list[str]]]:
    """Each factor's value and why."""
    f: dict[str, float] = dict.fromkeys(DEFAULT_CASE_WEIGHTS, 0.0)
    ev: dict[str, list[str]] = {k: [] for k in DEFAULT_CASE_WEIGHTS}

    def hit(name: str, why: str, value: float = 1.0) -> None:
        f[name] = max(f[name], value)
        if len(ev[name]) < 5 and why not in ev[name]:
            ev[name].append(why)

    all_files, ai_files = 0, 0
    priors: set[str] = set()
    for r in facts.referrals:
        rid = f"{r['source']} {r['report_id']}"
        if r.get("escalate"):
            hit("escalated", f"{rid}: {r['escalate']}")
        for a in r.get("report_annotations", []):
            if a == "sextortion":
                hit("sextortion", f"{rid}: report annotation sextortion")
            elif a == "csamSolicitation":
                hit("csam_solicitation", f"{rid}: report annotation csamSolicitation")
        for fl in r.get("files", []):
            anns = set(fl.get("annotations", []))
            all_files += bool(anns)
            ai_files += "generativeAi" in anns
            for ann, name in (("liveStreaming", "live_streaming"), ("infant", "infant"),
                              ("physicalHarm", "physical_harm"), ("violenceGore", "physical_harm"),
                              ("possibleSelfProduction", "production")):  # fmt: skip
                if ann in anns:
                    hit(name, f"{rid}: file {fl.get('name') or '?'} annotated {ann}")
        for age in r.get("victim_ages", []):
            if age < 3:
                hit("infant", f"{rid}: victim aged {age:g}")
            if age < 13:
                hit("young_victim", f"{rid}: victim aged {age:g}")
        hot = r.get("hotline") or {}
        if hot.get("age_group") == "infant":
            hit("infant", f"{rid}: hotline age group infant")
        if hot.get("age_group") in ("infant", "prepubescent", "pre-pubescent"):
            hit("young_victim", f"{rid}: hotline age group {hot['age_group']}")
        if INCIDENT_CONTACT.search(r.get("incident_type") or ""):
            hit("contact_abuse", f"{rid}: incident type {r['incident_type']!r}")
        for text in [*r.get("texts", []), r.get("incident_type") or ""]:
            for name, rx in WORDS.items():
                m = rx.search(text)
                if m:
                    hit(name, f"{rid}: words {m.group()!r}")
        for m in r.get("mentions", []):
            if m.get("role") == "reporting_party":
                continue  # the platform's or hotline's own contact says nothing of the suspect
            kind, value = m["kind"], m["value"]
            if kind in PAYMENT_KINDS:
                hit("payment", f"{rid}: {kind} {m.get('display') or value}")
            if kind == "phone" and value.startswith("+66"):
                hit("thai_nexus", f"{rid}: Thai phone {m.get('display') or value}")
            elif kind == "promptpay" or (kind == "bank_account" and m.get("bank")):
                hit("thai_nexus", f"{rid}: Thai payment id ({kind})")
            elif kind == "ip" and thai_ranges and _ip_in(value, thai_ranges):
                hit("thai_nexus", f"{rid}: IP {value} in a Thai range")
        for c in r.get("countries", []):
            if c == "TH":
                hit("thai_nexus", f"{rid}: country TH")
        priors.update(r.get("prior_reports", []))
    if all_files and ai_files == all_files:
        hit("generative_ai", f"all {all_files} annotated files are annotated generativeAi")
    n_linked = len(facts.referrals) - 1 + len(priors)
    if n_linked:
        f["linked_referrals"] = math.log1p(n_linked)
        ev["linked_referrals"].append(
            f"{len(facts.referrals) - 1} linked referrals, {len(priors)} prior CyberTipline reports"
        )
    for hm in facts.hash_matches[:5]:
        hit("known_material", hm)
    if facts.linked_actors:
        f["triage_findings"] = math.log1p(len(facts.linked_actors))
        ev["triage_findings"] = facts.linked_actors[:5]
    return f, ev


def case_priority(facts: CaseFacts, weights: dict[str, float] | None = None,
                  thai_ranges=()) -> CasePriority:  # fmt: skip
    w = {**DEFAULT_CASE_WEIGHTS, **(weights or {})}
    f, ev = case_factors(facts, thai_ranges)
    breakdown = {k: round(w[k] * v, 4) for k, v in f.items() if v and w[k]}
    return CasePriority(
        round(sum(breakdown.values()), 4),
        breakdown,
        {k: v for k, v in ev.items() if k in breakdown},
    )


def top_factors(breakdown: dict[str, float], n: int = 4) -> str:
    """The ``n`` largest contributions, as a one-line summary for tables."""
    ranked = sorted(breakdown.items(), key=lambda kv: -kv[1])[:n]
    return ", ".join(f"{k} {v:+.1f}" for k, v in ranked)
