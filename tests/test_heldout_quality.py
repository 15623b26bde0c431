"""Quality on text nobody here wrote, kept from slipping: the real-world held-out sources within
the issue's targets, and the blind test set no worse than when it was last measured
(docs/model-card.md). Only scores are asserted: no error of the blind test set is printed."""

import sys
from pathlib import Path

import pytest

from ocsea.text.dataset import read_labelled
from ocsea.text.evaluate import evaluate_predictions

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from realworld import SOURCES  # noqa: E402

CSA_RATE = 0.0002  # at most 0.02 % of a real source labelled csa
ADULT_RATE = 0.005  # at most 0.5 % labelled adult


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_real_world_text_is_rarely_flagged(detector, source):
    lines = SOURCES[source]()
    labels = [detector.classify(t).label for t in lines]
    n = len(lines)
    csa = sum(1 for lab in labels if lab == "csa")
    adult = sum(1 for lab in labels if lab == "adult")
    assert csa / n <= CSA_RATE, f"{source}: {csa} of {n} labelled csa"
    assert adult / n <= ADULT_RATE, f"{source}: {adult} of {n} labelled adult"


def test_blind_test_set_does_not_slip(detector):
    rows = read_labelled(ROOT / "tests" / "data" / "blind" / "test.tsv")
    verdicts = [detector.classify(r.text) for r in rows]
    m = evaluate_predictions(rows, [v.label for v in verdicts], [v.score for v in verdicts])
    # Floors a little under the numbers of the model card, so that a change that costs recall or
    # adds false alarms on text nobody here wrote is seen (the targets are higher).
    assert m["csa_recall"] >= 0.88
    assert m["benign_to_csa"] <= 0.025
    assert m["adult_to_csa"] <= 0.01
