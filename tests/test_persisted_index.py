"""The match index kept beside the database: mapped back when no list changed, rebuilt when one
did, never stale after the database is made again, and still working where it cannot be kept."""

import json
import random

import numpy as np

from ocsea.hashlists.store import import_file
from ocsea.match.matcher import Matcher
from ocsea.match.persisted import index_root
from ocsea.media.hashing import Digests, PdqHash
from ocsea.store.db import make_engine


def _pdq(rng):
    return f"{rng.getrandbits(256):064x}"


def _list(path, rng, n, category="A1"):
    rows = [{"pdq": _pdq(rng), "sha256": f"{rng.getrandbits(256):064x}", "category": category,
             "media_id": f"m{k}"} for k in range(n)]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def _flip(hexhash, bits):
    v = int(hexhash, 16)
    for b in bits:
        v ^= 1 << b
    return f"{v:064x}"


def _digests(sha256):
    return Digests(md5="0" * 32, sha1="0" * 40, sha256=sha256, size=1)


def test_second_open_maps_the_kept_index_and_answers_the_same(tmp_path):
    rng = random.Random(1)
    engine = make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    rows = _list(tmp_path / "a.jsonl", rng, 300)
    import_file(engine, tmp_path / "a.jsonl", "a")
    built = Matcher.from_store(engine)
    assert list(index_root(engine).glob("*/meta.json")), "the index was not kept"
    mapped = Matcher.from_store(engine)
    assert isinstance(mapped.pdq.words, np.memmap)
    q = PdqHash(_flip(rows[7]["pdq"], [3, 90, 200]), 100)
    a, b = built.match_pdq([q]), mapped.match_pdq([q])
    assert a == b and a[0].distance == 3 and a[0].media_id == "m7" and a[0].list_name == "a"
    assert mapped.match_digests(_digests(rows[9]["sha256"]))[0].category == "A1"
    assert mapped.n_entries == 300


def test_an_import_is_seen_at_once_and_the_old_index_goes(tmp_path):
    rng = random.Random(2)
    engine = make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    _list(tmp_path / "a.jsonl", rng, 50)
    import_file(engine, tmp_path / "a.jsonl", "a")
    Matcher.from_store(engine)
    new = _list(tmp_path / "b.jsonl", rng, 5, category="B2")
    import_file(engine, tmp_path / "b.jsonl", "b")
    m = Matcher.from_store(engine)
    hit = m.match_digests(_digests(new[0]["sha256"]))
    assert [(h.list_name, h.category) for h in hit] == [("b", "B2")]
    assert len(list(index_root(engine).glob("*/meta.json"))) == 1


def test_a_database_made_again_with_other_lists_of_the_same_size_is_not_stale(tmp_path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    engine = make_engine(url)
    first = _list(tmp_path / "a.jsonl", random.Random(3), 20)
    import_file(engine, tmp_path / "a.jsonl", "a")
    Matcher.from_store(engine)
    engine.dispose()
    (tmp_path / "o.db").unlink()
    engine = make_engine(url)
    second = _list(tmp_path / "b.jsonl", random.Random(4), 20)
    import_file(engine, tmp_path / "b.jsonl", "a")
    m = Matcher.from_store(engine)
    assert not m.match_digests(_digests(first[0]["sha256"]))
    assert m.match_digests(_digests(second[0]["sha256"]))


def test_a_place_that_cannot_be_written_still_matches(tmp_path, monkeypatch):
    rng = random.Random(5)
    engine = make_engine(f"sqlite:///{tmp_path / 'o.db'}")
    rows = _list(tmp_path / "a.jsonl", rng, 10)
    import_file(engine, tmp_path / "a.jsonl", "a")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("OCSEA_INDEX_DIR", str(blocker / "index"))
    m = Matcher.from_store(engine)
    assert m.match_digests(_digests(rows[0]["sha256"]))


def test_chunk_values_from_words_equal_those_from_bytes():
    """The index is built from the words so that the bytes can go; every chunk a plan can make
    (sizes 11..16 bits at any start) must read the same bits either way."""
    from ocsea.match.pdq_index import (
        _chunk_sizes,
        _chunk_values,
        _word_chunk_values,
        bytes_to_words,
    )

    raw = np.random.default_rng(7).integers(0, 256, size=(500, 32), dtype=np.uint8)
    words = bytes_to_words(raw)
    for m in (16, 17, 20, 23):
        sizes = _chunk_sizes(m)
        start = 0
        for size in sizes:
            assert np.array_equal(
                _word_chunk_values(words, start, size), _chunk_values(raw, start, size)
            )
            start += size
    for start in range(0, 256 - 16, 7):  # every offset, chunks crossing word edges included
        assert np.array_equal(_word_chunk_values(words, start, 16), _chunk_values(raw, start, 16))
