"""The review loop end to end: analysts correct 20 false positives of one kind, `ocsea text train`
builds an agency model with their reviews, and the kind's near-duplicates stop being flagged while
the blind test set scores no worse than with the shipped model."""

import csv
import itertools
from pathlib import Path

import pytest

from ocsea.text.dataset import read_labelled
from ocsea.text.detector import Detector
from ocsea.text.evaluate import evaluate_predictions

from .test_cli import run

BLIND_TEST = Path(__file__).resolve().parent / "data" / "blind" / "test.tsv"

# School uniforms sold with photos and free delivery ("ส่งฟรี"): a child grade, a trade word and
# pictures, which the shipped model reads as selling clips of a pupil. Keyword level, benign.
# (Sold second-hand, "มือสอง", they are an activity the rules know.)
ITEMS = ["กระโปรงนักเรียน", "เสื้อนักเรียน", "ชุดพละ", "กางเกงนักเรียน", "ถุงเท้านักเรียน"]
GRADES = ["ม.1", "ม.2", "ม.3", "ป.4", "ป.5", "ป.6"]
EXTRAS = ["รูปจริง", "ภาพจริง", "คลิปรีวิว", "รูปสินค้า"]


def _blind(detector: Detector) -> dict:
    rows = read_labelled(BLIND_TEST)
    verdicts = [detector.classify(r.text) for r in rows]
    return evaluate_predictions(rows, [v.label for v in verdicts], [v.score for v in verdicts])


@pytest.fixture(scope="module")
def agency(tmp_path_factory, detector):
    tmp = tmp_path_factory.mktemp("agency")
    texts = [f"ขาย {i} {g} ส่งฟรี {e}" for i, g, e in itertools.product(ITEMS, GRADES, EXTRAS)]
    flagged = [t for t in texts if detector.classify(t).label == "csa"]
    assert len(flagged) >= 40, "the shipped model no longer makes this mistake: pick another kind"
    reviewed, near_duplicates = flagged[::3][:20], [t for t in flagged if t not in flagged[::3]]
    # What `ocsea reviews export` writes for findings an analyst classed not illegal.
    reviews = tmp / "reviews.csv"
    with reviews.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "classification", "age_group", "reviewer", "reviewed_at"])
        for t in reviewed:
            w.writerow([t, "benign", "not_illegal", "", "analyst1", "2026-11-27 10:00:00"])
    corpus = tmp / "corpus.tsv"
    run("text", "corpus", "--out", str(corpus), "--per-label", "15000", "--seed", "13")
    model = tmp / "agency.npz"
    run("text", "train", str(corpus), "--reviews", str(reviews), "--out", str(model))
    return Detector.load(model), reviewed, near_duplicates


def test_corrected_false_positives_stop_their_near_duplicates(agency, detector):
    agency_detector, reviewed, near = agency
    assert len(reviewed) == 20 and len(near) >= 20
    assert all(detector.classify(t).label == "csa" for t in near)
    still = [t for t in near if agency_detector.classify(t).label == "csa"]
    assert len(still) <= len(near) // 10, still
    # A real one of the same shape is still caught: the correction is about uniforms.
    assert agency_detector.classify("ขาย คลิป เด็ก ม.3 ส่งทางเทเลแกรม").label == "csa"


def test_agency_model_still_passes_the_blind_test_set(agency, detector):
    agency_detector, _, _ = agency
    shipped, ours = _blind(detector), _blind(agency_detector)
    assert ours["csa_recall"] >= shipped["csa_recall"] - 0.02
    assert ours["benign_to_csa"] <= shipped["benign_to_csa"] + 0.005
    assert ours["adult_to_csa"] <= shipped["adult_to_csa"] + 0.005
