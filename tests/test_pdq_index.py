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


@settings(max_examples=60, deadline=None)
@given(
    base=st.lists(hashes, min_size=1, max_size=40),
    flips=st.lists(
        st.lists(st.integers(0, 255), max_size=40, unique=True), min_size=1, max_size=10
    ),
    max_distance=st.sampled_from([0, 8, 15, 16, 31, 32, 47, 63]),
    n_chunks=st.sampled_from([None, 11, 13, 16, 32, 64]),
)
def test_index_returns_exactly_what_brute_force_returns(base, flips, max_distance, n_chunks):
    idx = PdqIndex(base, n_chunks=n_chunks, brute_force_fallback=False)
    queries = [flip(base[i % len(base)], f) for i, f in enumerate(flips)]
    for q in queries:
        assert idx.query(q, max_distance) == idx.brute_force(q, max_distance)
    assert idx.query_many(queries, max_distance) == [
        idx.brute_force(q, max_distance) for q in queries
    ]


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
    with pytest.raises(ValueError):
        PdqIndex(["abc"])
    with pytest.raises(ValueError):
        PdqIndex(["00" * 32]).query("00" * 32, max_distance=64)


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
