"""Our PDQ (one pass for all eight transforms) against pdqhash on the transformed pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocsea.media.hashing import load_rgb, pdq_dihedral_rgb
from ocsea.media.pdq import DIHEDRAL, transform

pdqhash = pytest.importorskip("pdqhash")
CONF = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "pdq" / "images"


def reference(rgb: np.ndarray) -> list[tuple[str, int]]:
    out = []
    for turns, flip in DIHEDRAL:
        bits, quality = pdqhash.compute(np.ascontiguousarray(transform(rgb, turns, flip)))
        out.append((np.packbits(bits.astype(np.uint8)).tobytes().hex(), int(quality)))
    return out


def distance(a: str, b: str) -> int:
    return bin(int(a, 16) ^ int(b, 16)).count("1")


def assert_same(rgb: np.ndarray) -> None:
    ours = pdq_dihedral_rgb(rgb)
    for (want, want_q), got in zip(reference(rgb), ours, strict=True):
        assert abs(want_q - got.quality) <= 1
        if want_q > 0:  # a flat image's coefficients are rounding noise in either
            # float sums in another order may move a coefficient that sits on the median
            assert distance(want, got.hex) <= 4  # seen: at most 2 in 4,800 hashes


def smooth_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    from PIL import Image

    small = (rng.random((max(2, h // 20), max(2, w // 20), 3)) * 255).astype("uint8")
    return np.asarray(Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC))


@settings(max_examples=25, deadline=None)
@given(
    h=st.integers(64, 520), w=st.integers(64, 520), seed=st.integers(0, 2**32 - 1),
    noise=st.booleans(),
)  # fmt: skip
def test_every_transform_equals_the_reference_on_the_transformed_pixels(h, w, seed, noise):
    # Below 64 px a side the buffer repeats rows or columns, some coefficients are zero but for
    # rounding, and both implementations' bits there are noise (seen: 12 bits on 79×16 noise).
    rng = np.random.default_rng(seed)
    # noise has the high frequencies, where a mirrored filter window or sample row shows most
    noisy = (rng.random((h, w, 3)) * 255).astype(np.uint8)
    assert_same(noisy if noise else smooth_image(rng, h, w))


def test_a_chessboard_and_tiny_images():
    board = (np.indices((200, 200)).sum(0) // 25 % 2 * 255).astype(np.uint8)
    assert_same(np.stack([board] * 3, -1))
    for side in (1, 4, 5, 6, 63, 64, 65):
        assert_same(np.full((side, side + 3, 3), 128, np.uint8))
    tiny = pdq_dihedral_rgb(np.full((4, 40, 3), 200, np.uint8))
    assert {(h.hex, h.quality) for h in tiny} == {("0" * 64, 0)}  # below 5 px: Meta's zero hash


@pytest.mark.skipif(not CONF.is_dir(), reason="../shared/conformance not present")
def test_conformance_images():
    for path in sorted(CONF.iterdir()):
        assert_same(load_rgb(path))


# Independent of ``transform``: Pillow's own rotations and flips, in DIHEDRAL's order (quarter
# turns counter-clockwise after an optional left-right flip). A review found the tests above
# would pass with ``transform`` turning the wrong way, since they use it for the reference too.
def _pillow(im, turns: int, flip: bool):
    from PIL import Image

    if flip:
        im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    for _ in range(turns):
        im = im.transpose(Image.Transpose.ROTATE_90)  # counter-clockwise
    return im


def test_each_transform_is_the_one_pillow_makes():
    from PIL import Image

    rng = np.random.default_rng(7)
    rgb = (rng.random((120, 200, 3)) * 255).astype(np.uint8)
    rgb[:40, :60] = 255  # asymmetric: a bright top-left corner
    ours = pdq_dihedral_rgb(rgb)
    for k, (turns, flip) in enumerate(DIHEDRAL):
        ref = np.asarray(_pillow(Image.fromarray(rgb), turns, flip))
        bits, quality = pdqhash.compute(np.ascontiguousarray(ref))
        assert ours[k].hex == np.packbits(bits.astype(np.uint8)).tobytes().hex(), (turns, flip)
        assert ours[k].quality == quality


def test_transform_names_follow_the_order():
    from ocsea.match.matcher import DIHEDRAL_NAMES

    a = np.array([[1, 2, 3], [4, 5, 6]])
    assert transform(a, 1, False).tolist() == [[3, 6], [2, 5], [1, 4]]  # counter-clockwise
    assert transform(a, 0, True).tolist() == [[3, 2, 1], [6, 5, 4]]
    assert len(DIHEDRAL_NAMES) == len(DIHEDRAL)
    for (turns, flip), name in zip(DIHEDRAL, DIHEDRAL_NAMES, strict=True):
        assert ("mirror" in name) == flip
        assert (f"rot{90 * turns}" in name) == (turns > 0), name


@pytest.mark.parametrize("n", [5, 9, 63, 64, 65, 127, 128, 129, 200, 384, 511, 512])
def test_the_reducer_is_the_box_filter_on_an_identity(n):
    from ocsea.media.pdq import _reducer, _reducer_by_filtering

    assert np.allclose(_reducer(n), _reducer_by_filtering(n), rtol=0, atol=1e-12)


def test_only_eight_bit_pixels():
    from ocsea.media.pdq import pdq_bits

    with pytest.raises(ValueError, match="8-bit"):
        pdq_bits(np.zeros((64, 64, 3), dtype=np.uint16))


def test_a_transforms_coefficients_are_the_variants_turned_or_negated():
    # what lets pdq_bits take four DCTs for eight hashes
    from ocsea.media.pdq import _DCT, _ODD_NEGATED, _dct_op

    rng = np.random.default_rng(7)
    for _ in range(5):
        buf = rng.random((64, 64)) * 255
        dct = _DCT @ buf @ _DCT.T
        for turns, flip in DIHEDRAL:
            want = _DCT @ np.ascontiguousarray(transform(buf, turns, flip)) @ _DCT.T
            transposed, rows_negated, cols_negated = _dct_op(turns, flip)
            got = dct.T if transposed else dct
            got = got * (_ODD_NEGATED[:, None] if rows_negated else 1)
            got = got * (_ODD_NEGATED[None, :] if cols_negated else 1)
            np.testing.assert_allclose(got, want, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(w=st.integers(1, 3000), h=st.integers(1, 3000))
def test_the_reduced_size_is_pillows_thumbnail(w, h):
    from PIL import Image

    from ocsea.media.pdq import reduced_size

    if max(w, h) <= 512:
        return
    im = Image.new("L", (w, h))
    im.thumbnail((512, 512))
    assert reduced_size(w, h, 512) == im.size


@settings(max_examples=15, deadline=None)
@given(
    h=st.integers(100, 1024), w=st.integers(513, 1024), seed=st.integers(0, 2**32 - 1),
    tall=st.booleans(),
)  # fmt: skip
def test_the_folded_reduction_hashes_as_pillow_reduced_pixels(h, w, seed, tall):
    # PDQ of the decoded pixels with the reduction to 512 folded into its sums, against PDQ of
    # the pixels Pillow reduced first (as the scan did): Pillow rounds its reduced pixels to
    # whole levels, which may move a coefficient that sits on the median
    from PIL import Image

    from ocsea.media.hashing import PDQ_MAX_SIDE

    rng = np.random.default_rng(seed)
    rgb = smooth_image(rng, w, h) if tall else smooth_image(rng, h, w)
    folded = pdq_dihedral_rgb(rgb, reduce_to=PDQ_MAX_SIDE)
    im = Image.fromarray(rgb)
    im.thumbnail((PDQ_MAX_SIDE, PDQ_MAX_SIDE), Image.Resampling.BOX)
    reduced = pdq_dihedral_rgb(np.asarray(im))
    for a, b in zip(folded, reduced, strict=True):
        assert distance(a.hex, b.hex) <= 6 and abs(a.quality - b.quality) <= 2
