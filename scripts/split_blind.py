"""Split the blind text set into dev (errors may be read) and test (only ever scored), once.

Reads the helpers' files in tests/data/blind/raw/*.tsv (columns label, lang, kind, intent,
obfuscated, text) and writes tests/data/blind/dev.tsv and test.tsv. A row keeps the part it was
given the first time (tests/data/blind/assignment.tsv, by the SHA-256 of its text), so a new round
never moves a row. New rows are dealt within each (file, language, label, intent) group, ordered by
that hash, alternately to dev and test, dev first. A row whose text an earlier file (earlier round
first) already has is dropped. A raw file named in tests/data/blind/dev-only.txt (a test part whose
errors were read) goes to dev whole. Repeats are found on the normalised text (case, spacing and
look-alikes aside), so a near-copy of a dev row cannot sit in test.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from collections import defaultdict
from pathlib import Path

from ocsea.text.normalize import normalize

BLIND = Path(__file__).resolve().parent.parent / "tests" / "data" / "blind"
COLUMNS = ("label", "lang", "kind", "intent", "obfuscated", "text")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _round_then_name(path: Path) -> tuple[int, str]:
    """Round 1 is <lang>.tsv, round k is <lang>-r<k>.tsv."""
    head, _, k = path.stem.rpartition("-r")
    return (int(k), path.stem) if head and k.isdigit() else (1, path.stem)


def _lines(path: Path) -> set[str]:
    return (
        {x.strip() for x in path.read_text().splitlines() if x.strip()} if path.exists() else set()
    )


def main() -> int:
    dev_only = _lines(BLIND / "dev-only.txt")
    assigned_file = BLIND / "assignment.tsv"
    assigned = dict(line.split("\t") for line in _lines(assigned_file))
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    dropped = 0
    for path in sorted((BLIND / "raw").glob("*.tsv"), key=_round_then_name):
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
                if tuple(row) != COLUMNS or None in row.values():
                    print(f"{path}: bad row {row}", file=sys.stderr)
                    return 2
                key = normalize(row["text"])
                if key in seen:
                    dropped += 1
                    continue
                seen.add(key)
                row["part"] = path.stem
                row["digest"] = _digest(row["text"])
                if path.name in dev_only:
                    assigned[row["digest"]] = "dev"
                rows.append(row)
    new: dict[tuple[str, ...], list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        if row["digest"] not in assigned:
            new[(row["part"], row["lang"], row["label"], row["intent"])].append(row)
    for key in sorted(new):
        for i, row in enumerate(sorted(new[key], key=lambda r: r["digest"])):
            assigned[row["digest"]] = "dev" if i % 2 == 0 else "test"
    for name in ("dev", "test"):
        part = [r for r in rows if assigned[r["digest"]] == name]
        with (BLIND / f"{name}.tsv").open("w", encoding="utf-8", newline="") as fh:
            fh.write("\t".join((*COLUMNS, "part")) + "\n")
            for row in part:
                fh.write("\t".join(row[c] for c in (*COLUMNS, "part")) + "\n")
        print(f"{name}: {len(part)} rows")
    live = {r["digest"] for r in rows}
    assigned_file.write_text(
        "".join(f"{d}\t{p}\n" for d, p in sorted(assigned.items()) if d in live)
    )
    print(f"{dropped} rows dropped: an earlier row has the same normalised text")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
