"""Lossless hash lists: every row kept as a source, per-row rejects with lines, PhotoDNA columns,
ICSE columns by name, updated lists re-categorise with history (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocsea.hashlists.formats import HashListError, detect_format, parse
from ocsea.hashlists.store import entry_history, import_file
from ocsea.store.db import make_engine

H1, H2, H3 = (
    "45c48cce2e2d7fbdea1afc51c7c6ad26",
    "c4ca4238a0b923820dcc509a6f75849b",
    "c81e728d9d4c2f636f067f89cc14862c",
)


@pytest.fixture
def engine(tmp_path):
    e = make_engine(f"sqlite:///{tmp_path / 'l.db'}")
    yield e
    e.dispose()


def test_bad_rows_are_named_with_their_line_and_the_others_imported(engine, tmp_path):
    f = tmp_path / "list.csv"
    f.write_text(f"MD5,Category\n{H1},1\nnothex,2\n{H2},2\n,,\n{H3}\n")
    r = import_file(engine, f, "l")
    assert r.n_new == 2 and len(r.rejected) == 2
    assert r.rejected[0].endswith("list.csv:3: field 'md5' is not a 32-digit hex MD5 hash")
    assert "list.csv:6" in r.rejected[1]
    with pytest.raises(HashListError, match=r"list\.csv:3"):
        import_file(engine, f, "strict", strict=True)


def test_a_vics_row_error_names_its_line(tmp_path):
    doc = '{"value": [\n  {"MediaID": 1, "MD5": "' + H1 + '"},\n  {"MediaID": 2, "MD5": "12"}\n]}'
    rejects: list[str] = []
    got = parse("vics", doc, "v.json", rejects=rejects)
    assert len(got) == 1 and rejects == [
        "v.json:3: value[1]: field 'md5' is not a 32-digit hex MD5 hash"
    ]


def test_vics_case_fields_are_kept():
    doc = json.dumps({"@odata.context": "x", "Cases": [{"CaseID": "K-7", "CaseNumber": "2026/11",
                      "Media": [{"MediaID": 1, "MD5": H1, "Category": 1}]}]})  # fmt: skip
    (e,) = parse("vics", doc, "c.json")
    assert e.extra["CaseID"] == "K-7" and e.extra["CaseNumber"] == "2026/11"


def test_photodna_columns_are_stored_even_alone():
    got = parse("ncmec", "pdna,category\nAAAA,1\n", "n.csv")
    assert got[0].photodna == "AAAA"


def test_icse_columns_are_found_by_name():
    text = f"SHA1;Image ID;MD5;PhotoDNA;Baseline;Extra column\n;42;{H1};;yes;x\n"
    assert detect_format("export.csv", text) == "icse"
    (e,) = parse("icse", text, "export.csv")
    assert (e.md5, e.media_id, e.category, e.extra["Extra column"]) == (H1, "42", "baseline", "x")


def test_a_second_row_and_an_updated_list_keep_their_provenance(engine, tmp_path):
    a = tmp_path / "v1.csv"
    a.write_text(f"MD5,Category,ID\n{H1},1,m-1\n{H1},1,m-2\n")
    r1 = import_file(engine, a, "l")
    assert r1.n_new == 1 and not r1.conflicts
    b = tmp_path / "v2.csv"
    b.write_text(f"MD5,Category,ID\n{H1},2,m-1\n")
    r2 = import_file(engine, b, "l")
    assert r2.n_new == 0 and len(r2.conflicts) == 1 and "was '1', now '2'" in r2.conflicts[0]
    (item,) = entry_history(engine, H1.upper())
    assert item["entry"]["category"] == "2"
    assert [(s["file_name"], s["line"], s["category"], s["media_id"]) for s in item["sources"]] == [
        ("v1.csv", 2, "1", "m-1"), ("v1.csv", 3, "1", "m-2"), ("v2.csv", 2, "2", "m-1")]  # fmt: skip


def test_cli_hashes_import_and_show(tmp_path):
    db = f"sqlite:///{tmp_path / 'c.db'}"
    f = tmp_path / "list.csv"
    f.write_text(f"MD5,Category\n{H1},1\nnothex,2\n")

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "ocsea.cli", *a], capture_output=True, text=True, check=False
        )

    r = run("hashes", "import", str(f), "--list", "l", "--db", db)
    assert (
        r.returncode == 1 and "list.csv:3" in r.stderr and "1 new" in r.stderr
    )  # the good row is in
    shown = run("hashes", "show", H1, "--db", db)
    assert shown.returncode == 0 and "list.csv" in shown.stdout
    assert run("hashes", "show", H2, "--db", db).returncode == 1
    assert run("hashes", "import", str(f), "--list", "s", "--strict", "--db", db).returncode == 2


@pytest.mark.parametrize("fmt_header", [("ncmec", "MD5,Category\n"), ("text", "")])
def test_a_list_read_in_blocks_keeps_file_line_numbers(engine, tmp_path, monkeypatch, fmt_header):
    import ocsea.hashlists.store as store

    monkeypatch.setattr(store, "BLOCK_ROWS", 3)
    fmt, header = fmt_header
    rows = [f"{i:032x}" + (",1" if header else "") for i in range(10)]
    rows[6] = "nothex" + (",1" if header else "")  # a bad row in the third block
    rows.append(rows[0])  # the same hash again, in a later block
    f = tmp_path / f"big.{'csv' if header else 'txt'}"
    f.write_text(header + "\n".join(rows) + "\n")
    r = import_file(engine, f, f"l-{fmt}", fmt=fmt)
    first = 2 if header else 1
    assert r.n_entries == 10 and r.n_new == 9
    assert len(r.rejected) == 1 and f"big.{'csv' if header else 'txt'}:{first + 6}" in r.rejected[0]
    (item,) = entry_history(engine, f"{0:032x}")
    assert [s["line"] for s in item["sources"]] == [first, first + 10]


def test_the_last_row_for_a_hash_holds_and_every_change_is_named(engine, tmp_path):
    f = tmp_path / "abc.csv"
    f.write_text(f"MD5,Category\n{H1},A\n{H1},B\n{H1},C\n")
    r = import_file(engine, f, "l")
    assert len(r.conflicts) == 2 and "now 'C'" in r.conflicts[-1]
    (item,) = entry_history(engine, H1)
    assert item["entry"]["category"] == "C"


def test_an_over_long_category_is_cut_not_refused(engine, tmp_path):
    f = tmp_path / "long.csv"
    f.write_text(f"MD5,Category,ID\n{H1},{'x' * 300},{'m' * 400}\n")
    assert import_file(engine, f, "l").n_new == 1


def test_vpdq_frames_stored_before_frames_were_checked_do_not_break_matching(engine):
    from sqlalchemy import insert

    from ocsea.match.matcher import Matcher
    from ocsea.store.db import hash_entries, hash_lists

    with engine.begin() as conn:
        lid = conn.execute(insert(hash_lists).values(name="old", source="", created_at=__import__("datetime").datetime.now(),
                                                     updated_at=__import__("datetime").datetime.now())).inserted_primary_key[0]  # fmt: skip
        conn.execute(insert(hash_entries).values(list_id=lid, dedupe_key="k", vpdq=["", "a" * 64]))
    m = Matcher.from_store(engine)
    assert list(m.videos.values()) == [["a" * 64]]


def test_a_unicode_line_separator_inside_a_field_neither_cuts_it_nor_shifts_lines(engine, tmp_path):
    f = tmp_path / "u.csv"
    f.write_text(f"MD5,Category,Note\n{H1},1,a\u2028b\nnothex,2,x\n{H2},3,c\n", encoding="utf-8")
    r = import_file(engine, f, "l")
    assert r.n_new == 2 and len(r.rejected) == 1 and "u.csv:3" in r.rejected[0]
    (item,) = entry_history(engine, H1)
    assert item["sources"][0]["extra"] == {"Note": "a\u2028b"}
    rejects: list[str] = []
    got = parse(
        "jsonl",
        f'{{"md5": "{H2}", "note": "a\u2028b"}}\n{{"md5": "bad"}}\n',
        "j.jsonl",
        rejects=rejects,
    )
    assert len(got) == 1 and rejects and "j.jsonl:2" in rejects[0]


def test_simultaneous_imports_of_one_new_list_both_land(engine, tmp_path):
    """Two imports racing to create the same list, and two of the same file: no IntegrityError,
    every entry once, the repeated file reported as already imported."""
    from concurrent.futures import ThreadPoolExecutor

    files = []
    for k in range(4):
        f = tmp_path / f"part{k}.txt"
        f.write_text("".join(f"{(k * 1000 + i):032x}\n" for i in range(300)))
        files.append(f)
    jobs = [files[0], files[1], files[2], files[2], files[3], files[3]]
    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(lambda f: import_file(engine, f, "race"), jobs))
    assert sum(1 for r in results if r.already_imported) == 2
    with engine.connect() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM hash_entries").scalar_one()
        lists = conn.exec_driver_sql("SELECT count(*) FROM hash_lists").scalar_one()
    assert (n, lists) == (1200, 1)


def test_keys_of_a_database_from_before_0013_are_rewritten_so_its_entries_are_found(
    db_url, tmp_path
):
    """Entries imported with the plain SHA-256 keys are still the same entries after the upgrade:
    importing their hashes again adds nothing; a key the importer never made is left alone."""
    import hashlib

    from sqlalchemy import create_engine, select, update

    from ocsea.store.db import hash_entries

    f = tmp_path / "l.csv"
    f.write_text(f"MD5,Category\n{H1},1\n{H2},2\n")
    engine = make_engine(db_url)
    import_file(engine, f, "l")
    with engine.begin() as conn:  # as 0012 left them
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '0012'")
        conn.exec_driver_sql("ALTER TABLE hash_entry_sources DROP COLUMN seq")  # 0014's
        for eid, md5 in conn.execute(select(hash_entries.c.id, hash_entries.c.md5)).all():
            plain = hashlib.sha256(f"{md5}|||||".encode()).hexdigest()
            key = plain if md5 == H1 else "made-by-hand"
            conn.execute(
                update(hash_entries).where(hash_entries.c.id == eid).values(dedupe_key=key)
            )
    engine.dispose()
    engine = make_engine(db_url)  # upgrades to head
    with engine.connect() as conn:
        keys = dict(conn.execute(select(hash_entries.c.md5, hash_entries.c.dedupe_key)).all())
    assert keys[H1].startswith(H1[:16]) and keys[H2] == "made-by-hand"
    again = tmp_path / "again.txt"
    again.write_text(f"{H1}\n")
    assert import_file(engine, again, "l").n_new == 0
    engine.dispose()
    create_engine(db_url).dispose()


@given(
    kind=st.sampled_from(["md5", "sha1", "sha256", "pdq"]),
    values=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=20),
    upper=st.booleans(),
    crlf=st.booleans(),
    last_newline=st.booleans(),
)
def test_a_block_of_bare_hashes_is_staged_as_the_parser_would_stage_it(
    kind, values, upper, crlf, last_newline
):
    """The import's shortcut for national-size lists gives the very rows (keys included) that
    parsing each line into an entry gives."""
    from ocsea.hashlists import store

    n = {"md5": 32, "sha1": 40, "sha256": 64, "pdq": 64}[kind]
    hexes = [v.hex()[:n] for v in values]
    hexes = [h.upper() for h in hexes] if upper else hexes
    end = "\r\n" if crlf else "\n"
    text = end.join(hexes) + (end if last_newline else "")
    fast = store._bare_rows(text, kind, first=7, seq=100)
    entries = parse("text", text, "l.txt", kind, [], shift=6)
    slow = [store._row(e, 100 + i) for i, e in enumerate(entries)]
    at = store._ROW_COLS.index(kind)
    assert fast == [(r[0], r[1], r[at], r[-1]) for r in slow]
    assert all(r[c] is None for r in slow for c in range(2, len(r) - 1) if c != at)


def test_a_stated_type_list_with_a_bad_line_is_read_by_the_parser_in_that_block(
    engine, tmp_path, monkeypatch
):
    from ocsea.hashlists import store

    monkeypatch.setattr(store, "BLOCK_ROWS", 4)
    pdq = [f"{i:064x}" for i in range(10)]
    pdq[5] = "# a comment"
    pdq[6] = "nothex"
    f = tmp_path / "p.txt"
    f.write_text("\n".join(pdq) + "\n")
    r = import_file(engine, f, "p", text_type="pdq")
    assert r.n_new == 8 and len(r.rejected) == 1 and "p.txt:7" in r.rejected[0]
    (item,) = entry_history(engine, f"{9:064x}")
    assert [s["line"] for s in item["sources"]] == [10]


@pytest.mark.parametrize("kind", ["md5", "pdq"])
def test_a_list_of_bare_hashes_sorted_in_memory_is_stored_as_the_row_path_stores_it(
    db_url, tmp_path, monkeypatch, kind
):
    """National-size lists of bare hashes skip the database's sort (``_stage_presorted``): the
    entries, their keys, the first row of each key as the entry, and every row's source with its
    line end the same as on the row-by-row path, on both backends and across blocks."""
    from sqlalchemy import text

    from ocsea.hashlists import store

    monkeypatch.setattr(store, "BLOCK_ROWS", 3)
    n = {"md5": 32, "pdq": 64}[kind]
    lead = "ab" * 8
    hexes = [f"{i * 7919:0{n}x}" for i in range(6)]
    hexes += [lead + f"{i:0{n - 16}x}" for i in (3, 1, 2)]  # one lead, three hashes
    hexes += [hexes[1].upper(), hexes[7], hexes[0]]  # repeats, one in upper case
    f = tmp_path / "l.txt"
    f.write_bytes(("\r\n".join(hexes) + "\r\n").encode())
    engine = make_engine(db_url)
    try:
        fast = import_file(engine, f, "fast", text_type=kind)
        monkeypatch.setattr(store, "_bare_list", lambda path, kind: None)
        slow = import_file(engine, f, "slow", text_type=kind)
        assert (fast.n_entries, fast.n_new) == (slow.n_entries, slow.n_new) == (12, 9)

        def stored(name: str):
            with engine.connect() as conn:
                q = (f"SELECT e.dedupe_key, e.{kind}, s.line, s.seq, s.id = (SELECT MIN(id) FROM "
                     "hash_entry_sources WHERE entry_id = e.id) FROM hash_entries e "
                     "JOIN hash_lists l ON l.id = e.list_id JOIN hash_entry_sources s "
                     "ON s.entry_id = e.id WHERE l.name = :n ORDER BY e.id, s.id")  # fmt: skip
                return [tuple(r) for r in conn.execute(text(q), {"n": name})]

        rows = stored("fast")
        assert rows == stored("slow")  # in the same order of ids, shared leads included
        assert len(rows) == 12 and {r[1] for r in rows} == {h.lower() for h in hexes}
        first_lines = sorted(r[2] for r in rows if r[4])
        assert first_lines == [1, 2, 3, 4, 5, 6, 7, 8, 9]  # the first row of a key is its entry
    finally:
        engine.dispose()


def test_a_bare_list_beyond_the_memory_budget_takes_the_row_path(engine, tmp_path, monkeypatch):
    from ocsea.hashlists import store

    f = tmp_path / "l.txt"
    f.write_text("".join(f"{i:064x}\n" for i in range(50)))
    assert store._bare_list(f, "pdq") is not None
    monkeypatch.setattr(store, "PRESORT_MAX_BYTES", 50 * 32)
    assert store._bare_list(f, "pdq") is None
    assert import_file(engine, f, "l", text_type="pdq").n_new == 50
