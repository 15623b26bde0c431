"""Build the shipped default text model from the synthetic corpus and the hand-written examples
(deterministic: fixed seeds).

Usage: python scripts/build_default_model.py [--per-label N]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ocsea.text.analysis import analyze
from ocsea.text.corpus import CorpusGenerator
from ocsea.text.detector import default_model_path
from ocsea.text.lexicon import Lexicon
from ocsea.text.train import train_model
from ocsea.text.written import WRITTEN_WEIGHT, written_examples

ROOT = Path(__file__).resolve().parents[1]
WISESIGHT = ROOT / "data" / "corpora" / "wisesight" / "sample.txt"
HELD_OUT_LINES = 2000  # the first lines of the sample are kept for measuring false positives


def screened_benign_lines(lexicon: Lexicon) -> list[str]:
    """Wisesight lines usable as benign: no codeword, no strong sexual or child term."""
    lines = WISESIGHT.read_text(encoding="utf-8").splitlines()[HELD_OUT_LINES:]
    keep = []
    for line in lines:
        ev = analyze(line, lexicon).evidence
        if ev.code == 0 and ev.sexual < 0.8 and ev.minor < 0.7 and not ev.minor_age:
            keep.append(line)
    return keep


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-label", type=int, default=15000)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", type=Path, default=default_model_path())
    ap.add_argument("--written-weight", type=float, default=WRITTEN_WEIGHT)
    args = ap.parse_args()
    t0 = time.time()
    lexicon = Lexicon.default()
    benign = screened_benign_lines(lexicon)
    gen = CorpusGenerator(seed=args.seed, benign_lines=benign)
    examples = gen.generate(args.per_label)
    written = written_examples() if args.written_weight > 0 else []
    texts = [e.text for e in examples] + [e.text for e in written]
    labels = [e.label for e in examples] + [e.label for e in written]
    weights = [1.0] * len(examples) + [args.written_weight] * len(written)
    print(
        f"corpus: {len(examples)} synthetic and {len(written)} hand-written examples "
        f"(weight {args.written_weight:g}), {len(benign)} screened real Thai lines available"
    )
    model = train_model(
        texts, labels, lexicon, seed=args.seed, weights=weights if written else None,
        source=f"synthetic corpus seed={args.seed} + {len(written)} hand-written examples",
    )  # fmt: skip
    path = model.save(args.out)
    size = path.stat().st_size / 1e6
    print(f"saved {path} ({size:.1f} MB, vocab {len(model.vocab)}, T={model.temperature:.2f})")
    print(f"took {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
