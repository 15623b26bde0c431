"""Referral importers, linking, networks, case priority (synthetic referrals only)."""

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import networkx as nx
import pytest
from sqlalchemy import func, insert, select

from ocsea.config import ReferralSettings
from ocsea.demo.referrals import make_referrals
from ocsea.referrals.formats import parse_document
from ocsea.referrals.graph import LinkPolicy, Sighting, build_graph, components, to_csv, to_graphml
from ocsea.referrals.model import ReferralError
from ocsea.referrals.priority import DEFAULT_CASE_WEIGHTS, CaseFacts, case_priority, load_ip_ranges
from ocsea.referrals.store import (
    import_documents,
    load_graph,
    networks,
    original_document,
    read_inputs,
    rebuild_cases,
)
from ocsea.store.db import (
    audit_log,
    cases,
    findings,
    items,
    make_engine,
    observations,
    referrals,
    sharer_ips,
    sharers,
)

T0 = datetime(2026, 10, 1, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> object:
    return make_referrals(tmp_path_factory.mktemp("refs"), singletons=8)


# ---- importers -----------------------------------------------------------------------------
def test_ncmec_json_fields(demo):
    p = parse_document("x.json", (demo.folder / "ncmec-batch-sextortion.json").read_bytes())
    assert p.format == "ncmec" and not p.errors and len(p.referrals) == 4
    r = p.referrals[0]
    assert r.report_id == "7100001" and r.report_annotations == ["sextortion"]
    assert r.files[0].annotations == ["possibleSelfProduction"] and r.victim_ages == [14.0]
    kinds = {m.kind for m in r.mentions}
    assert {
        "platform_id",
        "screen_name",
        "email",
        "phone",
        "ip",
        "crypto",
        "promptpay",
        "md5",
    } <= kinds
    ip = next(m for m in r.mentions if m.kind == "ip")
    assert ip.at is not None and ip.role == "reported"
    # the reporting company's own address is kept as the reporting party's, never the suspect's
    own = [m for m in r.mentions if m.kind == "email" and "safety@" in m.value]
    assert own and all(m.role == "reporting_party" for m in own)


def test_unknown_fields_are_listed_and_kept(demo):
    p = parse_document("esp.xml", (demo.folder / "esp-XML-730001.xml").read_bytes())
    r = p.referrals[0]
    assert p.format == "cybertip-xml" and r.report_annotations == ["csamSolicitation"]
    assert any("newFieldFromAFutureVersion" in f for f in r.unknown_fields)
    assert r.files[0].md5 and r.files[0].annotations == ["possibleSelfProduction"]
    assert any(m.kind == "device" for m in r.mentions)
    doc = {
        "reportId": "1",
        "brandNewSection": {"x": 1},
        "reportedInformation": {"incidentSummary": {}},
    }
    r = parse_document("n.json", json.dumps(doc).encode()).referrals[0]
    assert "brandNewSection" in r.unknown_fields


def test_hotline_csv_and_json(demo):
    p = parse_document("h.csv", (demo.folder / "hotline-reports.csv").read_bytes())
    assert p.format == "hotline" and len(p.referrals) == 4
    last = p.referrals[-1]
    assert any(m.kind == "url" and m.value == "other.example.org/x" for m in last.mentions)
    assert last.hotline["classification"] == "national" and last.countries == ["NL"]
    doc = [{"reportId": "H1", "url": "https://a.example.com/1", "hostingCountry": "TH", "ageGroup": "infant",
            "classification": "baseline"}, {"url": "", "classification": "baseline"}]  # fmt: skip
    p = parse_document("h.json", json.dumps(doc).encode())
    assert (
        p.format == "hotline"
        and len(p.referrals) == 1
        and p.referrals[0].hotline["age_group"] == "infant"
    )
    assert len(p.errors) == 1 and "url" in p.errors[0]


def test_generic_csv_with_a_column_mapping():
    text = ("Ref;Seen;Login IP;Mail\n"
            "A-1;2026-10-01T10:00:00Z;198.51.100.4;x@example.com\n"
            "A-1;2026-10-02T10:00:00Z;198.51.100.5;\n"
            ";2026-10-02;198.51.100.6;\n")  # fmt: skip
    cols = {
        "report_id": ["ref"],
        "received_at": ["seen"],
        "ip": ["login ip"],
        "ip_time": ["seen"],
        "email": ["mail"],
    }
    p = parse_document("agency.csv", text.encode(), "csv", csv_columns=cols)
    assert len(p.referrals) == 1 and len(p.errors) == 1 and "line 4" in p.errors[0]
    r = p.referrals[0]
    assert sorted(m.value for m in r.mentions if m.kind == "ip") == ["198.51.100.4", "198.51.100.5"]
    assert all(m.at for m in r.mentions if m.kind == "ip")
    with pytest.raises(ReferralError, match="no report id column"):
        parse_document("agency.csv", text.encode(), "csv")


@pytest.mark.parametrize(
    "name,data,match",
    [("a.json", b'{"reportId": 1, ', "not valid JSON"),
     ("a.xml", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "x">]><report>&a;</report>', "DTD"),
     ("a.xml", b"<other/>", "no <report> element"),
     ("a.json", "{}".encode("utf-16"), "not UTF-8"),
     ("a.json", b"   ", "empty")],
)  # fmt: skip
def test_broken_documents_are_rejected_with_a_clear_error(name, data, match):
    with pytest.raises(ReferralError, match=match):
        parse_document(name, data)


def test_one_bad_report_in_a_batch_does_not_stop_the_others():
    doc = [{"reportId": "1", "reportedInformation": {}}, {"dateReceived": "2026-01-01"}, "junk"]
    p = parse_document("b.json", json.dumps(doc).encode())
    assert [r.report_id for r in p.referrals] == ["1"] and len(p.errors) == 2
    assert "$[1]: no reportId" in p.errors[0]


# ---- store: duplicates, originals, zip ------------------------------------------------------
def test_import_duplicates_originals_and_zip(db_url, demo):
    engine = make_engine(db_url)
    s = ReferralSettings()
    res = import_documents(engine, read_inputs([demo.archive]), "test", settings=s)
    assert res.new == 4 + 4 + 2 + 2 + 4 + 8 + (1 if demo.sharer_guid else 0)
    assert len(res.rejected) == 2 and any("broken.json" in r for r in res.rejected)
    assert len(res.duplicates) == 1 and "7200002" in res.duplicates[0]
    again = import_documents(
        engine, read_inputs([demo.folder / "ncmec-7200001.json"]), "test", settings=s
    )
    assert again.new == 0 and again.documents_already == 1
    # the same report in another wrapper: a duplicate by id and content
    one = json.loads((demo.folder / "ncmec-7200001.json").read_text())
    again = import_documents(
        engine, [("wrapped.json", json.dumps({"reports": [one]}).encode(), None)], "t", settings=s
    )
    assert again.new == 0 and len(again.duplicates) == 1
    with engine.connect() as conn:
        (rid,) = conn.execute(
            select(referrals.c.id).where(referrals.c.report_id == "7200001")
        ).one()
        n_audit = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    raw = (demo.folder / "ncmec-7200001.json").read_bytes()
    assert original_document(engine, rid) == raw  # byte for byte
    assert n_audit >= 9  # one entry per imported document
    engine.dispose()


# ---- linking rules --------------------------------------------------------------------------
def _ip(actor, minutes, ip="198.51.100.9"):
    return Sighting(actor, "ip", ip, T0 + timedelta(minutes=minutes), "f")


def test_ip_links_only_within_the_window():
    pol = LinkPolicy(ip_window=timedelta(hours=24))
    g = build_graph(
        [_ip("R:1", 0), _ip("R:2", 20 * 60), _ip("R:3", 40 * 60), _ip("R:4", 30 * 24 * 60)], {}, pol
    )
    assert g.has_edge("R:1", "R:2") and g.has_edge("R:2", "R:3")
    assert not g.has_edge("R:1", "R:3") and not any(
        g.has_edge("R:4", x) for x in ("R:1", "R:2", "R:3")
    )
    ev = g.edges["R:1", "R:2"]["evidence"][0]
    assert ev["gap_minutes"] == 1200.0 and ev["ip"] == "198.51.100.9"
    nets = components(g, pol)
    assert [n.actors for n in nets] == [["R:1", "R:2", "R:3"]]  # R:4 is alone
    narrow = LinkPolicy(ip_window=timedelta(hours=1))
    assert components(build_graph([_ip("R:1", 0), _ip("R:2", 20 * 60)], {}, narrow), narrow) == []


def test_ip_without_time_or_shared_ip_never_links():
    pol = LinkPolicy()
    g = build_graph([Sighting("R:1", "ip", "198.51.100.9"), Sighting("R:2", "ip", "198.51.100.9"),
                     _ip("R:3", 0, "10.0.0.1"), _ip("R:4", 1, "10.0.0.1")], {}, pol)  # fmt: skip
    assert components(g, pol) == []


def test_hub_identifiers_do_not_join():
    pol = LinkPolicy(max_actors=3)
    hub = [Sighting(f"R:{i}", "domain", "big.example.com") for i in range(5)]
    g = build_graph(
        [
            *hub,
            Sighting("R:1", "email", "a@example.com"),
            Sighting("R:2", "email", "a@example.com"),
        ],
        {},
        pol,
    )
    assert not g.nodes["domain:big.example.com"]["joins"]
    assert "host alone" in g.nodes["domain:big.example.com"]["reason"]
    assert [n.actors for n in components(g, pol)] == [["R:1", "R:2"]]


def test_confirmed_only_policy_ignores_tentative_links():
    s = [Sighting("R:1", "screen_name", "chat|x"), Sighting("R:2", "screen_name", "chat|x"),
         Sighting("R:3", "phone", "+66815550100"), Sighting("R:4", "phone", "+66815550100")]  # fmt: skip
    assert len(components(build_graph(s, {}, LinkPolicy()), LinkPolicy())) == 2
    strict = LinkPolicy(min_strength="confirmed")
    nets = components(build_graph(s, {}, strict), strict)
    assert [n.actors for n in nets] == [["R:3", "R:4"]]
    assert nets[0].joins[0].kind == "phone" and nets[0].joins[0].strength == "confirmed"


def test_planted_networks_are_found_and_decoys_stay_alone(db_url, demo):
    engine = make_engine(db_url)
    s = ReferralSettings()
    import_documents(engine, read_inputs([demo.folder]), "test", settings=s)
    g, nets = networks(engine, s)
    with engine.connect() as conn:
        rid = dict(conn.execute(select(referrals.c.id, referrals.c.report_id)).all())
    found = [{rid[int(a[2:])] for a in n.referrals} for n in nets]
    for name, planted in demo.networks.items():
        if name != "P2P sharer":
            assert planted in found, (name, found)
    for d in demo.decoys:
        assert not any(d in f for f in found), d
    ring = next(
        n
        for n in nets
        if {rid[int(a[2:])] for a in n.referrals} == demo.networks["sextortion ring"]
    )
    assert {j.kind for j in ring.joins} >= {"crypto", "promptpay"} and ring.joins[
        0
    ].strength == "confirmed"
    # exports: GraphML that networkx reads back, and i2/Maltego-style CSV
    back = nx.parse_graphml(to_graphml(g))
    assert (
        back.number_of_nodes() == g.number_of_nodes()
        and back.number_of_edges() == g.number_of_edges()
    )
    nodes_csv, edges_csv = to_csv(g)
    assert (
        nodes_csv.splitlines()[0] == "id,type,label,kind,hub"
        and len(edges_csv.splitlines()) == g.number_of_edges() + 1
    )
    assert rebuild_cases(engine, s) == len(rid) - sum(
        len(n.referrals) - 1 for n in nets if n.referrals
    )
    engine.dispose()


def test_referrals_meet_p2p_sharers(db_url, demo):
    """A referral naming a P2P GUID, and one with an IP a sharer used 40 minutes apart, join it."""
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            insert(items).values(
                id=1, kind="p2p_file", key="k" * 64, text="f.jpg", sha1="ab" * 20, seen_count=1
            )
        )
        conn.execute(
            insert(sharers).values(
                id=1, network="gnutella", guid="AABBCCDDEEFF00112233445566778899"
            )
        )
        conn.execute(
            insert(observations).values(
                row_key=1, sharer_id=1, item_id=1, ip="203.0.113.8", seen_at=T0
            )
        )
        conn.execute(
            insert(sharer_ips).values(sharer_id=1, ip="203.0.113.8", first_seen=T0, last_seen=T0)
        )
        conn.execute(insert(findings).values(id=1, item_id=1, kind="unknown-flagged", priority=8.0, breakdown={},
                                             status="new", updated_at=T0))  # fmt: skip
    docs = [{"reportId": "P1", "reportedInformation": {"reportedPeople": {"reportedPersons": [{"ipCaptureEvents": [
                {"ipAddress": "203.0.113.8", "dateTime": (T0 + timedelta(minutes=40)).isoformat()}]}]}}},
            {"reportId": "P2", "uploadedFiles": {"uploadedFiles": [{"filename": "x", "sha1": "AB" * 20}]}},
            {"reportId": "P3", "reportedInformation": {"incidentDetails": {"guid": "{aabbccdd-eeff-0011-2233-445566778899}"}}},
            {"reportId": "P4", "reportedInformation": {"reportedPeople": {"reportedPersons": [{"ipCaptureEvents": [
                {"ipAddress": "203.0.113.8", "dateTime": (T0 + timedelta(days=5)).isoformat()}]}]}}}]  # fmt: skip
    s = ReferralSettings()
    import_documents(engine, [("p.json", json.dumps(docs).encode(), None)], "t", settings=s)
    g, _ = load_graph(engine, s)
    nets = components(g, LinkPolicy())
    assert len(nets) == 1 and "S:1" in nets[0].actors
    with engine.connect() as conn:
        rid = dict(conn.execute(select(referrals.c.id, referrals.c.report_id)).all())
    # P1 by the IP (40 minutes apart), P3 by the GUID; not P4 (5 days later), and not P2: a file
    # held by both is a lead shown with P2's case, never a merge (unrelated people hold one file)
    assert {rid[int(a[2:])] for a in nets[0].referrals} == {"P1", "P3"}
    p2 = next(f"R:{i}" for i, r in rid.items() if r == "P2")
    alone = next(n for n in components(g, min_actors=1, central_top=0) if p2 in n.actors)
    assert alone.actors == [p2] and alone.context == ["S:1", "F:1"]
    rebuild_cases(engine, s)
    with engine.connect() as conn:
        c = conn.execute(
            select(cases).where(cases.c.status == "open").order_by(cases.c.priority.desc())
        ).first()
    assert c.sharer_ids == [1] and "triage_findings" in c.breakdown
    with engine.connect() as conn:
        p2 = next(i for i, r in rid.items() if r == "P2")
        p2_case = conn.execute(select(cases).where(cases.c.key == f"C{p2}")).first()
    assert p2_case.sharer_ids == [1]
    assert any("finding 1 (unknown-flagged)" in e for e in p2_case.evidence["triage_findings"])
    engine.dispose()


def test_cases_merge_when_a_new_referral_joins_them(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'm.db'}")
    s = ReferralSettings()
    a = {
        "reportId": "A",
        "reportedInformation": {
            "reportedPeople": {"reportedPersons": [{"emails": ["a@example.com"]}]}
        },
    }
    b = {
        "reportId": "B",
        "reportedInformation": {
            "reportedPeople": {"reportedPersons": [{"emails": ["b@example.com"]}]}
        },
    }
    import_documents(engine, [("a.json", json.dumps([a, b]).encode(), None)], "t", settings=s)
    rebuild_cases(engine, s)
    c = {"reportId": "C", "reportedInformation": {"reportedPeople": {"reportedPersons": [
        {"emails": ["a@example.com", "b@example.com"]}]}}}  # fmt: skip
    import_documents(engine, [("c.json", json.dumps(c).encode(), None)], "t", settings=s)
    rebuild_cases(engine, s)
    with engine.connect() as conn:
        rows = {r.key: r for r in conn.execute(select(cases))}
    assert rows["C1"].status == "open" and rows["C1"].referral_ids == [1, 2, 3]
    assert rows["C2"].status == "merged" and rows["C2"].merged_into == "C1"


# ---- case priority --------------------------------------------------------------------------
def _ref(**kw) -> dict:
    base = {"source": "ncmec", "report_id": "1", "report_annotations": [], "files": [], "victim_ages": [],
            "mentions": [], "texts": [], "countries": [], "prior_reports": [], "hotline": {},
            "escalate": None, "incident_type": ""}  # fmt: skip
    return {**base, **kw}


FACTOR_CASES = {
    "escalated": _ref(escalate="immediate risk"),
    "live_streaming": _ref(files=[{"name": "a", "annotations": ["liveStreaming"]}]),
    "infant": _ref(victim_ages=[1.0]),
    "young_victim": _ref(victim_ages=[9.0]),
    "sextortion": _ref(report_annotations=["sextortion"]),
    "payment": _ref(mentions=[{"kind": "crypto", "value": "trx|T1", "display": "T1"}]),
    "thai_nexus": _ref(
        mentions=[{"kind": "phone", "value": "+66815550100", "display": "0815550100"}]
    ),
    "contact_abuse": _ref(incident_type="Child Sexual Molestation"),
}


@pytest.mark.parametrize("factor", sorted(FACTOR_CASES))
def test_priority_rises_with_each_factor_and_explains_it(factor):
    plain = case_priority(CaseFacts([_ref()]))
    more = case_priority(CaseFacts([FACTOR_CASES[factor]]))
    assert more.score > plain.score and factor in more.breakdown and more.evidence[factor]
    assert abs(sum(more.breakdown.values()) - more.score) < 1e-6
    zero = case_priority(CaseFacts([FACTOR_CASES[factor]]), {factor: 0.0})
    assert (
        zero.score == pytest.approx(more.score - more.breakdown[factor])
        and factor not in zero.breakdown
    )


def test_priority_counts_linked_referrals_and_lowers_ai_only_cases():
    one = case_priority(CaseFacts([_ref()]))
    three = case_priority(
        CaseFacts([_ref(), _ref(report_id="2"), _ref(report_id="3", prior_reports=["9"])])
    )
    assert three.score > one.score and "linked_referrals" in three.breakdown
    ai = case_priority(CaseFacts([_ref(files=[{"name": "a", "annotations": ["generativeAi"]}])]))
    assert ai.score < one.score and set(DEFAULT_CASE_WEIGHTS) >= set(ai.breakdown)
    mixed = case_priority(CaseFacts([_ref(files=[{"name": "a", "annotations": ["generativeAi"]},
                                                 {"name": "b", "annotations": ["infant"]}])]))  # fmt: skip
    assert "generative_ai" not in mixed.breakdown


def test_thai_ip_ranges_from_cidrs_and_apnic_lines():
    ranges = load_ip_ranges(["# comment", "203.0.113.0/24", "apnic|TH|ipv4|198.51.100.0|256|20100101|allocated",
                             "apnic|JP|ipv4|192.0.2.0|256|20100101|allocated", "apnic|TH|ipv6|2001:db8::|32|2010|allocated"])  # fmt: skip
    facts = CaseFacts([_ref(mentions=[{"kind": "ip", "value": "198.51.100.7", "display": "x"}])])
    assert "thai_nexus" in case_priority(facts, thai_ranges=ranges).breakdown
    facts = CaseFacts([_ref(mentions=[{"kind": "ip", "value": "192.0.2.7", "display": "x"}])])
    assert "thai_nexus" not in case_priority(facts, thai_ranges=ranges).breakdown
    with pytest.raises(ValueError, match="not a CIDR"):
        load_ip_ranges(["garbage"])


def test_content_hash_is_of_the_record(demo):
    p = parse_document("x.json", (demo.folder / "ncmec-batch-misc.json").read_bytes())
    assert len({r.content_sha256 for r in p.referrals}) == len(p.referrals)
    assert (
        p.sha256 == hashlib.sha256((demo.folder / "ncmec-batch-misc.json").read_bytes()).hexdigest()
    )


def test_read_inputs_reports_unreadable_paths(tmp_path):
    got = list(read_inputs([tmp_path / "missing.json"]))
    assert got[0][1] is None and "cannot read" in got[0][2]
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.json").write_text("{}")
    assert [Path(n).name for n, _, _ in read_inputs([tmp_path / "d"])] == ["a.json"]


def test_settings_from_the_example_file_and_bad_values(tmp_path):
    from ocsea.config import ConfigError, load_settings

    example = (Path(__file__).parents[1] / "ocsea.toml.example").read_text()
    part = example[example.index("[referrals]") :]
    (tmp_path / "o.toml").write_text(part)
    r = load_settings(tmp_path / "o.toml").referrals
    assert r.ip_window_hours == 24 and r.case_weights["generative_ai"] == -0.5
    assert r.due_days["mlat"] == 180 and r.csv_columns["report_id"][0] == "case_number"
    for bad in (
        "[referrals]\nmin_strength = 'maybe'",
        "[cases.weights]\nnope = 1",
        "[requests.due_days]\nletter = 3",
        "[referrals]\nip_window_hours = 0",
    ):
        (tmp_path / "b.toml").write_text(bad)
        with pytest.raises(ConfigError):
            load_settings(tmp_path / "b.toml")


def test_a_csv_with_a_thai_character_across_byte_4096_is_read():
    # The format sniffer looks at the first 4 KB: a window cut inside a Thai character made the
    # whole file "not UTF-8" (issue 15).
    header = b"report_id,url,received_at,notes\n"
    row = "R{:04d},https://example.com/p/{:04d},2026-11-01T10:00:00Z,รายงานจากสายด่วน\n"
    body = b"".join(row.format(i, i).encode() for i in range(200))
    data = header + body
    cut = 4096
    shift = next(k for k in range(0, 60) if (b"x" * k + data)[cut] & 0xC0 == 0x80)
    data = header[:-1] + b" " * shift + b"\n" + body  # pad the header so byte 4096 is mid-character
    assert data[cut] & 0xC0 == 0x80, "byte 4096 must fall inside a multi-byte character"
    parsed = parse_document("hotline.csv", data)
    assert len(parsed.referrals) == 200 and not parsed.errors
