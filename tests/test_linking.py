"""Linking by identifier specificity, analysts' corrections, and linking that survives a kill
(issue 15)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from ocsea.config import ReferralSettings
from ocsea.referrals.decisions import (
    DecisionError,
    list_decisions,
    mark_not_identifying,
    merge_cases,
    normalise,
    split_case,
)
from ocsea.referrals.graph import build_graph, components
from ocsea.referrals.linking import Decision, LinkPolicy, Sighting, link
from ocsea.referrals.store import import_documents, needs_relink, rebuild_cases
from ocsea.store.db import cases, make_engine, referrals

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
POL = LinkPolicy()


def _groups(sightings, reporters=None, decisions=()) -> list[list[str]]:
    result = link(sightings, reporters or {}, POL, list(decisions))
    by: dict[str, list[str]] = {}
    for a, g in result.group.items():
        by.setdefault(g, []).append(a)
    return sorted(sorted(v) for v in by.values() if len(v) > 1)


def test_a_personal_identifier_joins_and_says_how_much_it_weighs():
    s = [Sighting("R:1", "email", "a@example.com", display="A@Example.com"),
         Sighting("R:2", "email", "a@example.com", display="a@example.com")]  # fmt: skip
    g = build_graph(s, {}, POL)
    (net,) = components(g)
    (j,) = net.joins
    assert j.kind == "email" and j.weight == 16.0 - 3.0  # prior less 3 bits × log2(2 groups)
    assert {e["written"] for e in j.evidence} == {"A@Example.com", "a@example.com"}


def test_a_value_carried_by_many_otherwise_unrelated_groups_joins_no_one():
    vpn = [
        Sighting(f"R:{i}", "ip", "203.0.113.50", T0 + timedelta(minutes=5 * i)) for i in range(6)
    ]
    assert _groups(vpn) == []
    # four unrelated groups within the window are still specific enough
    assert _groups(vpn[:2]) == [["R:0", "R:1"]]
    contact = [Sighting(f"R:{i}", "email", "desk@partner.example") for i in range(12)]
    assert _groups(contact) == []
    assert _groups(contact[:10]) == [[f"R:{i}" for i in range(10)]]


def test_fan_out_counts_groups_not_reports():
    """Eight reports about one account (joined by its id) and one other report share a phone: two
    groups, so the phone joins them."""
    s = [Sighting(f"R:{i}", "platform_id", "chat|77") for i in range(8)]
    s += [Sighting(f"R:{i}", "phone", "+66815550120") for i in range(9)]
    assert _groups(s) == [sorted(f"R:{i}" for i in range(9))]


def test_what_never_joins():
    cases = {
        "party contact": [Sighting("R:1", "email", "legal@chat.example", role="reporting_party"),
                          Sighting("R:2", "email", "legal@chat.example", role="text")],
        "host alone": [Sighting("R:1", "domain", "chat.example"), Sighting("R:2", "domain", "chat.example"),
                       Sighting("R:1", "url", "chat.example"), Sighting("R:2", "url", "chat.example")],
        "no platform": [Sighting("R:1", "platform_id", "unknown|5"), Sighting("R:2", "platform_id", "unknown|5")],
        "viral file": [Sighting("R:1", "md5", "a" * 32, flags=frozenset({"viral"})),
                       Sighting("R:2", "md5", "a" * 32)],
        "ip a day apart": [Sighting("R:1", "ip", "192.0.2.1", T0),
                           Sighting("R:2", "ip", "192.0.2.1", T0 + timedelta(hours=25))],
        "cgnat": [Sighting("R:1", "ip", "100.64.0.1", T0), Sighting("R:2", "ip", "100.64.0.1", T0)],
        "proxy": [Sighting("R:1", "ip", "192.0.2.2", T0, flags=frozenset({"proxy"})),
                  Sighting("R:2", "ip", "192.0.2.2", T0)],
    }  # fmt: skip
    for name, s in cases.items():
        assert _groups(s) == [], name


def test_a_file_never_joins_referrals_but_brings_sharers_in_as_context():
    same = [Sighting("R:1", "md5", "b" * 32), Sighting("R:2", "md5", "b" * 32),
            Sighting("S:7", "md5", "b" * 32)]  # fmt: skip
    assert _groups(same, {"R:1": "chat", "R:2": "chat"}) == []
    nets = components(build_graph(same, {}, POL), min_actors=1)
    assert all(n.context == ["S:7"] for n in nets if n.referrals)


def test_mentions_that_may_not_join_do_not_poison_the_value_elsewhere():
    """A phone named beside 'police' in one report's free text joins nothing from there, but the
    same phone in two other reports' suspect fields still joins them."""
    s = [Sighting("R:1", "phone", "+66815550130", role="party_text"),
         Sighting("R:2", "phone", "+66815550130", role="reported"),
         Sighting("R:3", "phone", "+66815550130", role="reported")]  # fmt: skip
    assert _groups(s) == [["R:2", "R:3"]]


def test_a_hosting_server_address_joins_no_one():
    s = [Sighting("R:1", "ip", "198.51.100.80", T0, role="hosting"),
         Sighting("R:2", "ip", "198.51.100.80", T0 + timedelta(minutes=20), role="hosting")]  # fmt: skip
    assert _groups(s) == []


def test_the_join_threshold_is_the_documented_one():
    """User names join up to five otherwise unrelated groups, IPs up to four."""
    names = [Sighting(f"R:{i}", "screen_name", "chat|x") for i in range(6)]
    assert _groups(names[:5]) == [[f"R:{i}" for i in range(5)]] and _groups(names) == []
    ips = [Sighting(f"R:{i}", "ip", "192.0.2.90", T0 + timedelta(minutes=i)) for i in range(5)]
    assert _groups(ips[:4]) == [[f"R:{i}" for i in range(4)]] and _groups(ips) == []


def test_configured_party_contacts_never_join():
    s = [Sighting("R:1", "phone", "+6625550177"), Sighting("R:2", "phone", "+6625550177")]
    pol = LinkPolicy(party_contacts=frozenset({("phone", "+6625550177")}))
    assert link(s, {}, pol).verdicts[("phone", "+6625550177")].joins is False


def test_a_split_holds_whatever_joins_the_two_sides_and_a_merge_joins():
    s = [Sighting("R:1", "email", "x@example.com"), Sighting("R:2", "email", "x@example.com"),
         Sighting("R:2", "phone", "+66815550121"), Sighting("R:3", "phone", "+66815550121")]  # fmt: skip
    assert _groups(s) == [["R:1", "R:2", "R:3"]]
    split = Decision(1, "split", side_a=frozenset({"R:3"}), side_b=frozenset({"R:1", "R:2"}))
    assert _groups(s, decisions=[split]) == [["R:1", "R:2"]]
    merge = Decision(2, "merge", side_a=frozenset({"R:1"}), side_b=frozenset({"R:9"}))
    assert _groups([*s, Sighting("R:9", "email", "z@example.com")], decisions=[split, merge]) == [
        ["R:1", "R:2", "R:9"]
    ]


def _doc(rid: str, **person) -> dict:
    return {"reportId": rid, "reportedInformation": {"reportingEsp": {"espName": "ExampleChat"},
            "reportedPeople": {"reportedPersons": [{"espService": "ExampleChat", **person}]}}}  # fmt: skip


def _import(engine, docs, name="d.json"):
    return import_documents(engine, [(name, json.dumps(docs).encode(), None)], "t",
                            settings=ReferralSettings())  # fmt: skip


def _case_sets(engine) -> list[set[str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(referrals.c.report_id, referrals.c.case_key)).all()
    by: dict[str, set[str]] = {}
    for rid, key in rows:
        by.setdefault(key, set()).add(rid)
    return sorted((v for v in by.values() if len(v) > 1), key=sorted)


def test_decisions_survive_every_rebuild_and_are_audited(db_url):
    from ocsea.store.db import audit_log

    engine = make_engine(db_url)
    s = ReferralSettings()
    _import(engine, [_doc("A", emails=["one@example.com"]), _doc("B", emails=["one@example.com"],
                     ipCaptureEvents=[{"ipAddress": "192.0.2.77", "dateTime": T0.isoformat()}]),
                     _doc("C", ipCaptureEvents=[{"ipAddress": "192.0.2.77",
                                                 "dateTime": (T0 + timedelta(minutes=10)).isoformat()}])])  # fmt: skip
    rebuild_cases(engine, s)
    assert _case_sets(engine) == [{"A", "B", "C"}]
    with engine.connect() as conn:
        ids = dict(conn.execute(select(referrals.c.report_id, referrals.c.id)).all())
        key = conn.execute(select(referrals.c.case_key)).scalar()
    with pytest.raises(DecisionError, match="no referral names"):
        mark_not_identifying(engine, "analyst1", "ip", "192.0.2.78", "a typo")
    mark_not_identifying(engine, "analyst1", "ip", "192.0.2.77", "café Wi-Fi")
    assert needs_relink(engine)  # a decision newer than the last relink
    rebuild_cases(engine, s)
    assert _case_sets(engine) == [{"A", "B"}]
    key = f"C{ids['A']}"
    split_case(engine, "analyst1", key, [ids["B"]], "different people")
    rebuild_cases(engine, s)
    assert _case_sets(engine) == []
    _import(engine, [_doc("D", emails=["one@example.com"])], "later.json")
    rebuild_cases(engine, s)  # a new report with the same e-mail joins one side, not both
    assert _case_sets(engine) in ([{"A", "D"}], [{"B", "D"}])
    merge_cases(engine, "analyst1", [f"C{ids['C']}", f"C{ids['A']}"], "same subscriber")
    rebuild_cases(engine, s)
    assert any({"A", "C"} <= c for c in _case_sets(engine))
    assert [d.action for d in list_decisions(engine)] == ["not_identifying", "split", "merge"]
    with engine.connect() as conn:
        actions = [r.action for r in conn.execute(select(audit_log.c.action))]
    assert {"networks.not_identifying", "networks.split", "networks.merge"} <= set(actions)
    engine.dispose()


def test_a_kill_between_storing_and_linking_is_repaired_by_the_next_import(tmp_path):
    from ocsea.cli import app

    db = f"sqlite:///{tmp_path / 'k.db'}"
    engine = make_engine(db)
    _import(engine, [_doc("A", emails=["k@example.com"]), _doc("B", emails=["k@example.com"])])
    # what a kill after the import's commit and before linking leaves: referrals without a case
    with engine.begin() as conn:
        conn.execute(update(referrals).values(case_key=None))
    assert needs_relink(engine)
    runner = CliRunner()
    got = runner.invoke(app, ["cases", "rebuild", "--if-needed", "--db", db])
    assert got.exit_code == 0 and not needs_relink(engine)
    got = runner.invoke(app, ["cases", "rebuild", "--if-needed", "--db", db])
    assert "nothing to relink" in got.output
    with engine.begin() as conn:
        conn.execute(update(referrals).values(case_key=None))
    # the next import, even of nothing new, relinks
    f = tmp_path / "again.json"
    f.write_text(json.dumps([_doc("A", emails=["k@example.com"])]))
    got = runner.invoke(app, ["referrals", "import", str(f), "--db", db])
    assert got.exit_code == 0, got.output
    assert not needs_relink(engine) and _case_sets(engine) == [{"A", "B"}]
    engine.dispose()


def test_one_unreadable_file_does_not_stop_the_others(tmp_path, monkeypatch):
    import ocsea.referrals.store as store

    real = store.parse_document

    def flaky(name, data, *a, **k):
        if name == "bad.json":
            raise KeyError("a reader bug")
        return real(name, data, *a, **k)

    monkeypatch.setattr(store, "parse_document", flaky)
    engine = make_engine(f"sqlite:///{tmp_path / 'f.db'}")
    res = import_documents(engine, [("bad.json", b"{}", None),
                                    ("good.json", json.dumps(_doc("G")).encode(), None)], "t")  # fmt: skip
    assert res.new == 1 and len(res.rejected) == 1 and "bad.json" in res.rejected[0]
    engine.dispose()


def test_cli_corrections(tmp_path):
    from ocsea.cli import app

    db = f"sqlite:///{tmp_path / 'c.db'}"
    engine = make_engine(db)
    _import(engine, [_doc("A", emails=["c@example.com"]), _doc("B", emails=["c@example.com"])])
    rebuild_cases(engine, ReferralSettings())
    with engine.connect() as conn:
        ids = dict(conn.execute(select(referrals.c.report_id, referrals.c.id)).all())
    runner = CliRunner()
    got = runner.invoke(app, ["cases", "split", f"C{ids['A']}", "--referrals", str(ids["B"]),
                              "--note", "two people", "--db", db])  # fmt: skip
    assert got.exit_code == 0 and "kept apart" in got.output, got.output
    assert _case_sets(engine) == []
    got = runner.invoke(app, ["cases", "decisions", "--db", db])
    assert "split" in got.output and "two people" in got.output
    got = runner.invoke(app, ["cases", "revoke", "1", "--db", db])
    assert got.exit_code == 0 and _case_sets(engine) == [{"A", "B"}]
    got = runner.invoke(app, ["cases", "not-identifying", "email", "nonsense", "--db", db])
    assert got.exit_code != 0 and "not a valid email" in str(got.exception)  # main() prints it
    got = runner.invoke(app, ["cases", "split", "C999", "--referrals", "1", "--db", db])
    assert got.exit_code != 0 and "no case" in str(got.exception)
    engine.dispose()


def test_an_analyst_types_identifiers_as_documents_write_them():
    assert normalise("screen_name", "Facebook|@John") == "facebook|john"
    assert normalise("device", "IMEI|49-015420-323751-8") == "imei|490154203237518"
    assert normalise("phone", "081 555 0101") == "+66815550101"
    with pytest.raises(DecisionError):
        normalise("screen_name", "no platform")


def _random_docs(rng, start: int, n: int) -> list[dict]:
    """Reports whose identifiers come from small pools, so that networks, hubs (an IP most of them
    used), platform-less ids and reporting-party contacts all occur."""
    docs = []
    for i in range(start, start + n):
        at = T0 + timedelta(minutes=rng.randrange(0, 600))
        person = {"espService": rng.choice(["ChatA", "ChatB", ""]),
                  "espUserId": f"{rng.randrange(12)}",
                  "emails": [f"p{rng.randrange(40)}@example.com"],
                  "phones": [f"081555{rng.randrange(60):04d}"] if rng.random() < 0.4 else [],
                  "ipCaptureEvents": [{"ipAddress": rng.choice(["192.0.2.1", f"198.51.100.{rng.randrange(30)}"]),
                                       "dateTime": at.isoformat()}]}  # fmt: skip
        docs.append({"reportId": f"X{i}", "reportedInformation": {
            "reportingEsp": {"espName": "ChatA", "email": "legal@chata.example"},
            "reportedPeople": {"reportedPersons": [person]}}})  # fmt: skip
    return docs


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_partial_relink_gives_the_cases_a_full_relink_gives(db_url, seed):
    import random

    rng = random.Random(seed)
    engine = make_engine(db_url)
    s = ReferralSettings()
    first = _import(engine, _random_docs(rng, 0, 120), "a.json")
    rebuild_cases(engine, s, new=first.new_ids)
    second = _import(engine, _random_docs(rng, 120, 30), "b.json")
    rebuild_cases(engine, s, new=second.new_ids)
    partial = _case_sets(engine)
    with engine.connect() as conn:
        open_partial = sorted(
            r[0] for r in conn.execute(select(cases.c.key).where(cases.c.status == "open"))
        )
    rebuild_cases(engine, s)
    assert _case_sets(engine) == partial
    with engine.connect() as conn:
        open_full = sorted(
            r[0] for r in conn.execute(select(cases.c.key).where(cases.c.status == "open"))
        )
    assert open_full == open_partial
    engine.dispose()


def test_a_partial_relink_reads_only_what_the_new_referrals_can_change(tmp_path):
    from ocsea.referrals.store import _closure

    engine = make_engine(f"sqlite:///{tmp_path / 'q.db'}")
    s = ReferralSettings()
    old = _import(
        engine, [_doc(f"O{i}", emails=[f"o{i // 2}@example.com"]) for i in range(40)], "o.json"
    )
    rebuild_cases(engine, s, new=old.new_ids)
    new = _import(engine, [_doc("N1", emails=["o3@example.com"]), _doc("N2", emails=["fresh@example.com"])],
                  "n.json")  # fmt: skip
    with engine.connect() as conn:
        got = _closure(conn, set(new.new_ids))
        ids = dict(conn.execute(select(referrals.c.report_id, referrals.c.id)).all())
    assert got == {ids["N1"], ids["N2"], ids["O6"], ids["O7"]}
    rebuild_cases(engine, s, new=new.new_ids)
    assert {"O6", "O7", "N1"} in _case_sets(engine)
    engine.dispose()


def test_partial_relinks_over_many_batches_match_a_full_relink(tmp_path):
    """Ten seeds, five batches each relinked partially: the cases are the ones a full relink
    makes."""
    import random

    for seed in range(10):
        rng = random.Random(100 + seed)
        engine = make_engine(f"sqlite:///{tmp_path / f's{seed}.db'}")
        s = ReferralSettings()
        start = 0
        for batch in range(5):
            n = rng.randrange(5, 40)
            got = _import(engine, _random_docs(rng, start, n), f"b{batch}.json")
            start += n
            rebuild_cases(engine, s, new=got.new_ids)
        partial = _case_sets(engine)
        rebuild_cases(engine, s)
        assert _case_sets(engine) == partial, seed
        engine.dispose()
