"""Real text nobody here wrote, held out from training: the false-positive check of the text
detector. Never train on these sources (the corpus generator and `make model` do not read them).

- th-wikipedia-titles: 40,000 titles of Thai Wikipedia, drawn with a fixed seed from the list
  PyThaiNLP ships (CC BY-SA 4.0; DESIGN §6 reserves it for evaluation).
- debian-descriptions: the 60,004 distinct one-line package descriptions of Debian 12 (bookworm)
  main, amd64 (short English software text; each under its package's free licence).
- debian-paths: 50,000 file paths, drawn with a fixed seed from the 112,058 paths that 811
  packages of Debian 12.11 install (C headers, licence files, locales, icons, Python modules).
- wisesight-heldout: the first 2,000 lines of the Wisesight Sentiment sample (CC0), everyday Thai
  social-media text; the corpus generator reads the sample from line 2,001 only.
"""

from __future__ import annotations

import gzip
import random
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "realworld"
WISESIGHT = ROOT / "data" / "corpora" / "wisesight" / "sample.txt"
WIKI_SAMPLE = 40_000
SEED = 20261127


def _gz_lines(name: str) -> list[str]:
    with gzip.open(DATA / name, "rt", encoding="utf-8") as fh:
        return [line for line in fh.read().splitlines() if line.strip()]


def thai_wikipedia_titles() -> list[str]:
    from importlib import resources

    raw = (
        resources.files("pythainlp.corpus")
        .joinpath("wikipedia_titles_th.txt")
        .read_text(encoding="utf-8")
    )
    titles = sorted({t for t in raw.splitlines() if t.strip() and not t.startswith("#")})
    return random.Random(SEED).sample(titles, WIKI_SAMPLE)


def debian_descriptions() -> list[str]:
    return _gz_lines("debian-descriptions.txt.gz")


def debian_paths() -> list[str]:
    return _gz_lines("debian-paths.txt.gz")


def wisesight_heldout() -> list[str]:
    return WISESIGHT.read_text(encoding="utf-8").splitlines()[:2000]


SOURCES: dict[str, Callable[[], list[str]]] = {
    "th-wikipedia-titles": thai_wikipedia_titles,
    "debian-descriptions": debian_descriptions,
    "debian-paths": debian_paths,
    "wisesight-heldout": wisesight_heldout,
}


def flag_rates(classify: Callable[[str], str], examples: int = 10) -> dict[str, dict]:
    """Share of each source labelled csa and adult, with the first flagged lines."""
    out: dict[str, dict] = {}
    for name, load in SOURCES.items():
        lines = load()
        labels = [classify(t) for t in lines]
        csa = [t for t, lab in zip(lines, labels, strict=True) if lab == "csa"]
        adult = [t for t, lab in zip(lines, labels, strict=True) if lab == "adult"]
        out[name] = {
            "n": len(lines),
            "csa_rate": round(len(csa) / len(lines), 6),
            "adult_rate": round(len(adult) / len(lines), 6),
            "csa_examples": csa[:examples],
            "adult_examples": adult[:examples],
        }
    return out
