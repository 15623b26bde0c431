"""vPDQ by Meta's rule: every conformance video matches itself through the commands a user runs,
re-encodes match their original, Meta's per-frame files import (issue 17)."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from ocsea.match.matcher import Matcher
from ocsea.match.pdq_index import PdqIndex
from ocsea.match.vpdq import (
    Frame,
    VpdqFormatError,
    format_meta_file,
    frames_from_json,
    parse_meta_file,
    usable,
)

CONF = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "vpdq"
needs_conformance = pytest.mark.skipif(
    not CONF.is_dir(), reason="../shared/conformance not present"
)
VIDEOS = ["doorknob-hd-no-bar", "pattern-sd-grey-bar", "test-padded-dimensions"]
A, B, C = "a" * 64, "b" * 64, "0" * 63 + "1"


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ocsea.cli", *args], capture_output=True, text=True, check=False
    )


def _matcher(videos: dict[int, list[Frame]], **kw) -> Matcher:
    from ocsea.match.matcher import EntryInfo

    entries = {i: EntryInfo(i, "l", None, None) for i in videos}
    return Matcher(
        entries, {}, PdqIndex([], []), {i: usable(f, 50) for i, f in videos.items()}, **kw
    )


def test_both_sides_are_quality_filtered_and_deduplicated():
    # the listed video: two good distinct frames, one repeated many times, one of low quality
    listed = [Frame(A, 100), *[Frame(B, 100)] * 20, Frame(C, 10)]
    assert usable(listed, 50) == [A, B]
    m = _matcher({1: listed})
    # a query holding only A: 100 % of the query, 50 % of the listed video; index threshold 0 %
    assert [h.entry_id for h in m.match_vpdq([Frame(A, 100)])] == [1]
    strict = _matcher({1: listed}, vpdq_index_percent=80.0)
    assert strict.match_vpdq([Frame(A, 100)]) == []
    # a query with low-quality frames only compares what passes the filter
    assert [h.query_matched_pct for h in m.match_vpdq([Frame(A, 100), Frame(C, 5)])] == [100.0]


def test_frames_travel_in_metas_format_and_as_json():
    frames = [Frame(A, 100, 0, 0.0), Frame(B, 37, 1, 0.0319)]
    text = format_meta_file(frames)
    assert text.splitlines()[1] == f"1,37,{B},0.0319"
    assert parse_meta_file(text, "x") == frames
    assert frames_from_json([A]) == [Frame(A)]
    assert frames_from_json([{"hash": B, "quality": 37}]) == [Frame(B, 37)]
    with pytest.raises(VpdqFormatError, match="x:1"):
        parse_meta_file("0,100,nothex,0\n", "x")


@needs_conformance
@pytest.mark.parametrize("name", VIDEOS)
def test_every_conformance_video_matches_itself_through_the_commands(tmp_path, name):
    db = f"sqlite:///{tmp_path / 'v.db'}"
    video = CONF / "videos" / f"{name}.mp4"
    hashed = run("hash", str(video), "--vpdq-out", str(tmp_path / "frames"))
    assert hashed.returncode == 0, hashed.stderr
    frames_file = Path(json.loads(hashed.stdout)["vpdq_file"])
    assert run("hashes", "import", str(frames_file), "--list", "videos", "--db", db).returncode == 0
    # a copy with other bytes: only vPDQ can find it
    copy = tmp_path / f"copy-{name}.mp4"
    copy.write_bytes(video.read_bytes() + b"\0")
    got = run("match", str(copy), "--db", db)
    assert got.returncode == 0, got.stderr
    hits = json.loads(got.stdout)["matches"]
    assert [h["hash_type"] for h in hits] == ["vpdq"], hits


@needs_conformance
def test_metas_own_frame_files_import_and_match(tmp_path):
    db = f"sqlite:///{tmp_path / 'm.db'}"
    ref = CONF / "hashes" / "doorknob-hd-no-bar.txt"
    r = run("hashes", "import", str(ref), "--list", "meta", "--db", db)
    assert r.returncode == 0 and "vpdq" in r.stderr, r.stderr
    got = json.loads(
        run("match", str(CONF / "videos" / "doorknob-hd-no-bar.mp4"), "--db", db).stdout
    )
    assert [(h["hash_type"], h["media_id"]) for h in got["matches"]] == [
        ("vpdq", "doorknob-hd-no-bar")
    ]


def _reencode(
    src: Path, dst: Path, scale: float = 1.0, fps: int | None = None, bit_rate: int | None = None
) -> None:
    av = pytest.importorskip("av")
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        rate = fps or round(float(vin.average_rate or 30))
        vout = out.add_stream("mpeg4", rate=rate)
        vout.width = max(16, int(vin.codec_context.width * scale) // 2 * 2)
        vout.height = max(16, int(vin.codec_context.height * scale) // 2 * 2)
        vout.pix_fmt = "yuv420p"
        if bit_rate:
            vout.bit_rate = bit_rate
        step = float(vin.average_rate or rate) / rate if fps else 1.0
        t, n = 0.0, 0
        for i, frame in enumerate(inp.decode(vin)):
            if fps and i < t:
                continue
            t += step
            img = frame.reformat(width=vout.width, height=vout.height, format="yuv420p")
            img.pts = n
            img.time_base = Fraction(1, rate)
            n += 1
            for packet in vout.encode(img):
                out.mux(packet)
        for packet in vout.encode():
            out.mux(packet)


@needs_conformance
@pytest.mark.parametrize("variant", ["half resolution", "low bitrate", "25 fps"])
def test_reencodes_match_their_original(tmp_path, variant):
    db = f"sqlite:///{tmp_path / 'r.db'}"
    video = CONF / "videos" / "doorknob-hd-no-bar.mp4"
    hashed = run("hash", str(video), "--vpdq-out", str(tmp_path / "frames"))
    assert (
        run(
            "hashes", "import", json.loads(hashed.stdout)["vpdq_file"], "--list", "v", "--db", db
        ).returncode
        == 0
    )
    out = tmp_path / "re.mp4"
    kw = {
        "half resolution": {"scale": 0.5},
        "low bitrate": {"bit_rate": 150_000},
        "25 fps": {"fps": 25},
    }[variant]
    _reencode(video, out, **kw)
    got = run("match", str(out), "--db", db)
    assert got.returncode == 0, got.stderr
    hits = json.loads(got.stdout)["matches"]
    assert [h["hash_type"] for h in hits] == ["vpdq"], (variant, hits)
