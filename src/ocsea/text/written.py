"""Training examples written by hand, apart from the code: helper sessions given only the public
description of the task wrote queries, filenames, paths and titles in each language, as the blind
sets' writers did, but for training (``data/training/helpers/README.md``). The synthetic corpus
composes lexicon words by templates, so a model trained on it alone learns the templates; these
examples carry the word orders, platforms and file-naming habits of people who have not seen them.

``scripts/import_written.py`` copies them here, leaving out every text that a blind set or the gold
set holds once normalised, so that nothing evaluated is ever trained on.
"""

from __future__ import annotations

import csv
from importlib import resources

from ocsea.text.corpus import Example
from ocsea.text.model import LABELS

# How many times each written example counts against one synthetic example (blind dev set,
# docs/model-card.md): there are about 2,000 of them against 45,000 synthetic ones.
WRITTEN_WEIGHT = 4.0
COLUMNS = ("label", "lang", "kind", "intent", "text")


def written_examples() -> list[Example]:
    """Every packaged written example, file by file in name order, as in the file."""
    out: list[Example] = []
    data = resources.files("ocsea.text").joinpath("data")
    for entry in sorted(data.iterdir(), key=lambda p: p.name):
        if not (entry.name.startswith("written-") and entry.name.endswith(".tsv")):
            continue
        rows = csv.DictReader(
            entry.read_text(encoding="utf-8").splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE
        )
        for row in rows:
            if row["label"] not in LABELS:
                raise ValueError(f"{entry.name}:{rows.line_num}: unknown label {row['label']!r}")
            out.append(
                Example(
                    row["text"], row["label"], row["lang"], row["kind"], f"written:{row['intent']}"
                )
            )
    return out
