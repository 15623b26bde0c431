"""What the eighth session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

# The names of the sexual crimes themselves were no sexual term: "rape 12yo" and "ข่มขืน เด็ก 12
# ขวบ" were benign, and a search engine's query check showed no deterrence message for them.
CRIME_NAMES = [
    "rape 12yo",
    "child rape video",
    "ข่มขืน เด็ก 12 ขวบ",
    "khom khuen dek 13",
]

# News, court and essay words keep their safe sense; a district whose romanised name holds
# "khaem" (แคม, a webcam) is no live show; words that only contain "rape" are not it.
CRIME_NAMES_IN_NEWS = [
    "child rape case court sentence news",
    "ข่าว ข่มขืน เด็ก ม.2 ตำรวจจับ",
    "ครูข่มขืนนักเรียน ม.2 ศาลตัดสิน",
    "child molester arrested",
    "Mattayom Wat Nong Khaem",
    "scrape_tumblr 12 kids drapes",
    "grape juice kids 12",
]


@pytest.mark.parametrize("text", CRIME_NAMES)
def test_crime_names_with_a_child_are_csa(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", v.reasons


@pytest.mark.parametrize("text", CRIME_NAMES_IN_NEWS)
def test_crime_names_in_news_and_lookalikes_are_not(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", v.reasons


def test_a_crime_name_alone_is_adult_at_most(detector):
    assert detector.classify("the rape of nanking documentary").label == "benign"
    assert detector.classify("rape culture essay").label == "benign"
