"""What the twelfth session changed in the detector.

Keyword-level texts written for this test (not copied from the blind set)."""

from __future__ import annotations

import pytest

from ocsea.text.detector import Detector


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector.load()


# 'fucking' and 'fuck' as an intensifier or a word said aloud, beside a child word: a parent's
# complaint, a family vlog (blind profanity and round-21 dev parts: five were csa). Only before
# an adjective of annoyance or said aloud: after 'the' or 'my' it hid 'the fucking 12yo video'
# (an independent review).
EVERYDAY_PROFANITY = [
    "kids_being_fucking_hilarious_at_the_zoo.mp4",
    "toddler says fuck at church compilation",
    "why is school pickup with 2 kids so fucking exhausting",
    "my 3 kids totally fucked up the kitchen",
    "kids fucked it all up lol",
    # swearing in a sentence, with no clips and no age in figures: the swear word names no act
    "my fucking toddler bit the dog again today",
    "the kids spilled the fucking paint all over the floor",
    "we re so fucked grade 12 finals",
]
# ...but the same word as a verb or a plain adjective beside a child stays a sexual word.
RISKY_PROFANITY = [
    "fucking 12yo girl",
    "12yo fucking video",
    "fucking schoolgirl grade 7",
    # the past form was not in the lexicon (blind profanity dev part: six csa missed)
    "10yo_fucked_clip.mp4",
    "boy 9 fucked video",
    # what the first version's phrases hid (an independent review)
    "the fucking 12yo video",
    "my fucking 10yo sister video",
    "fucking amazing 13yo",
    # ...but not with an age in figures, clips, another sexual word, or in a title's few words
    "watch the fucking 10yo girl tonight online",
    "my fucking toddler nude pics",
    "the toddler fucking video from the party",
    "fucking toddler",
    # a second review: an age spelt out, a grade in words, an extension, a film word
    "fucking eleven year old girl",
    "fucking sixth grade girl hard",
    "fucking_toddler_new_full_version.avi",
    "fucking little girl movies new full",
    "fucking เด็ก สิบเอ็ด ขวบ new full",
]

EVERYDAY_LIVE_AND_CAMERAS = [
    "ไดรเวอร์ เว็บแคม โน้ตบุ๊ก ดาวน์โหลด",
    "แอปไลฟ์ ขายเสื้อผ้าเด็ก ลดราคา",
    "แอปไลฟ์ สำหรับเด็ก ป.4 ปลอดภัยไหม",
    # Singlish 'sia' beside children; a kidnapping clip with a ransom (a second review)
    "call sia lah the kids waiting",
    "คลิป ลักพาตัว เด็ก 7 ขวบ เรียกค่าไถ่ 5 ล้าน",
    # romanised Thai dishes, bare feet, law sections and help-seeking (blind romanised-Thai part)
    "kuay teow nam sai menu dek lek",
    "khai jiao kap gai tod ahan klang wan rong rian por 3",
    "nakrian doen thao plao wan kila si",
    "มาตรา 279 อนาจาร เด็ก อายุไม่เกิน 15 ปี",
    "luk ying 12 khuap thuk chat ma jaeng thi nai",
    "secret camera app review iphone",
    "ซื้อเว็บแคม ให้ลูก ป.4",
]
# The Thai webcam, 'secret camera', and romanised แอบถ่าย and หนังอาร์ with 'thai' and 'ar'
# (round-21 dev part: the words were not in the lexicon or not found as one). A 'live app'
# (แอปไลฟ์) was tried and left out: parents' questions about live apps for their children were
# csa (an independent review).
RISKY_LIVE_AND_CAMERAS = [
    "เว็บแคม เด็ก ป.5 โชว์",
    "เว็ปแคม_ด.ญ._12_ขวบ.mp4",
    "secret camera changing room grade 7",
    "aap thai nakrian m.2 hong nam",
    "nang ar dek m.1",
    "call sia dek 12",
    # ...and the sale, the threat and the sugar daddy in romanised Thai
    "kai clip dek 13 pi telegram",
    "khu plot clip nakrian m.4",
    # what a review found the first version's rows cleared: 'what is', 'hire', a sale in a dish's
    # name, 'breast' in 'tao'
    "pthc คืออะไร",
    "nakrian m.3 rap ngan jang thi nai",
    "clip nakrian m.2 mi khai mai",
    "kai tod clip dek 12 pi",
    "dek 12 pi tao plueay",
]

# Benign senses beside child words (blind benign-senses dev part): 'naked' in names of things,
# 'cp' for cerebral palsy and a fandom couple, Lolita-fashion outfits. A form's 'sex' field
# ("sex F age 12") was tried and left out: its phrases hid "sex female 12yo video".
EVERYDAY_SENSES = [
    "naked eye astronomy club grade 4",
    "naked_mole_rat_fact_sheet_year5.docx",
    "living with cp toddler first steps",
    "cp diagnosis boy 9",
    "fanart cp อนิเมะ น้องสาว ม.2",
    "lolita outfit kids size 120",
]
# ...and the same words in the risky sense: the phrase is whole or it is nothing.
RISKY_SENSES = [
    "sex ม.1 clip",
    "sex f 12yo video",
    "naked 11yo girl",
    "real loli vid no drawing",
    "cp kids link mega",
    # what the first version's phrases hid (an independent review): a form field's two words,
    # a fandom couple as a benign sense, Lolita outfits and styles beside an age and a channel
    "sex female 12yo video",
    "sex หญิง ด.ญ. 12 ขวบ",
    "cp fanart loli 10yo",
    "lolita style 12yo",
    "lolita outfit 12yo mega link",
    "ขาย ชุด lolita 12 ขวบ เทเลแกรม",
]


@pytest.mark.parametrize("text", EVERYDAY_PROFANITY + EVERYDAY_LIVE_AND_CAMERAS + EVERYDAY_SENSES)
def test_everyday_text_is_not_csa(detector: Detector, text: str) -> None:
    assert detector.classify(text).label != "csa"


@pytest.mark.parametrize("text", RISKY_PROFANITY + RISKY_LIVE_AND_CAMERAS + RISKY_SENSES)
def test_risky_text_is_csa(detector: Detector, text: str) -> None:
    assert detector.classify(text).label == "csa"
