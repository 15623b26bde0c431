import hashlib
import json
from pathlib import Path

import pytest

from ocsea.hashlists.formats import HashListError, detect_format, parse, to_jsonl, to_vics
from ocsea.hashlists.store import import_file, list_entries, list_lists
from ocsea.store.db import make_engine

FIX = Path(__file__).parent / "data" / "hashlists"


@pytest.fixture
def engine(db_url):
    e = make_engine(db_url)
    yield e
    e.dispose()


@pytest.mark.parametrize(
    ("name", "fmt", "n"),
    [
        ("vics-2.0.json", "vics", 2),
        ("vics-1.x-cases.json", "vics", 2),
        ("vics-cases-toplevel.json", "vics", 1),
        ("icse.csv", "icse", 2),
        ("ncmec.csv", "ncmec", 2),
        ("plain.txt", "text", 3),
        ("ours.jsonl", "jsonl", 2),
    ],
)
def test_every_format_detects_and_parses(name, fmt, n):
    text = (FIX / name).read_text()
    assert detect_format(name, text[:4096]) == fmt
    entries = parse(fmt, text, name)
    assert len(entries) == n
    assert all(e.has_hash() for e in entries)


def test_fields_and_unknown_fields_are_kept():
    v2 = parse("vics", (FIX / "vics-2.0.json").read_text(), "v")
    assert v2[0].md5 == "adebf3fa3c9be7f73825e1cb9e2dea09" and v2[0].sha1.startswith("2b037f")
    assert v2[0].category == "1" and v2[0].media_id == "1"
    assert v2[0].extra["MediaSize"] == 2835 and v2[1].photodna == "AAECAwQFBgcICQ=="
    v1 = parse("vics", (FIX / "vics-1.x-cases.json").read_text(), "v")
    assert v1[0].extra["Tags"] == ["t1"] and v1[1].category == "4"
    icse = parse("icse", (FIX / "icse.csv").read_text(), "i")
    assert icse[0].category == "baseline" and icse[1].category == "icse"
    assert icse[0].extra["Series name"] == "test-series" and icse[1].photodna == "AAEC"
    nc = parse("ncmec", (FIX / "ncmec.csv").read_text(), "n")
    # Image MD5 and SHA-1 are kept (python-threatexchange 1.2.x dropped them: DESIGN §4).
    assert nc[0].md5 and nc[0].sha1 and nc[0].category == "A1" and nc[0].media_id == "n1"
    assert nc[0].extra == {"Notes": "benign fixture"}
    js = parse("jsonl", (FIX / "ours.jsonl").read_text(), "j")
    assert js[0].extra == {"note": "kept"} and js[1].vpdq and js[0].pdq_quality == 100


@pytest.mark.parametrize(
    ("name", "body", "where"),
    [
        ("bad.txt", "45c48cce2e2d7fbdea1afc51c7c6ad26\nnothex!\n", r"bad\.txt:2"),
        ("bad.jsonl", '{"md5": "abc"}\n', r"bad\.jsonl:1: field 'md5'"),
        (
            "bad.jsonl",
            '{"md5": "45c48cce2e2d7fbdea1afc51c7c6ad26"}\n{oops\n',
            r"bad\.jsonl:2: invalid JSON",
        ),
        (
            "bad.csv",
            "MD5;SHA1;PhotoDNA;Image ID;Is distributed;Victim identified;Offender identified;Series name;Number of submissions;File Available;Media Type;Baseline\nzz;;;1;;;;;;;;\n",
            r"bad\.csv:2: field 'md5'",
        ),
        (
            "bad.json",
            '{"value": [{"MediaID": 1, "MD5": "12"}]}',
            r"bad\.json(:\d+)?: value\[0\]: field 'md5'",
        ),
    ],
)
def test_malformed_files_name_file_line_field_and_import_nothing(
    engine, tmp_path, name, body, where
):
    p = tmp_path / name
    p.write_text(body)
    with pytest.raises(HashListError, match=where):
        import_file(engine, p, "l", strict=True)  # --strict: one bad row refuses the file
    assert all(li.n_entries == 0 for li in list_lists(engine))


def test_reimport_is_idempotent_and_provenance_kept(engine):
    r1 = import_file(engine, FIX / "vics-2.0.json", "pv", source="Project VIC test")
    r2 = import_file(engine, FIX / "vics-2.0.json", "pv")
    assert (r1.n_new, r2.n_new, r2.already_imported) == (2, 0, True)
    r3 = import_file(engine, FIX / "vics-1.x-cases.json", "pv")
    assert r3.n_new == 2
    (info,) = list_lists(engine)
    assert info.name == "pv" and info.n_entries == 4 and info.source == "Project VIC test"
    assert info.categories == {"0": 1, "1": 1, "2": 1, "4": 1} and info.imports == 2


def test_overlapping_file_adds_only_new_entries(engine, tmp_path):
    import_file(engine, FIX / "plain.txt", "t")
    more = tmp_path / "more.txt"
    more.write_text((FIX / "plain.txt").read_text() + "c4ca4238a0b923820dcc509a6f75849b\n")
    assert import_file(engine, more, "t").n_new == 1


def test_export_round_trips(engine, tmp_path):
    for f in ("vics-2.0.json", "icse.csv", "ours.jsonl"):
        import_file(engine, FIX / f, "mix")
    entries = list_entries(engine, "mix")
    vics = tmp_path / "out.json"
    vics.write_text(to_vics(entries, "mix"))
    doc = json.loads(vics.read_text())
    assert "@odata.context" in doc and len(doc["value"]) == len(entries)
    jl = tmp_path / "out.jsonl"
    jl.write_text(to_jsonl(entries))
    import_file(engine, jl, "copy")
    again = list_entries(engine, "copy")
    assert [(e.md5, e.sha1, e.sha256, e.pdq) for e in again] == [
        (e.md5, e.sha1, e.sha256, e.pdq) for e in entries
    ]
    import_file(engine, vics, "copy2", fmt="vics")
    assert {e.md5 for e in list_entries(engine, "copy2")} == {e.md5 for e in entries}


def test_text_64_digit_lines_can_be_pdq(tmp_path):
    p = tmp_path / "pdq.txt"
    p.write_text("ddcbeead0ca464018b5a84f5daad60beab630cda23a3765921d536ba1deb083a\n")
    (e,) = parse("text", p.read_text(), "p", text_type="pdq")
    assert e.pdq and not e.sha256


def test_a_minified_vics_file_exports_in_its_own_order(engine, tmp_path):
    """A minified VICS file is one line: its entries keep their place by the row's position in
    the file, not by the line (they came back in key order)."""
    from ocsea.hashlists.formats import HashEntry

    md5s = [hashlib.md5(str(i).encode()).hexdigest() for i in range(40)]
    doc = json.loads(to_vics([HashEntry(md5=h) for h in md5s], "v"))
    path = tmp_path / "min.json"
    path.write_text(json.dumps(doc, separators=(",", ":")))
    assert len(path.read_text().splitlines()) == 1
    import_file(engine, path, "m")
    assert [e.md5 for e in list_entries(engine, "m")] == md5s
    assert md5s != sorted(md5s)
