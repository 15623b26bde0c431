"""PDQ of an image and of its seven rotations and flips, from one pass over the pixels.

Meta's PDQ reduces the luma to a 64×64 buffer (two passes of a box filter along rows and
columns, then every n/64-th pixel), keeps the 16×16 low-frequency DCT and sets the bits above
the median. Rotating the 64×64 buffer is not the same as rotating the image: the box filter's
window is one pixel longer on one side and the sample positions are not symmetric, so a rotated
buffer drifts a median 14 bits (up to 128 on a chessboard) from the hash of the really rotated
image. Here each transform gets the buffer it would have had: the filter and the samples
mirrored along every axis the transform reverses. The filter and the samples are linear in the
luma, so each axis is one matrix (64 sample rows of the two box passes), and the four mirror
variants come from two matrix products.

Measured on the 17 conformance images, 15 scikit-image photographs and two synthetic photos: all
eight hashes and every quality are bit for bit those of pdqhash.compute on the transformed
pixels; eight hashes of a 512×384 image took 1.7 ms here against 45 ms for eight pdqhash calls
(5.4 ms for one), which was most of a scan's time per image (0.8 ms of a 640×480 one now).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

SIDE = 64  # the buffer PDQ's DCT reads
MIN_HASHABLE_SIDE = 5  # Meta's MIN_HASHABLE_DIM: smaller images hash to zero, quality 0
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # Meta's float luma
_DCT = np.sqrt(2.0 / SIDE) * np.cos(
    (np.pi / 2 / SIDE) * np.outer(np.arange(1, 17), 2 * np.arange(SIDE) + 1)
)  # rows 1..16 of the DCT-II: the DC term is left out, as in the reference

# The eight dihedral transforms (quarter turns counter-clockwise, after an optional left-right
# flip), original first: the order matches report them in.
DIHEDRAL = (
    (0, False), (1, False), (2, False), (3, False), (0, True), (1, True), (2, True), (3, True),
)  # fmt: skip


def transform(a: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    """The image (or buffer) flipped left-right if asked, then turned ``turns`` quarter turns."""
    return np.rot90(a[:, ::-1] if flip else a, turns)


@lru_cache(maxsize=8)
def _reverses(turns: int, flip: bool) -> tuple[bool, bool]:
    """Whether the transform runs the image's rows (axis 0) and columns (axis 1) backwards."""

    def backwards(index: np.ndarray) -> bool:
        moved = transform(index, turns, flip)
        step = (
            moved[1, 0] - moved[0, 0] if moved[1, 0] != moved[0, 0] else moved[0, 1] - moved[0, 0]
        )
        return bool(step < 0)

    rows = np.broadcast_to(np.arange(2)[:, None], (2, 3))
    cols = np.broadcast_to(np.arange(3)[None, :], (2, 3))
    return backwards(rows), backwards(cols)


@lru_cache(maxsize=8)
def _dct_op(turns: int, flip: bool) -> tuple[bool, bool, bool]:
    """What the transform does to a buffer's DCT coefficients: whether they are transposed,
    and whether their rows and their columns are negated at odd frequencies. The DCT-II of a
    row run backwards is the row's own with every odd coefficient negated, so the hash of a
    transformed buffer needs no DCT of its own (tests/test_pdq.py holds it to one)."""
    rows = np.broadcast_to(np.arange(3)[:, None], (3, 3))
    cols = np.broadcast_to(np.arange(3)[None, :], (3, 3))
    out_rows, out_cols = transform(rows, turns, flip), transform(cols, turns, flip)
    transposed = bool(out_rows[0, 0] == out_rows[1, 0])  # the input's rows run across
    down = out_cols if transposed else out_rows  # input index along the output's axis 0
    across = out_rows if transposed else out_cols
    return transposed, bool(down[1, 0] < down[0, 0]), bool(across[0, 1] < across[0, 0])


_ODD_NEGATED = np.array([(-1.0) ** k for k in range(1, 17)])  # frequencies 1..16


def _box(a: np.ndarray, n: int, mirrored: bool, at: np.ndarray | None = None) -> np.ndarray:
    """One pass of the reference's box filter along axis 1 (windows clipped at the edges and
    averaged over what is inside), at every position or only at ``at``."""
    full = (n + 2 * SIDE - 1) // (2 * SIDE)  # computeJaroszFilterWindowSize
    half = (full + 2) // 2
    back, ahead = (half - 1, full - half) if mirrored else (full - half, half - 1)
    c = np.zeros((a.shape[0], n + 1 + back + ahead))
    np.cumsum(a, axis=1, out=c[:, back + 1 : back + 1 + n])
    c[:, back + 1 + n :] = c[:, back + n : back + n + 1]
    o = np.arange(n)
    count = (np.minimum(n, o + ahead + 1) - np.maximum(0, o - back)).astype(np.float64)
    span = back + ahead + 1
    if at is None:
        return (c[:, span : span + n] - c[:, :n]) / count
    return (c[:, at + span] - c[:, at]) / count[at]


def _samples(n: int, mirrored: bool) -> np.ndarray:
    """The rows (or columns) the reference keeps of ``n``, in ascending order."""
    s = (((np.arange(SIDE) + 0.5) * n) / SIDE).astype(np.intp)
    return np.sort(n - 1 - s) if mirrored else s


def _axis(n: int, mirrored: bool) -> np.ndarray:
    """n × 64: ``_box`` twice and ``_samples`` along an axis of length n, as a matrix. Each kept
    sample averages the first pass over its window, and each first-pass value averages the
    input over its own: so each sample's column is a sum of runs of equal weights, written as
    a difference array and summed once. O(n·64): built from an n×n identity by ``_box``, a
    512-px side took 15 ms (as long as five hashes) and a 4,000-px one 1.5 s and 1.2 GB; here
    0.8 and 6 ms, the same matrix to within 3e-17 (tests/test_pdq.py)."""
    full = (n + 2 * SIDE - 1) // (2 * SIDE)  # as in ``_box``
    half = (full + 2) // 2
    back, ahead = (half - 1, full - half) if mirrored else (full - half, half - 1)
    o = np.arange(n)
    count = (np.minimum(n, o + ahead + 1) - np.maximum(0, o - back)).astype(np.float64)
    s = _samples(n, mirrored)
    at = s[None, :] + np.arange(-back, ahead + 1)[:, None]  # first-pass values each sample reads
    inside = (at >= 0) & (at < n)
    col = np.broadcast_to(np.arange(SIDE), at.shape)[inside]
    at = at[inside]
    w = 1.0 / count[at] / count[s[col]]
    d = np.zeros((n + 1, SIDE))
    np.add.at(d, (np.maximum(0, at - back), col), w)
    np.add.at(d, (np.minimum(n, at + ahead + 1), col), -w)
    return np.cumsum(d[:-1], axis=0)


@lru_cache(maxsize=64)
def _reducer(n: int) -> np.ndarray:
    """n × 128: the two box passes and the sampling along an axis of length n (columns 0–63 as
    the reference runs, 64–127 mirrored). A seized drive's images have many short sides, so
    this is cheap to build (``_axis``) and a few recent lengths are kept (≤ 32 MiB at 512 px)."""
    out = np.ascontiguousarray(np.hstack([_axis(n, False), _axis(n, True)]))
    out.setflags(write=False)
    return out


def reduced_size(width: int, height: int, side: int) -> tuple[int, int]:
    """The (width, height) Pillow's ``thumbnail((side, side))`` gives an image larger than
    ``side``: the long side becomes ``side``, the other the nearer of floor and ceiling to the
    image's proportions (at least 1)."""
    aspect = width / height
    if width >= height:
        exact = side / aspect
        short = min(
            (max(math.floor(exact), 1), max(math.ceil(exact), 1)),
            key=lambda n: abs(aspect - side / n),
        )
        return side, short
    exact = side * aspect
    short = min(
        (max(math.floor(exact), 1), max(math.ceil(exact), 1)),
        key=lambda n: abs(aspect - n / side),
    )
    return short, side


def _box_matrix(n: int, m: int) -> np.ndarray:
    """n × m: Pillow's BOX resample of an axis from n to m pixels, as a matrix. Taken from
    Pillow itself (an identity resampled in float mode), so its weights are the ones
    ``thumbnail(..., BOX)`` uses on 8-bit images, less that path's rounding to whole levels."""
    from PIL import Image

    eye = Image.fromarray(np.eye(n, dtype=np.float32), "F")
    return np.asarray(eye.resize((m, n), Image.Resampling.BOX), dtype=np.float64)


def _reducer_from(n: int, m: int) -> np.ndarray:
    """n × 128, float32: an axis of n pixels box-reduced to m and then ``_reducer(m)``, in one
    matrix (``_reducer(n)`` itself where n == m). Not kept: only ``_sparse_reducer_from``
    reads it, and keeps its sparse form (the dense ones held 16 MiB a worker for nothing)."""
    full = _reducer(m) if n == m else _box_matrix(n, m) @ _reducer(m)
    out = np.ascontiguousarray(full, dtype=np.float32)
    out.setflags(write=False)
    return out


@lru_cache(maxsize=32)
def _sparse_reducer_from(n: int, m: int):  # type: ignore[no-untyped-def]
    """``_reducer_from(n, m)`` transposed, as a sparse matrix: each of its 128 rows averages a
    window of about 2n/64 pixels, so it holds ~1 % of the dense matrix's entries. On 640×480
    JPEGs the two products took 0.40 ms against 1.10 ms dense (BLAS, one thread), within
    5e-5 of each other on values up to 255. A few recent pairs are kept (~0.1 MiB each)."""
    from scipy.sparse import csr_matrix

    return csr_matrix(_reducer_from(n, m).T)


def _reducer_by_filtering(n: int) -> np.ndarray:
    """``_reducer`` the direct way, by filtering an identity with ``_box``: the reference the
    tests hold ``_axis`` to (O(n²); small n only)."""
    eye = np.eye(n)
    return np.hstack([_box(_box(eye, n, m), n, m, _samples(n, m)) for m in (False, True)])


def _quality(buf: np.ndarray) -> int:
    """The reference's image-domain quality: summed gradients of the 64×64 buffer, 0–100."""
    down = np.trunc((buf[:-1] - buf[1:]) * 100 / 255)
    across = np.trunc((buf[:, :-1] - buf[:, 1:]) * 100 / 255)
    return min(int((np.abs(down).sum() + np.abs(across).sum()) // 90), 100)


def pdq_bits(
    rgb: np.ndarray,
    transforms: tuple[tuple[int, bool], ...] = DIHEDRAL[:1],
    reduce_to: int | None = None,
) -> list[tuple[np.ndarray, int]]:
    """(256 bits, quality) of an RGB (h×w×3) or grey (h×w) image for each transform, as
    pdqhash.compute would give them on the transformed pixels. 8-bit pixels only (as
    ``load_rgb`` gives): the quality is on that scale.

    With ``reduce_to``, an image longer than that is hashed as if first box-reduced to it (as
    Meta's hashers reduce to 512 before PDQ), the reduction folded into the same two matrix
    products: a 640×480 JPEG took 4.6 ms to decode, reduce in Pillow and hash all eight
    transforms; 3.3 ms this way (the same bits on the conformance set, at most 2 bits apart on
    200 synthetic photos: Pillow rounds its reduced pixels to whole levels)."""
    if rgb.dtype != np.uint8:
        raise ValueError(f"PDQ reads 8-bit pixels, got {rgb.dtype}")
    grey = rgb.ndim == 2
    luma = rgb.astype(np.float32) if grey else rgb[..., :3].astype(np.float32) @ _LUMA
    h, w = luma.shape
    if h < MIN_HASHABLE_SIDE or w < MIN_HASHABLE_SIDE:
        return [(np.zeros(256, dtype=bool), 0) for _ in transforms]
    rh, rw = h, w
    if reduce_to is not None and max(h, w) > reduce_to:
        rw, rh = reduced_size(w, h, reduce_to)
    # rows of the 128×128 product: the image's rows as run (0–63) and mirrored (64–127); its
    # columns likewise for the image's columns. In float32, as Meta's reference sums: on 200
    # 640×480 photos and the conformance set the same bits as float64. Each reducer row is a
    # window of a few pixels, so the products are sparse (``_sparse_reducer_from``), and the
    # rows go first, on the luma as it lies in memory (no transposed copy of the image): eight
    # hashes of a decoded 640×480 JPEG 0.60 ms, against 0.81 ms columns first and 2.26 ms
    # with dense BLAS products.
    down = _sparse_reducer_from(h, rh) @ luma  # 128 × w
    both = np.asarray((_sparse_reducer_from(w, rw) @ down.T).T, dtype=np.float64)
    # Each transform reads one of the four mirror variants of the buffer, turned or flipped:
    # its DCT is the variant's transposed or negated at odd frequencies (``_dct_op``) and its
    # quality the variant's (gradients only change sign or direction). Eight DCTs, eight
    # qualities and eight medians one at a time were 0.8 ms of a scan's 4.1 ms an image.
    variants: dict[tuple[bool, bool], tuple[np.ndarray, int]] = {}
    coeffs = np.empty((len(transforms), 16, 16))
    qualities = []
    for i, (turns, flip) in enumerate(transforms):
        rows_back, cols_back = _reverses(turns, flip)
        if (rows_back, cols_back) not in variants:
            buf = both[64 * rows_back : 64 * rows_back + 64, 64 * cols_back : 64 * cols_back + 64]
            variants[rows_back, cols_back] = (_DCT @ buf @ _DCT.T, _quality(buf))
        dct, quality = variants[rows_back, cols_back]
        transposed, rows_negated, cols_negated = _dct_op(turns, flip)
        c = dct.T if transposed else dct
        if rows_negated:
            c = c * _ODD_NEGATED[:, None]
        if cols_negated:
            c = c * _ODD_NEGATED[None, :]
        coeffs[i] = c
        qualities.append(quality)
    flat = coeffs.reshape(len(transforms), -1)
    # bit i*16+j is set where the coefficient exceeds the median; the reference writes the
    # 256-bit number most significant word first, hence the reversal
    bits = (flat > np.median(flat, axis=1, keepdims=True))[:, ::-1]
    return [(bits[i], qualities[i]) for i in range(len(transforms))]
