"""What the seventh session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

# Romanised Thai arrest, court and report words were safe words alone; "jap" is also the
# porn tag for Japanese, "san" a Japanese honorific, "sal" a name and "jang" also จ้าง (hire):
# each silenced every rule on text it was appended to.
CSA = [
    "jap 12yo porn",
    "jap pthc",
    "hentai loli jap",
    "mei-san 12yo nude",
    "12yo nude sal",
    "dek 13 yed jang",
    "jang rup nakrian p.6 nude",
]

# Their phrases keep the news, court and reporting sense.
BENIGN = [
    "tamruat jap kon khai clip dek",
    "kao jap phu tong ha sue lamok dek",
    "san sang jam kuk khadee sue lamok dek",
    "jang kwam dek thuk luang lamerd",
    "jang baw sae sue lamok dek thi nai",
]


@pytest.mark.parametrize("text", CSA)
def test_a_word_that_only_sounds_like_arrest_or_court_silences_nothing(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", v.reasons


@pytest.mark.parametrize("text", BENIGN)
def test_romanised_news_and_reporting_phrases_stay_safe(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", v.reasons
