"""Transparent, high-precision rules. Each one names the evidence it fired on."""

from __future__ import annotations

from dataclasses import dataclass

from ocsea.text.analysis import Analysis

# Confidence each rule gives P(csa) at least; set against the gold set (see docs/model-card.md).
CODEWORD_CONFIDENCE = 0.97
MINOR_SEXUAL_CONFIDENCE = 0.92
STRONG_MINOR = 0.7
SEXUAL_MIN = 0.7  # weak sexual words (hot, sexy, leaked) are left to the model


@dataclass(frozen=True, slots=True)
class RuleHit:
    name: str
    confidence: float
    description: str


def evaluate_rules(a: Analysis) -> list[RuleHit]:
    ev = a.evidence
    hits: list[RuleHit] = []
    if ev.intent_safe or ev.benign_sense:
        # Reporting, news, law or prevention intent, or a benign sense of a risky word (the novel
        # "Lolita", "CP All"): the rules stay silent and the model decides.
        return hits
    if ev.code >= 0.8:
        hits.append(
            RuleHit("codeword", CODEWORD_CONFIDENCE, "published CSA codeword with no safe context")
        )
    minor_strong = ev.minor >= STRONG_MINOR or ev.minor_age
    adult = ev.adult_age or ev.adult_context
    if minor_strong and ev.sexual >= SEXUAL_MIN and not adult:
        hits.append(
            RuleHit(
                "minor+sexual",
                MINOR_SEXUAL_CONFIDENCE,
                "a child term, minor age or school grade together with a sexual term",
            )
        )
    return hits
