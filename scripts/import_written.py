"""Copy the hand-written training examples (data/training/helpers/<lang>.tsv) into the package
(src/ocsea/text/data/written-<lang>.tsv), leaving out every row whose normalised text a blind set
or the gold set holds: nothing that is evaluated is trained on.

Usage: python scripts/import_written.py
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from ocsea.text.model import LABELS
from ocsea.text.normalize import normalize
from ocsea.text.written import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "data" / "training" / "helpers"
TARGET = ROOT / "src" / "ocsea" / "text" / "data"
EVALUATED = [
    ROOT / "tests" / "data" / "blind" / "dev.tsv",
    ROOT / "tests" / "data" / "blind" / "test.tsv",
    ROOT / "tests" / "data" / "gold.tsv",
]
_RAW_COLUMNS = ("label", "lang", "kind", "intent", "obfuscated", "text")


def _key(text: str) -> str:
    return normalize(text).replace(" ", "")


def evaluated_keys() -> set[str]:
    keys: set[str] = set()
    for path in EVALUATED:
        with path.open(encoding="utf-8") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                keys.add(_key(row["text"]))
    return keys


def main() -> int:
    evaluated = evaluated_keys()
    failed = False
    for src in sorted(SOURCE.glob("*.tsv")):
        kept: list[list[str]] = []
        seen: set[str] = set()
        dropped = 0
        with src.open(encoding="utf-8") as fh:
            reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
            if tuple(reader.fieldnames or ()) != _RAW_COLUMNS:
                print(f"{src}: columns {reader.fieldnames}, expected {list(_RAW_COLUMNS)}")
                failed = True
                continue
            for row in reader:
                if row["label"] not in LABELS or not (row["text"] or "").strip():
                    print(f"{src}:{reader.line_num}: bad row skipped")
                    continue
                key = _key(row["text"])
                if key in evaluated or key in seen:
                    dropped += 1
                    continue
                seen.add(key)
                kept.append([row[c] for c in COLUMNS])
        out = TARGET / f"written-{src.stem}.tsv"
        with out.open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE)
            w.writerow(COLUMNS)
            w.writerows(kept)
        print(
            f"{src.name}: {len(kept)} rows to {out.name}, {dropped} left out (evaluated or repeated)"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
