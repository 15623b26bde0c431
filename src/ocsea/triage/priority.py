"""The priority function (DESIGN §5): a weighted sum of named factors, each weight ≥ 0 and kept in
one place (``ocsea.config.DEFAULT_TRIAGE_WEIGHTS``, overridable in ocsea.toml). Every score comes
with its breakdown, so an analyst can see why an item ranks where it does.

Properties (tested): unknown-flagged > known > benign for otherwise equal items; the score never
falls when a factor rises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ocsea.config import DEFAULT_TRIAGE_WEIGHTS
from ocsea.media.risk import REVIEW_FIRST


@dataclass(frozen=True)
class Factors:
    text_label: str | None = None  # csa | adult | benign
    text_score: float = 0.0  # P(csa)
    known: bool = False  # exact hash match to a list
    near_duplicate: bool = False  # PDQ/vPDQ match
    min_age: int | None = None
    live: bool = False
    payment: bool = False
    producer: bool = False  # a sharer of it spreads several unknown flagged files
    n_sharers: int = 0
    days_since_seen: float | None = None
    media_risk: float = 0.0  # content risk of a scanned image or video (ocsea.media.risk)

    @property
    def flagged(self) -> bool:
        return self.text_label == "csa"

    @property
    def unknown_flagged(self) -> bool:
        return self.flagged and not self.known and not self.near_duplicate


def kind_of(f: Factors) -> str:
    if f.unknown_flagged:
        return "unknown-flagged"
    if f.known:
        return "known"
    if f.near_duplicate:
        return "near-duplicate"
    if f.media_risk >= REVIEW_FIRST:
        return "review-first"
    if f.text_label == "adult":
        return "adult"
    return "other"


def priority(f: Factors, weights: dict[str, float] | None = None) -> tuple[float, dict[str, float]]:
    w = {**DEFAULT_TRIAGE_WEIGHTS, **(weights or {})}
    parts = {
        "unknown_flagged": w["unknown_flagged"] * f.unknown_flagged,
        "known_material": w["known_material"] * f.known,
        "near_duplicate": w["near_duplicate"] * (f.near_duplicate and not f.known),
        "text_score": w["text_score"] * max(0.0, min(1.0, f.text_score)),
        "infant": w["infant"] * (f.min_age is not None and f.min_age < 5),
        "prepubescent": w["prepubescent"] * (f.min_age is not None and f.min_age < 13),
        "live": w["live"] * f.live,
        "payment": w["payment"] * f.payment,
        "producer": w["producer"] * f.producer,
        "volume": w["volume"] * math.log1p(max(0, f.n_sharers)),
        "media_risk": w["media_risk"] * max(0.0, min(1.0, f.media_risk)),
        "recency": w["recency"]
        * (math.exp(-max(0.0, f.days_since_seen) / 30) if f.days_since_seen is not None else 0.0),
    }
    parts = {k: round(float(v), 4) for k, v in parts.items() if v}
    return round(sum(parts.values()), 4), parts
