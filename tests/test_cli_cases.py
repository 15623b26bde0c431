"""The casework commands end to end, as an investigator runs them."""

import json
from datetime import date, timedelta

import networkx as nx

from ocsea.demo.referrals import make_referrals
from tests.test_cli import run


def test_referrals_networks_cases_requests(tmp_path):
    demo = make_referrals(tmp_path / "refs", singletons=5)
    env = {
        "OCSEA_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "OCSEA_CONFIG": str(tmp_path / "none.toml"),
    }
    p = run("referrals", "import", str(demo.archive), env=env, check=False)
    assert p.returncode == 1  # two documents are broken; the rest is in
    text = " ".join(p.stdout.decode().split())
    assert "21 new referrals" in text and "1 duplicates, 2 rejected" in text, text
    assert "broken.json" in p.stderr.decode() and "entity-bomb.xml" in p.stderr.decode()
    p = run("referrals", "list", "--format", "json", "--limit", "100", env=env)
    listed = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert len(listed) == 21 and all(r["case_key"] for r in listed)
    p = run("referrals", "show", "7200002", "--format", "json", env=env)
    shown = json.loads(p.stdout)
    assert shown["report_id"] == "7200002" and any(m["kind"] == "email" for m in shown["mentions"])
    p = run("referrals", "show", str(shown["id"]), "--original", env=env)
    assert json.loads(p.stdout)["reportId"] == "7200002"
    p = run("networks", "--format", "json", env=env)
    nets = json.loads(p.stdout)
    assert len(nets) == 4 and any(j["kind"] == "crypto" for j in nets[0]["joined_by"])
    run("networks", "--format", "graphml", "--out", str(tmp_path / "g.graphml"), env=env)
    assert nx.read_graphml(tmp_path / "g.graphml").number_of_nodes() > 21
    run("networks", "--format", "csv", "--out", str(tmp_path / "csv"), env=env)
    assert (tmp_path / "csv" / "edges.csv").read_text().startswith("source,target")
    p = run("cases", "list", "--format", "json", env=env)
    top = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert top[0]["priority"] >= top[-1]["priority"] and len(top[0]["referrals"]) >= 2
    p = run("cases", "show", top[0]["key"], env=env)
    assert "priority" in p.stdout.decode()
    run("cases", "report", "--out", str(tmp_path / "rep"), env=env)
    page = (tmp_path / "rep" / "cases.html").read_text()
    assert top[0]["key"] in page and "7100001" in page and "crypto" in page
    assert json.loads((tmp_path / "rep" / "cases.json").read_text())[0]["key"] == top[0]["key"]
    sent = (date.today() - timedelta(days=85)).isoformat()
    p = run("requests", "add", "--type", "preservation", "--from", "Thailand", "--to", "United States",
            "--provider", "ExampleChat", "--sent", sent, "--referral", "7100001", env=env)  # fmt: skip
    assert "request 1: preservation" in p.stdout.decode()
    p = run("requests", "due", "--within", "14d", "--format", "json", env=env)
    due = [json.loads(x) for x in p.stdout.decode().splitlines()]
    assert {(d["request"], d["what"]) for d in due} == {(1, "overdue"), (1, "expires")}
    p = run("requests", "update", "1", "--status", "completed", env=env, check=False)
    assert p.returncode == 2 and "cannot go from sent to completed" in p.stderr.decode()
    run("requests", "update", "1", "--status", "acknowledged", env=env)
    run(
        "requests",
        "add",
        "--type",
        "mlat",
        "--from",
        "Thailand",
        "--to",
        "United States",
        "--follows-up",
        "1",
        env=env,
    )
    p = run("requests", "due", "--within", "14d", env=env)
    assert "nothing due" in p.stdout.decode()
    p = run("requests", "show", "1", env=env)
    text = " ".join(p.stdout.decode().split())  # whatever the terminal width
    assert (
        "recorded" in text
        and "status sent → acknowledged" in text
        and "follow_up_id None → 2" in text
    )
    p = run("audit", "verify", env=env)
    assert p.returncode == 0
