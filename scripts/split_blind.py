"""Split the blind text set once into dev (errors may be read) and test (only ever scored).

Reads the helpers' files in tests/data/blind/raw/*.tsv (columns label, lang, kind, intent,
obfuscated, text) and writes tests/data/blind/dev.tsv and test.tsv. Within each (language, label,
intent) group the rows are ordered by the SHA-256 of their text and dealt alternately, dev first,
so the split is stable, even across groups and needs no random seed. A raw file named in
tests/data/blind/dev-only.txt (a test part whose errors were read) goes to dev whole.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import defaultdict
from pathlib import Path

BLIND = Path(__file__).resolve().parent.parent / "tests" / "data" / "blind"
COLUMNS = ("label", "lang", "kind", "intent", "obfuscated", "text")


def main() -> int:
    dev_only_file = BLIND / "dev-only.txt"
    dev_only = (
        {line.strip() for line in dev_only_file.read_text().splitlines() if line.strip()}
        if dev_only_file.exists()
        else set()
    )
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    dev: list[dict[str, str]] = []
    for path in sorted((BLIND / "raw").glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
        for row in rows:
            if tuple(row) != COLUMNS or None in row.values():
                print(f"{path}: bad row {row}", file=sys.stderr)
                return 2
            row["part"] = path.stem
            if path.name in dev_only:
                dev.append(row)
            else:
                groups[(row["lang"], row["label"], row["intent"])].append(row)
    test: list[dict[str, str]] = []
    for key in sorted(groups):
        ordered = sorted(groups[key], key=lambda r: hashlib.sha256(r["text"].encode()).hexdigest())
        for i, row in enumerate(ordered):
            (dev if i % 2 == 0 else test).append(row)
    for name, rows in (("dev", dev), ("test", test)):
        with (BLIND / f"{name}.tsv").open("w", encoding="utf-8", newline="") as fh:
            fh.write("\t".join((*COLUMNS, "part")) + "\n")
            for row in rows:
                fh.write("\t".join(row[c] for c in (*COLUMNS, "part")) + "\n")
        print(f"{name}: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
