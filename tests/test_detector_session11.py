"""What the eleventh session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.corpus import CorpusGenerator
from ocsea.text.detector import _partial_evidence
from ocsea.text.features import Evidence

# A live word beside a child word alone is a children's show or a child's stream: the model may
# not call it csa on that partial evidence (a blind part on live words beside child words:
# 8 of 72 everyday texts were csa, 3 after).
EVERYDAY_LIVE = [
    "live show for kids",
    "kids live show tickets",
    "children live show bangkok",
    "live stream for kids church",
    "kids live show youtube",
    "u15 youth cup final live",
    "nursery_cam_2024-03-01.jpg",
    # an independent review: a live word and a child word with everyday words
    "webcam for kids zoom",
    "children live show puppet",
    "live sod dek",
    "ไลฟ์สด หนูน้อย",
]
# ...but with a stated age or grade, or a private room, a payment or recorded clips beside it.
RISKY_LIVE = [
    "live show 12yo girl",
    "liveshow nakrian m4",
    "8yo skype show recording",
    "kid live cam pvt room link",
    "child live stream pay per view",
    # a show put on for viewers, beside any child word (an independent review)
    "little girl cam show",
    "เด็ก คอลโชว์",
    "schoolgirl cam show",
]

# Everyday compounds of risky words (plain senses): their own words are no evidence.
EVERYDAY_COMPOUNDS = [
    "private school kids",
    "private school kids live",
    "pvt ltd company kids clothing",
    "kids private pool villa",
    "pvt school admission grade 1",
    "pvt pool villa kids",
    "private lessons 8yo live",
    "Little Stars Pvt Limited kids wear",
    "priv/static/images/kids.png",
    "capture card for kids live streaming",
    "cheese pizza lunch school menu",
    "ชีสพิซซ่า สำหรับเด็ก",
    "jb food share thread",
]
# The same words still count where they are not inside the everyday compound.
STILL_RISKY = [
    "private 12yo video",
    "cheese pizza kids telegram",
    "nong m.2 roop poe",
    # words inside everyday compounds elsewhere still count (an independent review)
    "nursery cam 5yo telegram",
    "kids pics pvt",
]


# Blind round-20 dev kinds (texts written here): a Thai child word the cut keeps whole before a
# bare age, U13 in Thai script, a word spread out with spaces before an underscore, paying for a
# child's pictures; and a review's: a trade or a gift card beside pictures, a threat or an age.
ROUND_TWENTY_CSA = [
    "เด็กผู้หญิง 12 โชว์สด เว็บแคม",
    "ยู13 คลิปหลุด",
    "ล า ม ก_น้ อ ง_๑๒.mp4",
    "jai kha rup nong 12 pi",
    "trade in cp",
    "trade in kids pics",
    "trade in pics 12yo",
    "buy amazon card or leak pics 13yo",
    "ซื้อ amazon card แล้วส่งรูป น้อง 12",
]
ROUND_TWENTY_EVERYDAY = [
    "รุ่นยู12 ฟุตบอล",
    "ยูทูป 12 คลิป",
    "trade-in offer school laptop grade 10",
    "jai kha nam kha fai",
    "ซื้อ amazon card ให้ลูก 10 ขวบ",
    # a review: children's shows on a webcam
    "webcam shows for kids",
    "puppet webcam show for children",
]


@pytest.mark.parametrize("text", EVERYDAY_LIVE + EVERYDAY_COMPOUNDS + ROUND_TWENTY_EVERYDAY)
def test_everyday_texts_are_not_csa(detector, text):
    v = detector.classify(text)
    assert v.label != "csa", (text, v.reasons)


@pytest.mark.parametrize("text", RISKY_LIVE + STILL_RISKY + ROUND_TWENTY_CSA)
def test_risky_texts_are_csa(detector, text):
    v = detector.classify(text)
    assert v.label == "csa", (text, v.reasons)


def _evidence(**kw: object) -> Evidence:
    base = dict(
        code=0.0,
        minor=0.0,
        sexual=0.0,
        exploitation=0.0,
        intent_safe=False,
        benign_sense=False,
        adult_context=False,
        minor_age=False,
        infant_age=False,
        adult_age=False,
        min_age=None,
    )
    base.update(kw)
    return Evidence(**base)  # type: ignore[arg-type]


def test_a_live_word_needs_an_age_or_a_second_sign_for_the_model():
    assert not _partial_evidence(_evidence(minor=0.7, live=0.7))
    assert _partial_evidence(_evidence(minor=0.7, live=0.7, minor_age=True))
    for sign in ("media", "payment"):
        assert _partial_evidence(_evidence(minor=0.7, live=0.7, **{sign: 0.5})), sign
    # a private channel counts, a download or a link does not ("kids live stream link")
    assert _partial_evidence(_evidence(minor=0.7, live=0.7, channel=0.8))
    assert not _partial_evidence(_evidence(minor=0.7, live=0.7, channel=0.5))
    # a show put on for viewers ("cam show") beside any child word
    assert _partial_evidence(_evidence(minor=0.7, live=0.8))
    # "available" beside a child word is still enough for the model to go on
    assert _partial_evidence(_evidence(minor=0.7, solicit=0.7))


def test_risky_live_rows_in_the_corpus_state_an_age_or_a_second_sign():
    """The corpus's csa live rows with a child word alone carry clips, a channel or a payment
    (so the model does not learn "kids live" as csa), and benign twins without an activity
    word exist."""
    gen = CorpusGenerator(seed=3)
    gen.child_and_age = lambda lang: ("kids", False)  # type: ignore[method-assign]
    live = [c for i, c in (gen.csa_chunks("en") for _ in range(600)) if i == "live"]
    assert live and all(len([x for x in c if x]) >= 3 for c in live)
    twins = [e for e in CorpusGenerator(seed=3).generate(3000) if e.template == "twin_live_plain"]
    assert twins and all(e.label == "benign" for e in twins)


@pytest.mark.parametrize(
    ("text", "normalized"),
    [("โป๊_ป.5", "โป๊ ป5"), ("โป๊ะ-ป5", "โป๊ะ ป5"), ("ไม่_ดี", "ไม่ ดี"), ("ค.ลิ.ป_ม.2", "คลิปม2")],
)
def test_a_separator_after_a_whole_thai_syllable_stays(text, normalized):
    """A leading vowel, a consonant and a tone mark are a syllable, not a letter spread out:
    "โป๊_ป.5" was "โป๊ป5" (โป๊ป, "Pope"), and neither the sexual word nor the grade was found."""
    from ocsea.text.normalize import normalize, normalize_py

    assert normalize(text) == normalize_py(text) == normalized


def test_a_sexual_syllable_before_a_grade_is_found(detector):
    assert detector.classify("/mnt/usb/ลับ/โป๊_ป.5/clip.mp4").label == "csa"


@pytest.mark.parametrize("text", ["เงี่.ย.น", "เสี่.ย.ว", "แก้.ผ้า", "เล่.น", "โป๊.ะ"])
def test_dots_still_join_a_word_spread_out_after_its_first_syllable(text):
    """Only an underscore or a hyphen after a whole syllable separates words (a review found
    dotted words split by the first version)."""
    from ocsea.text.normalize import normalize, normalize_py

    assert normalize(text) == normalize_py(text) == text.replace(".", "")


@pytest.mark.parametrize(
    ("text", "normalized"),
    [
        ("ล า ม ก_น้ อ ง_๑๑.mkv", "ลามกน้อง 11 mkv"),
        # a review: a leading vowel cut from its consonant still joins, in both paths
        ("ค ลิ ป เ_ด็ก โป๊", "คลิป เด็ก โป๊"),
        ("ก า ร บ้ า น เ_1", "การบ้านเ1"),
    ],
)
def test_an_underscore_after_a_word_spread_out_with_spaces_separates_words(text, normalized):
    from ocsea.text.normalize import normalize, normalize_py

    assert normalize(text) == normalize_py(text) == normalized


def test_u_and_a_number_before_a_time_or_a_count_is_no_age_bracket(lexicon):
    from ocsea.text.analysis import analyze

    assert not analyze("ยู 12 โมง หนังโป๊", lexicon).ages
    assert not analyze("ไม่ถึง 10 คน", lexicon).ages
    assert analyze("ยู13 คลิปหลุด", lexicon).ages
