import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocsea.match.exact import ExactIndex
from ocsea.match.pdq_index import PdqIndex


def flip(h: str, bits: list[int]) -> str:
    b = bytearray.fromhex(h)
    for pos in bits:
        b[pos // 8] ^= 1 << (pos % 8)
    return b.hex()


hashes = st.binary(min_size=32, max_size=32).map(bytes.hex)


def assert_same_as_brute_force(idx: PdqIndex, queries: list[str], max_distance: int) -> None:
    """``query`` and ``query_many`` equal ``brute_force`` (ids, distances and order), with the
    candidates de-duplicated by chunk and by set (the C searcher's two ways)."""
    truth = [idx.brute_force(q, max_distance) for q in queries]
    searcher = idx._searcher(max_distance)
    for crowded in (3.0, 0.0, float("inf")):
        searcher.crowded = crowded
        assert [idx.query(q, max_distance) for q in queries] == truth
        assert idx.query_many(queries, max_distance) == truth
    searcher.crowded = 3.0


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(hashes, min_size=1, max_size=40),
    flips=st.lists(
        st.lists(st.integers(0, 255), max_size=40, unique=True), min_size=1, max_size=10
    ),
    max_distance=st.integers(0, 63),
    n_chunks=st.sampled_from([None, 11, 13, 16, 32, 64]),
)
def test_index_returns_exactly_what_brute_force_returns(base, flips, max_distance, n_chunks):
    idx = PdqIndex(base, n_chunks=n_chunks, brute_force_fallback=False)
    queries = [flip(base[i % len(base)], f) for i, f in enumerate(flips)]
    assert_same_as_brute_force(idx, queries, max_distance)


@settings(max_examples=25, deadline=None)
@given(
    centre=hashes,
    offsets=st.lists(
        st.lists(st.integers(0, 255), max_size=16, unique=True), min_size=1, max_size=300
    ),
    query_flips=st.lists(
        st.lists(st.integers(0, 255), max_size=20, unique=True), min_size=1, max_size=4
    ),
    others=st.lists(hashes, max_size=30),
    max_distance=st.integers(0, 63),
    n_chunks=st.sampled_from([None, 11, 16]),
)
def test_dense_clusters_return_exactly_what_brute_force_returns(
    centre, offsets, query_flips, others, max_distance, n_chunks
):
    """Many near-duplicates of one centre (repeats included) share buckets in every chunk,
    so each is a candidate many times over: each must come back once."""
    data = [flip(centre, f) for f in offsets] + others
    idx = PdqIndex(data, ids=[7 * k + 3 for k in range(len(data))], n_chunks=n_chunks,
                   brute_force_fallback=False)  # fmt: skip
    queries = [flip(centre, f) for f in query_flips]
    assert_same_as_brute_force(idx, queries, max_distance)


def test_dense_clusters_of_a_thousand_hits():
    """The benchmark's dense case in small: 1,000 hashes within 16 bits of a centre among
    20,000, queries within 15 bits of it: every one of them is a hit."""
    rng = np.random.default_rng(11)
    centres = [rng.bytes(32).hex() for _ in range(3)]
    near = [flip(c, list(rng.choice(256, int(rng.integers(0, 17)), replace=False)))
            for c in centres for _ in range(1000)]  # fmt: skip
    data = [rng.bytes(32).hex() for _ in range(17_000)] + near
    idx = PdqIndex(data)
    queries = [flip(c, list(rng.choice(256, 15, replace=False))) for c in centres]
    assert_same_as_brute_force(idx, queries, 31)
    assert all(len(idx.query(q)) >= 1000 for q in queries)


def test_wide_index_arrays_answer_the_same():
    """Indexes of over 2^31 hashes (or 2^32 bucket entries) keep int64 offsets and uint64
    bucket entries; the searcher reads both widths."""
    rng = np.random.default_rng(3)
    data = [rng.bytes(32).hex() for _ in range(3000)]
    queries = [flip(data[k], list(rng.choice(256, 12, replace=False))) for k in range(0, 3000, 97)]
    idx = PdqIndex(data)
    truth = idx.query_many(queries)
    work = [idx._searcher(31).candidates(bytes.fromhex(q)) for q in queries]
    idx._order = idx._order.astype(np.uint64)
    idx._offsets_all = idx._offsets_all.astype(np.int64)
    idx._searchers = {}
    assert idx.query_many(queries) == truth == [idx.brute_force(q) for q in queries]
    # The same buckets read: wrong offsets would still answer right, reading the wrong ones.
    assert [idx._searcher(31).candidates(bytes.fromhex(q)) for q in queries] == work


def test_a_saved_index_answers_the_same_memory_mapped(tmp_path):
    rng = np.random.default_rng(4)
    data = [rng.bytes(32).hex() for _ in range(5000)]
    queries = [flip(data[k], list(rng.choice(256, 20, replace=False))) for k in range(0, 5000, 50)]
    idx = PdqIndex(data, ids=range(100, 5100))
    idx.save(tmp_path / "idx")
    mapped = PdqIndex.load(tmp_path / "idx")
    assert isinstance(mapped._order, np.memmap) and not mapped._order.flags.writeable
    assert mapped.query_many(queries, 40) == idx.query_many(queries, 40)
    assert [mapped.query(q, 40) for q in queries] == [idx.brute_force(q, 40) for q in queries]


def test_queries_from_threads_answer_the_same():
    """The searcher runs without the GIL, with buffers of its own a query."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(6)
    data = [rng.bytes(32).hex() for _ in range(20_000)]
    queries = [flip(data[k], list(rng.choice(256, 25, replace=False))) for k in range(0, 20_000, 9)]
    idx = PdqIndex(data)
    truth = [idx.query(q) for q in queries]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(idx.query, queries)) == truth


def test_clustered_planted_neighbours_all_found():
    rng = np.random.default_rng(5)
    centres = [rng.bytes(32).hex() for _ in range(50)]
    data = [
        flip(c, list(rng.choice(256, int(rng.integers(0, 12)), replace=False)))
        for c in centres
        for _ in range(40)
    ]
    idx = PdqIndex(data, brute_force_fallback=False)
    for c in centres:
        q = flip(c, list(rng.choice(256, 15, replace=False)))
        assert idx.query(q) == idx.brute_force(q)


def test_a_list_of_one_hash_matches():
    h = "ddcbeead0ca464018b5a84f5daad60beab630cda23a3765921d536ba1deb083a"
    idx = PdqIndex([h], ids=[42], brute_force_fallback=False)
    assert idx.query(flip(h, list(range(31)))) == [(42, 31)]
    assert idx.query(flip(h, list(range(32)))) == []


def test_empty_index_and_bad_input():
    assert PdqIndex([]).query("00" * 32) == []
    assert PdqIndex([]).query_many(["00" * 32]) == [[]]
    with pytest.raises(ValueError):
        PdqIndex(["abc"])
    with pytest.raises(ValueError):
        PdqIndex(["00" * 32]).query("00" * 32, max_distance=64)
    idx = PdqIndex(["00" * 32] * 3, brute_force_fallback=False)
    for bad in ("00" * 31, "00" * 33, "zz" * 32):
        with pytest.raises(ValueError):
            idx.query(bad)
        with pytest.raises(ValueError):
            idx.query_many(["00" * 32, bad])
    with pytest.raises(ValueError):
        idx._searcher(31).query(b"\0" * 31)


def test_exact_index_with_shared_prefixes():
    a = "0123456789abcdef" + "0" * 16
    b = "0123456789abcdef" + "1" * 16
    idx = ExactIndex([a, b, a], [1, 2, 3], 16)
    assert sorted(idx.lookup(a)) == [1, 3] and idx.lookup(b) == [2]
    assert idx.lookup("f" * 32) == [] and idx.lookup("00") == []


@pytest.mark.parametrize("n", [0, 1, 1000, 100_000, 1_000_000, 10_000_000])
def test_chunk_plan_fits_memory_budget(n):
    from ocsea.match.pdq_index import _chunk_sizes, plan_chunks

    m = plan_chunks(n)
    sizes = _chunk_sizes(m)
    assert sum(sizes) == 256 and max(sizes) <= 24
    assert sum(1 << s for s in sizes) <= max(1 << 24, 16 * n)
