"""Age and school-grade parser: turns "12yo", "อายุ 12", "ป.5", "ม.ต้น", "ด.ญ." into age ranges.

Works on the normalised text (dots already removed inside Thai abbreviations, numbers split from
units) and on its tokens. A grade maps to the usual age of Thai pupils in it (ป.1 ≈ 6–7,
ม.1 ≈ 12–13).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import NamedTuple

from ocsea.text.tokenize import Token

ADULT_AGE = 18
_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
}  # fmt: skip
_UNIT = (
    r"(?:y ?o|yrs? olds?|years? olds?|yearold|yearsold|yrs|yr|yro|yold|yoa|y|ขวบ|khuap|khuab|kuap)"
)
_RANGE_RX = re.compile(rf"(?<![\d.+])(\d{{1,2}}) (?:to )?(\d{{1,2}}) ?{_UNIT}(?![a-z0-9])")
_SINGLE_RX = re.compile(rf"(?<![\d.+])(\d{{1,2}}) ?{_UNIT}(?![a-z0-9+])")
# วัย (age, time of life) as อายุ: "น้องวัย 14" (blind round 12: missed); not ทุกวัย (all ages).
_AGE_PREFIX_RX = re.compile(
    r"(?:(?<![a-z])(?:aged?|ayu|ahyu|aayu)|อายุ|(?<!ทุก)วัย|age of) ?(\d{1,2})(?![\d+])"
)
_THAI_GIRL_AGE_RX = re.compile(r"(?:สาว|หนุ่ม|น้อง) ?(\d{2})(?![\d+])(?! ?(?:cm|ซม|kg|บาท|นิ้ว))")
_WORD_RX = re.compile(
    r"(?<![a-z])(" + "|".join(_WORD_NUMBERS) + r")(?: |-)?(?:years? old|y ?o|yrs? old)(?![a-z])"
)
# "u13", "under 16": younger than the number; "14f": a 14-year-old girl in an ad's shorthand.
_UNDER_RX = re.compile(
    r"(?<![a-z0-9])(?:u|under ?|below ?|uder ?|not yet ?|yang mai ?|ไม่ถึง ?|ต่ำกว่า ?|ยังไม่ ?"
    # "u13" in Thai script, not inside a Thai word (blind round-20 dev: "ตัวเล็กตัวน้อย ยู13")
    r"|(?<![\u0e00-\u0e7f])ยู ?)"
    r"([0-9]{1,2})(?![0-9+])"
    # not a time, a count or an amount ("ยู 12 โมง", "ไม่ถึง 10 คน", a review)
    r"(?! ?(?:โมง|นาที|ชั่วโมง|ชม|คน|ล้าน|บาท|วัน|ครั้ง))"
)
# "หาน้องไม่เกิน 15" (a child not over 15): at most the number, as "under" is below it (blind
# round 12). Only right after a child word: "at most" is mostly an amount ("งบไม่เกิน 15,000",
# "ไม่เกิน 10 หน้า", "ไลฟ์ไม่เกิน 15 วิ" were csa beside รับงาน or ไลฟ์ in review), and never
# before another group of digits ("15 000" is a price).
_NOT_OVER_RX = re.compile(
    r"(?:น้อง|เด็ก|วัยใส|(?<![a-z])(?:dek|nong)) ?(?:ไม่เกิน|mai koen|mai kern) ?"
    r"([0-9]{1,2})(?![0-9+])(?! [0-9])"
)
# "ยังไม่ 18", "not yet 18": younger than eighteen, not a notice as "under 18" is.
_NOT_YET_RX = re.compile(r"(?<![a-z0-9])(?:not yet ?|yang mai ?|ยังไม่ ?|ยังไม่ถึง ?)18(?![0-9+])")
# "อายุไม่เกิน 15", "age under 14": a person's age bound, named as such.
_AGE_BOUND_RX = re.compile(
    r"(?:อายุ|(?<![a-z])age|(?<![a-z])ayu) ?(?:ไม่เกิน|ต่ำกว่า|ไม่ถึง|under|below|mai koen|mai kern) ?"
    r"([0-9]{1,2})(?![0-9+])"
)
# "she's 15", "i'm 14": a person's own age.
_PRONOUN_AGE_RX = re.compile(
    r"(?<![a-z])(?:(?:she|he) ?(?:s|is)|i ?(?:m|am)) ([0-9]{1,2})(?![0-9+])"
)  # not "level is 14": "i" + "s" would be the word "is"
_FEMALE_RX = re.compile(r"(?<![0-9.+])(1[0-7]) ?f(?![a-z0-9])")
# A number of years: a person's age or a thing's ("ประกัน 5 ปี"), so a stated age only.
_YEARS_RX = re.compile(r"(?<![\d.+])(\d{1,2}) ?(?:ปี|pi|pee|pii)(?![a-z0-9])")
# Thai numbers written out after a grade or age word ("มอสอง", "ป.ห้า", "อายุสิบสาม").
_THAI_NUMBERS = {
    "หนึ่ง": 1, "สอง": 2, "สาม": 3, "สี่": 4, "ห้า": 5, "หก": 6, "เจ็ด": 7, "แปด": 8, "เก้า": 9,
    "สิบ": 10, "สิบเอ็ด": 11, "สิบสอง": 12, "สิบสาม": 13, "สิบสี่": 14, "สิบห้า": 15,
    "สิบหก": 16, "สิบเจ็ด": 17,
}  # fmt: skip
_THAI_NUMBER = "(" + "|".join(sorted(_THAI_NUMBERS, key=len, reverse=True)) + ")"
# Not the start of a longer word ("มหกรรม", a festival; "หกล้ม", fell over), bar right after a
# child word ("น้องมอสอง", blind round-13 dev).
_THAI_WORD_GRADE_RX = re.compile(
    rf"(?:(?<![\u0e00-\u0e7f])|(?<=น้อง)|(?<=เด็ก))(มอ|ม|ปอ|ป) ?{_THAI_NUMBER}(?!รรม|ล้ม|โมง|เหลี่ยม)"
)
_THAI_WORD_AGE_RX = re.compile(rf"(?:อายุ ?{_THAI_NUMBER}|{_THAI_NUMBER} ?ขวบ)")
_ROM_NUMBERS = {"nueng": 1, "neung": 1, "song": 2, "sam": 3, "si": 4, "see": 4, "ha": 5, "hok": 6}
_ROM_WORD_GRADE_RX = re.compile(
    r"(?<![a-z])(mor|mhor|mo|por|ptm)[ .]?(nueng|neung|song|sam|si|see|ha|hok)(?![a-z])"
)
# What the scans above cannot match without (each gate is tested against its scan): plain
# substring tests and short patterns, a fraction of a scan.
_FEMALE_GATE_RX = re.compile("1[0-7] ?f")
_ORDINAL_GRADE_RX = re.compile(
    r"(?<![\d])(\d{1,2}) ?(?:st|nd|rd|th) grade|grade (\d{1,2})(?!\d)"
    r"|\b(first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
    r" ?grade"
)
_ORDINAL_WORDS = {
    w: k + 1
    for k, w in enumerate(
        [
            "first",
            "second",
            "third",
            "fourth",
            "fifth",
            "sixth",
            "seventh",
            "eighth",
            "ninth",
            "tenth",
            "eleventh",
            "twelfth",
        ]
    )
}
# Ordinals that also grade a thing's quality; "sixth grade" is only ever a class (blind round-11
# dev: "sixth.grade.<sexual word>" had no child word and no age).
_QUALITY_ORDINALS = frozenset(["first", "second", "third"])
# What each pattern cannot match without: a number with the first letter of a unit after it, or a
# word of its own. Plain substring tests cost a fraction of a scan, and most texts state no age: a
# scan skipped where its pattern cannot match gives what the scan would (property-tested), and
# age parsing went 10 -> 4 µs a filename on the benchmark's unique filenames.
_NUMBER_UNIT_RX = re.compile(r"\d ?[yขk]")

# Tokens that name a grade when a number follows: (low age, high age) = (n + a, n + b).
_GRADE_PREFIX = {
    "ป": (5, 7), "ประถม": (5, 7), "prathom": (5, 7), "por": (5, 7), "ป.": (5, 7),
    "ม": (11, 13), "มัธยม": (11, 13), "mathayom": (11, 13), "mor": (11, 13), "mhor": (11, 13),
    "mo": (11, 13),
    # Other romanised spellings of มัธยม and ประถม (blind dev: "yed_mattayom2").
    "mattayom": (11, 13), "matayom": (11, 13), "matthayom": (11, 13), "mattayum": (11, 13),
    "pratom": (5, 7), "prathum": (5, 7), "prattom": (5, 7), "pratum": (5, 7),
    "m": (11, 13), "ptm": (5, 7), "pt": (5, 7), "p": (5, 7), "เด็กป": (5, 7), "เด็กม": (11, 13),
    # ม and ป as they are spoken, with a digit (blind round-14 dev: "ปอ6"); with a number
    # written out they are in _THAI_WORD_GRADE_RX.
    "มอ": (11, 13), "ปอ": (5, 7),
    # เด็กม/เด็กป romanised ("dekm 3"): the child word is in the token, so no other is needed.
    # Not "nongmor" (also น้องหมอ, a junior doctor), "dekmor" (เด็กหมอ, a medical student) or
    # "nongp"/"nongpor" (น้องปอ, a nickname): a review found them flagging "nongmor 1 sexy".
    "dekm": (11, 13), "dekp": (5, 7),
    # ปวช.1–3, the vocational upper-secondary years (pupils of 15–18; blind round-16 dev:
    # "แอบถ่าย ปวช.1 ห้องน้ำ"). Only with its year: ปวช alone is as often an adult's diploma
    # ("วุฒิ ปวช", "จบ ปวช"; a review found job ads csa). Not ปวส, the diploma after it (18+).
    "ปวช": (14, 15),
}  # fmt: skip
# Romanised grade prefixes that are also units or model names ("m2" area, an M2 chip).
_LATIN_GRADE_PREFIX = frozenset(["m", "pt", "p"])
_GRADE_PREFIX_MAX = {"ป": 6, "ปอ": 6, "ประถม": 6, "prathom": 6, "por": 6, "ป.": 6, "ptm": 6, "pt": 6, "p": 6,
                     "pratom": 6, "prathum": 6, "prattom": 6, "pratum": 6,
                     "เด็กป": 6, "dekp": 6, "ปวช": 3}  # fmt: skip
# A grade written as one Latin token ("m3", "ptm6"): romanised ม.3, ป.6.
_LATIN_GRADE_RX = re.compile(r"(m|mor|mhor|ptm|prathom|pt|p|por)([1-6])")
# Child words a bare number after names the child's age ("girls 13", "เด็ก 14", "dek 12",
# "boys 11 13"), and the units of a bare Thai age ("15ปี", "14 pee").
_CHILD_WORDS = frozenset(
    [
        "girl",
        "girls",
        "boy",
        "boys",
        "kid",
        "kids",
        "child",
        "teen",
        "teens",
        "preteen",
        "schoolgirl",
        "schoolgirls",
        "schoolboy",
        "schoolboys",
        "dek",
        "dekk",
        "nong",
        "nakrian",
        "nakrean",
        "ying",
        "chai",
        "เด็ก",
        "น้อง",
        "ดญ",
        "ดช",
        "นร",
        "เด็กหญิง",
        "เด็กชาย",
        # one token to the cut (blind round-20 dev: "เว็บแคม เด็กผู้หญิง 12 โชว์สด")
        "เด็กผู้หญิง",
        "เด็กผู้ชาย",
        "เด็กสาว",
        "นักเรียน",
        "หญิง",
        "ชาย",
        "หาเด็ก",
        "หาน้อง",
    ]
)
_ROMANISED_CONTEXT = frozenset(
    [
        "rapngan",
        "rabngan",
        "rubngan",
        "rubgan",  # blind round-11 dev: "rubgan.m1"
        "ngan",
        "rongrian",
        "rian",
        "nakrian",
        "nakrean",
        "nukrian",
        "nr",  # นร., a pupil: "lud nr m5"
        # blind round-14 dev: other spellings of เรียน, and แอบถ่าย, a hidden camera, which
        # has no M.2 drive or square metres beside it ("aebtai_hong_plian_sua_m2"); not "aeb"
        # alone, a car's emergency braking ("bmw m2 aeb", a review found)
        "rien",
        "nakrien",
        "nukrien",
        "nukrean",
        "aebtai",
        "aebthai",
        "aeptai",
        "aepthai",
        "khuap",
        "ayu",
    ]
)
_YEAR_UNITS = frozenset(["ปี", "pee", "pi", "khuap", "ขวบ", "y", "yo", "yrs", "yr"])
_NOT_AN_AGE_AFTER = frozenset(
    [
        "cm",
        "ซม",
        "kg",
        "กก",
        "บาท",
        "baht",
        "gb",
        "mb",
        "tb",
        "px",
        "k",
        "p",
        "mm",
        "นิ้ว",
        "inch",
        "min",
        "นาที",
        "ชม",
        "hr",
        "hrs",
        "sec",
        "fps",
        "x",
        "คน",
        "ชิ้น",
        "ตัว",
        "คู่",
        "เล่ม",
        "คัน",
        "ห้อง",
        "pcs",
        "pc",
        "pieces",
        "piece",
        "pack",
        "packs",
        "in",
        "set",
        "sets",
        "pairs",
        "pair",
        "people",
        "person",
    ]
)
# Tokens that name an age group by themselves.
_GROUP_WORDS = {
    "อนุบาล": (3, 6), "anuban": (3, 6), "kindergarten": (3, 6), "nursery": (2, 5),
    "ประถม": (6, 12), "ประถมศึกษา": (6, 12), "prathom": (6, 12), "elementary": (6, 12),
    "ptm": (6, 12), "pathom": (6, 12),
    "เด็กประถม": (6, 12), "นักเรียนประถม": (6, 12), "เด็กมัธยม": (12, 18), "เด็กอนุบาล": (3, 6),
    "เด็กมต้น": (12, 15), "เด็กมปลาย": (15, 18),
    "มต้น": (12, 15), "มัธยมต้น": (12, 15), "มปลาย": (15, 18), "มัธยมปลาย": (15, 18),
    "ปต้น": (6, 9), "ปปลาย": (9, 12), "ประถมต้น": (6, 9), "ประถมปลาย": (9, 12),
    "มัธยม": (12, 18), "มัธยมศึกษา": (12, 18), "mathayom": (12, 18), "matthayom": (12, 18),
    "mattayom": (12, 18), "matayom": (12, 18),
    "ดญ": (0, 14), "ดช": (0, 14), "ทารก": (0, 1), "infant": (0, 1), "toddler": (1, 3),
    "prepubescent": (5, 11), "preteen": (9, 12), "tween": (9, 12), "tweens": (9, 12),
}  # fmt: skip
# Two tokens, also where a dot between a word and a grade letter kept them apart ("เด็กม.ต้น").
_MULTI_GROUP = {("middle", "school"): (11, 14), ("junior", "high"): (12, 15),
                ("primary", "school"): (6, 12), ("mor", "ton"): (12, 15), ("mo", "ton"): (12, 15),
                ("mor", "plai"): (15, 18), ("mo", "plai"): (15, 18),
                ("ม", "ต้น"): (12, 15), ("ม", "ปลาย"): (15, 18), ("เด็กม", "ต้น"): (12, 15),
                ("เด็กม", "ปลาย"): (15, 18), ("ป", "ต้น"): (6, 9), ("ป", "ปลาย"): (9, 12),
                ("เด็กป", "ต้น"): (6, 9), ("เด็กป", "ปลาย"): (9, 12),
                ("ประถม", "ต้น"): (6, 9), ("ประถม", "ปลาย"): (9, 12),
                # spoken ม.ต้น / ม.ปลาย and romanised มัธยมต้น (blind round-13 dev); "มอ" alone
                # is also a university ("เด็กมอ"), so only with ต้น / ปลาย
                ("มอ", "ต้น"): (12, 15), ("มอ", "ปลาย"): (15, 18),
                ("mathayom", "ton"): (12, 15), ("mathayom", "plai"): (15, 18),
                ("matthayom", "ton"): (12, 15), ("matthayom", "plai"): (15, 18),
                ("mattayom", "ton"): (12, 15), ("mattayom", "plai"): (15, 18)}  # fmt: skip


class AgeMention(NamedTuple):
    low: int
    high: int
    start: int  # in the normalised text
    end: int
    # "age" and "range" (a number with a unit of age: "12yo", "9 ขวบ"), "under" ("u13", "under
    # 13": an age bracket, as collections are named), "stated" ("อายุ 12",
    # "age 12": a person's or a thing's), "grade", "group", "child" (a child word and a number)
    kind: str
    text: str

    @property
    def minor(self) -> bool:
        return self.low < ADULT_AGE

    @property
    def adult(self) -> bool:
        return self.low >= ADULT_AGE


# A bare range of child ages ("10-13", "12~15"): no age by itself (a clothing size, episodes,
# chapters, a score, a shop's hours), but how collections are sold and swapped beside a sale and
# clips (blind dev, rounds 12-15: "trade 10-13 folders mega link"). Ranges of eight to fifteen
# at the low end, at most five wide; not after a word that makes it episodes, floors, clothes'
# sizes or pages, nor before a unit, a price, a percentage or a month (a review's texts).
_BARE_RANGE_RX = re.compile(
    r"(?<![0-9A-Za-z.:/,+\-])(8|9|1[0-5]) ?[-\u2013\u2014~] ?(9|1[0-7])"
    r"(?![0-9A-Za-z:/\-]|[.,][0-9])"
)
_NOT_AGES_BEFORE = frozenset(
    [
        "ep", "eps", "episode", "episodes", "chapter", "chapters", "ch", "chap", "part", "parts",
        "pt", "vol", "vols", "volume", "volumes", "page", "pages", "p", "pp", "lecture", "lectures",
        "lesson", "lessons", "season", "seasons", "s", "track", "tracks", "disc", "discs", "cd",
        "round", "rounds", "week", "weeks", "day", "days", "size", "sizes", "grade", "grades", "no",
        "level", "levels", "lvl", "room", "rooms", "unit", "units", "year", "years", "class", "form",
        "am", "pm", "score", "set", "sets", "game", "games", "match", "ages", "age", "floor",
        "floors", "ตอน", "ตอนที่", "บท", "บทที่", "ภาค", "ซีซั่น", "เล่ม", "ชั้น", "ห้อง", "ไซส์",
        "ไซซ์", "เบอร์", "วันที่", "รอบ", "หน้า", "ข้อ", "อก", "เอว", "ชุด", "เสื้อ", "กางเกง", "ไปรเวท",
        "กระโปรง", "รองเท้า", "shirt", "shirts", "tshirt", "dress", "dresses", "shoes", "pants",
        "jeans", "skirt", "skirts", "pajamas", "pyjamas", "hoodie", "uniform", "uniforms", "outfit",
        "outfits", "clothes", "clothing"
    ]
)  # fmt: skip
_NOT_AGES_AFTER = frozenset(
    [
        "dollars", "dollar", "usd", "baht", "thb", "eur", "euro", "euros", "k", "mb", "gb", "min",
        "mins", "minutes", "hours", "hrs", "h", "pm", "am", "cm", "mm", "kg", "kgs", "inch", "inches",
        "lbs", "pcs", "pieces", "percent", "days", "weeks", "months", "years", "reps", "sets", "jan",
        "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "january", "february", "march", "april", "june", "july", "august", "september", "october",
        "november", "december", "บาท", "นาที", "ชั่วโมง", "ซม", "กก", "ตัว", "ชิ้น", "วัน", "สัปดาห์", "อาทิตย์", "โหล", "แผ่น", "ใบ", "oz", "ft", "week",
        "เดือน", "ปี", "โมง", "งวด", "ไร่", "ตัน", "โล", "กิโล", "นิ้ว", "เล่ม", "ตอน", "ลูก",
        "พัน", "หมื่น", "คน", "มกรา", "กุมภา", "มีนา", "เมษา", "พฤษภา", "มิถุนา", "กรกฎา", "สิงหา",
        "กันยา", "ตุลา", "พฤศจิกา", "ธันวา"
    ]
)  # fmt: skip
_NEAR_WORD_RX = re.compile(r"[a-z]+|[\u0e00-\u0e7f]+")
# Thai months abbreviated (ม.ค. ... ธ.ค.), and the Thai words of the lists above, which Thai
# writes run together with the next word ("ตอนที่10-13", "10-13นิ้ว").
_THAI_MONTH_RX = re.compile(r"\s*(?:ม|ก|มี|เม|พ|มิ|ส|ต|ธ)\.(?:ค|พ|ย)")
# Thai is written without spaces, so a few of these words are looked for at the end of the run
# before the range or at the start of the run after it ("ตอนที่10-13", "10-12นิ้ว"); the others,
# short words that begin or end other words ("ขายยกชุด 10-13", a whole set; "10-13 นะ"), only
# as whole runs (a review found them too broad as parts).
_THAI_NOT_BEFORE = ("ตอน", "ตอนที่", "บทที่", "ซีซั่น", "ชั้น", "ไซส์", "ไซซ์", "เบอร์", "เสื้อ",
                    "กางเกง", "ไปรเวท", "กระโปรง", "รองเท้า")  # fmt: skip
_THAI_NOT_AFTER = ("นาที", "ชั่วโมง", "สัปดาห์", "อาทิตย์", "เดือน", "โมง", "งวด", "ไร่", "นิ้ว",
                   "กิโล", "บาท", "โหล", "แผ่น", "มกรา", "กุมภา", "มีนา", "เมษา", "พฤษภา", "มิถุนา",
                   "กรกฎา", "สิงหา", "กันยา", "ตุลา", "พฤศจิกา", "ธันวา")  # fmt: skip
_THAI_HOUR_RX = re.compile(r"\s*น\.")
_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def has_bare_age_range(original: str) -> bool:
    """A bare range of child ages in the original text (see ``_BARE_RANGE_RX``)."""
    if not any(dash in original for dash in "-~\u2013\u2014"):
        return False
    text = original.translate(_THAI_DIGITS).lower()
    for m in _BARE_RANGE_RX.finditer(text):
        low, high = int(m.group(1)), int(m.group(2))
        if not low < high <= low + 5:
            continue
        before = _NEAR_WORD_RX.findall(text[max(0, m.start() - 12) : m.start()])
        rest = text[m.end() : m.end() + 12]
        after = _NEAR_WORD_RX.findall(rest)
        if before and (before[-1] in _NOT_AGES_BEFORE or before[-1].endswith(_THAI_NOT_BEFORE)):
            continue
        if after and (after[0] in _NOT_AGES_AFTER or after[0].startswith(_THAI_NOT_AFTER)):
            continue
        if rest.lstrip()[:1] in ("%", "฿", "$", "€") or _THAI_MONTH_RX.match(rest):
            continue
        if _THAI_HOUR_RX.match(rest):  # "10-12 น.", a shop's hours
            continue
        return True
    return False


def parse_ages(text: str, tokens: Sequence[Token]) -> list[AgeMention]:
    """Every age or grade mention in a normalised text, left to right, without overlaps."""
    found: list[AgeMention] = []
    if _NUMBER_UNIT_RX.search(text) is not None:
        for m in _RANGE_RX.finditer(text):
            a, b = sorted((int(m.group(1)), int(m.group(2))))
            found.append(AgeMention(a, b, m.start(), m.end(), "range", m.group(0)))
        for m in _SINGLE_RX.finditer(text):
            v = int(m.group(1))
            found.append(AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    if "age" in text or "อายุ" in text or "ayu" in text or "hyu" in text or "วัย" in text:
        # "อายุ 2 ปี" is as often a thing's age (a card valid two years) as a person's.
        found.extend(_prefixed(_AGE_PREFIX_RX, text, "stated"))
    if "สาว" in text or "หนุ่ม" in text or "น้อง" in text:
        found.extend(_prefixed(_THAI_GIRL_AGE_RX, text))
    if "old" in text or "yo" in text or "y o" in text:
        for m in _WORD_RX.finditer(text):
            v = _WORD_NUMBERS[m.group(1)]
            found.append(AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    if "grade" in text:
        for m in _ORDINAL_GRADE_RX.finditer(text):
            if m.group(3) in _QUALITY_ORDINALS and not _has_child_word(tokens):
                continue  # "first grade durian", "second grade steel": a quality, not a class
            g = int(m.group(1) or m.group(2)) if m.group(3) is None else _ORDINAL_WORDS[m.group(3)]
            if 1 <= g <= 12:
                found.append(AgeMention(g + 5, g + 7, m.start(), m.end(), "grade", m.group(0)))
    if (
        "u1" in text or "u8" in text or "u9" in text or "nder" in text or "below" in text
        or "uder" in text
        or "ไม่ถึง" in text or "ต่ำกว่า" in text or "ยังไม่" in text or "yet" in text
        or "yang mai" in text or "ยู" in text
    ):  # fmt: skip
        for m in _UNDER_RX.finditer(text):
            v = int(m.group(1))
            if _counts_something(text, m.end(), _UNDER_NOT_UNITS):
                continue  # "ไม่ถึง 10 ครั้ง", "under 10 minutes": not an age
            if 8 <= v < ADULT_AGE:  # "u2" is a band, "u13" an age bracket; "under 18" a notice
                found.append(
                    AgeMention(max(0, v - 4), v - 1, m.start(), m.end(), "under", m.group(0))
                )
    if "ไม่เกิน" in text or "mai k" in text:
        for m in _NOT_OVER_RX.finditer(text):
            v = int(m.group(1))
            if 8 <= v < ADULT_AGE and not _counts_something(text, m.end(), _UNDER_NOT_UNITS):
                found.append(AgeMention(max(0, v - 4), v, m.start(), m.end(), "under", m.group(0)))
    if "18" in text and ("yet" in text or "yang mai" in text or "ยังไม่" in text):
        for m in _NOT_YET_RX.finditer(text):
            found.append(AgeMention(13, 17, m.start(), m.end(), "range", m.group(0)))
    if "อายุ" in text or "age" in text or "ayu" in text:
        for m in _AGE_BOUND_RX.finditer(text):
            v = int(m.group(1))
            if 8 <= v < ADULT_AGE and not _counts_something(text, m.end()):
                found.append(
                    AgeMention(max(0, v - 4), v - 1, m.start(), m.end(), "range", m.group(0))
                )
    if "s " in text or "m " in text or "is " in text or "am " in text:
        for m in _PRONOUN_AGE_RX.finditer(text):
            v = int(m.group(1))
            if 5 <= v < 30 and not _counts_something(text, m.end()):
                found.append(AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    if "f" in text and "1" in text and _FEMALE_GATE_RX.search(text) is not None:
        for m in _FEMALE_RX.finditer(text):
            v = int(m.group(1))
            found.append(AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    if "ปี" in text or "pi" in text or "pee" in text:
        found.extend(_prefixed(_YEARS_RX, text, "stated"))
    if not text.isascii() and _has_thai_number(text):
        found.extend(_thai_word_ages(text))
    if (
        "mo" in text or "po" in text or "ptm" in text or "mhor" in text
    ) and _ROM_WORD_GRADE_RX.search(text):
        for m in _ROM_WORD_GRADE_RX.finditer(text):
            g = _ROM_NUMBERS[m.group(2)]
            a, b = _GRADE_PREFIX["m" if m.group(1) in ("mor", "mhor", "mo", "m") else "ptm"]
            found.append(AgeMention(g + a, g + b, m.start(), m.end(), "grade", m.group(0)))
    found.extend(_token_grades(text, tokens))
    return _without_overlaps(found)


def _counts_something(text: str, end: int, ages_anyway: frozenset[str] = frozenset()) -> bool:
    """The word after a number is a unit of something other than age, bar ``ages_anyway``."""
    rest = text[end : end + 12].lstrip(" ")
    if not rest:
        return False
    word = rest.split(" ", 1)[0]
    if "\u0e00" <= word[0] <= "\u0e7f":
        return word.startswith(_THAI_COUNT_UNITS)
    if word in ages_anyway:
        return False
    return word in _NOT_AN_AGE_AFTER or word in _COUNT_UNITS


# "12 pack" is a count, "under 12 pack" an age bracket's collection: after "under", "u" or "below"
# these words still leave the number an age.
_UNDER_NOT_UNITS = frozenset(["pack", "packs", "set", "sets", "x", "in"])


_THAI_COUNT_UNITS = (
    "ครั้ง", "บาท", "คน", "ชิ้น", "วัน", "นาที", "ชั่วโมง", "ชม", "เดือน", "สัปดาห์", "กิโล", "เมตร",
    "ตัว", "อัน", "เล่ม", "ใบ", "ข้อ", "รอบ", "เปอร์เซ็นต์", "ล้าน", "พัน", "หมื่น", "แสน", "ที่",
)  # fmt: skip
_COUNT_UNITS = frozenset(
    [
        "minutes",
        "mins",
        "hours",
        "days",
        "weeks",
        "months",
        "km",
        "miles",
        "dollars",
        "usd",
        "items",
        "times",
        "percent",
        "people",
        "players",
        "members",
        "pages",
        "words",
        "files",
    ]
)


def _has_thai_number(text: str) -> bool:
    # Ten substring tests: a third of one scan of the alternation.
    return (
        "สอง" in text or "สาม" in text or "สี่" in text or "ห้า" in text or "หก" in text
        or "หนึ่ง" in text or "สิบ" in text or "เจ็ด" in text or "แปด" in text or "เก้า" in text
    )  # fmt: skip


def _thai_word_ages(text: str) -> list[AgeMention]:
    out: list[AgeMention] = []
    for m in _THAI_WORD_GRADE_RX.finditer(text):
        g = _THAI_NUMBERS[m.group(2)]
        if 1 <= g <= 6:
            a, b = _GRADE_PREFIX["ม" if m.group(1) in ("ม", "มอ") else "ป"]
            out.append(AgeMention(g + a, g + b, m.start(), m.end(), "grade", m.group(0)))
    for m in _THAI_WORD_AGE_RX.finditer(text):
        v = _THAI_NUMBERS[m.group(1) or m.group(2)]
        out.append(AgeMention(v, v, m.start(), m.end(), "age", m.group(0)))
    return out


def _prefixed(rx: re.Pattern[str], text: str, kind: str = "age") -> list[AgeMention]:
    out: list[AgeMention] = []
    for m in rx.finditer(text):
        v = int(m.group(1))
        out.append(AgeMention(v, v, m.start(), m.end(), kind, m.group(0)))
    return out


def _number_before_child(text: str, tokens: Sequence[Token], i: int) -> AgeMention | None:
    """A range of ages right before a child word ("11 13 girls"; "12 yo boy" is found by the unit
    patterns): the child's age. A single number before one is a count ("3 girls"), a model or a
    size ("iphone 13 girl case", "set of 6 girl dolls"), as often as an age."""
    j = i - 1
    if j < 1 or not tokens[j].text.isdigit() or len(tokens[j].text) > 2:
        return None
    if not (tokens[j - 1].text.isdigit() and len(tokens[j - 1].text) <= 2):
        return None
    low, high = sorted((int(tokens[j - 1].text), int(tokens[j].text)))
    start = tokens[j - 1].start
    if not 1 <= low <= high <= 17:
        return None
    return AgeMention(low, high, start, tokens[i].end, "child", text[start : tokens[i].end])


def _has_child_word(tokens: Sequence[Token]) -> bool:
    """A child word, or a romanised Thai word for the contexts a grade is named in ("rapngan
    m3"): what makes "m3" a school grade rather than a size, a chip or an area."""
    return any(
        t.text in _CHILD_WORDS or t.text in _GROUP_WORDS or t.text in _ROMANISED_CONTEXT
        for t in tokens
    ) or any(
        # แอบถ่าย spelt apart ("aeb tai m2"); "aeb" alone or "aeb thai" is a car's braking
        a.text in ("aeb", "aep") and b.text == "tai"
        for a, b in pairwise(tokens)
    )


# Words for clips or pictures that may stand between a child word and the child's age.
_MEDIA_BETWEEN = frozenset(
    ["vid", "vids", "video", "videos", "pic", "pics", "photo", "photos", "clip", "clips"]
)


def _child_number(text: str, tokens: Sequence[Token], i: int) -> AgeMention | None:
    """A number of 1 to 17 right after a child word, alone or as a range ("girls 10 12"), or a
    number with a Thai year unit: the child's age. Not a size, price or count."""
    n = len(tokens)
    j = i + 1
    if j + 1 < n and tokens[j].text in _MEDIA_BETWEEN:
        j += 1  # "boy vids 10-13", "girls pics 12": the clips' children, by age
    if j >= n or not tokens[j].text.isdigit() or len(tokens[j].text) > 2:
        return None
    low = high = int(tokens[j].text)
    end = tokens[j].end
    k = j + 1
    if k + 0 < n and tokens[k].text.isdigit() and len(tokens[k].text) <= 2:
        high = int(tokens[k].text)
        end = tokens[k].end
        k += 1
    if k < n and (tokens[k].text in _NOT_AN_AGE_AFTER or tokens[k].text in _COUNT_UNITS):
        return None
    if low == high and low < 2:
        return None  # "2 girls 1 guy": a count
    if k < n and tokens[k].text in _YEAR_UNITS:
        end = tokens[k].end
    low, high = sorted((low, high))
    if not 1 <= low <= high <= 17:
        return None
    return AgeMention(low, high, tokens[i].start, end, "child", text[tokens[i].start : end])


def _token_grades(text: str, tokens: Sequence[Token]) -> list[AgeMention]:
    out: list[AgeMention] = []
    n = len(tokens)
    has_child: bool | None = None  # looked up once, when a romanised grade needs it
    for i, tok in enumerate(tokens):
        t = tok.text
        if t not in _ANY_START and not (t[-1] in "123456" and t[0] in "mp"):
            continue
        if t in _CHILD_WORDS:
            found = _child_number(text, tokens, i) or _number_before_child(text, tokens, i)
            if found is not None:
                out.append(found)
                continue
        if t in _LATIN_GRADE_PREFIX:
            if has_child is None:
                has_child = _has_child_word(tokens)
            if not has_child:
                continue  # "m2 area", "MacBook M2", "M.2 SSD": a grade only beside a child word
        if t not in _GRADE_TOKENS:
            if t[0] in "mp" and (g := _LATIN_GRADE_RX.fullmatch(t)) is not None:
                if has_child is None:
                    has_child = _has_child_word(tokens)
                if not has_child:
                    continue
                a, b = _GRADE_PREFIX["m" if g.group(1) in ("m", "mor", "mhor") else "ptm"]
                v = int(g.group(2))
                out.append(AgeMention(v + a, v + b, tok.start, tok.end, "grade", t))
            continue
        if i + 1 < n and (t, tokens[i + 1].text) in _MULTI_GROUP:
            lo, hi = _MULTI_GROUP[(t, tokens[i + 1].text)]
            end = tokens[i + 1].end
            if t == "มอ" and (
                tokens[i + 1].start != tok.end
                or (end < len(text) and "\u0e00" <= text[end] <= "\u0e7f")
            ):
                continue  # มอ (a university) by ต้นซอย / ปลายซอย, the start or end of a lane
            out.append(AgeMention(lo, hi, tok.start, end, "group", text[tok.start : end]))
            continue
        if t in _GRADE_PREFIX and i + 1 < n and tokens[i + 1].text.isdigit():
            nxt = tokens[i + 1]
            gap = text[tok.end : nxt.start]
            g = int(nxt.text)
            if t in _SPOKEN_PREFIX:
                if has_child is None:
                    has_child = _has_child_word(tokens)
                if not _spoken_grade(text, tokens, i, has_child):
                    continue
            if gap in ("", " ") and 1 <= g <= _GRADE_PREFIX_MAX.get(t, 6) and len(nxt.text) == 1:
                a, b = _GRADE_PREFIX[t]
                out.append(
                    AgeMention(g + a, g + b, tok.start, nxt.end, "grade", text[tok.start : nxt.end])
                )
                continue
        if t in _GROUP_WORDS:
            lo, hi = _GROUP_WORDS[t]
            out.append(AgeMention(lo, hi, tok.start, tok.end, "group", t))
    return out


# ม and ป as they are spoken ("มอ", "ปอ"): also a motorbike or a university, and jute, a crop.
_SPOKEN_PREFIX = frozenset(["มอ", "ปอ"])
# What after the number makes it a count, a price or an age in months, not a grade.
_SPOKEN_NOT_AFTER = frozenset(
    ["ขวบ", "ปี", "เดือน", "วัน", "คน", "คัน", "กิโล", "กก", "กระสอบ", "บาท", "ตัว", "ชิ้น",
     "ชั่วโมง", "นาที", "ตัน", "ไร่", "ลูก", "ใบ", "ห่อ", "pee", "pi", "khuap"]
)  # fmt: skip


# Sexual and leak words that make a spoken grade a pupil's as a child word does ("คลิปหลุด มอ 3";
# a review found them lost when only child words counted).
_SPOKEN_CONTEXT = frozenset(
    ["หลุด", "คลิปหลุด", "เย็ด", "โป๊", "คลิปโป๊", "เสียว", "คลิปเสียว", "แอบถ่าย", "xxx", "porn",
     "sex", "nude", "yed", "lud"]
)  # fmt: skip


def _spoken_grade(text: str, tokens: Sequence[Token], i: int, has_child: bool) -> bool:
    """มอ/ปอ with a digit is a grade ("เด็ก ปอ6", blind round-14 dev) only beside a child word or
    a sexual or leak word, and not where the number is a count, a price or an age ("ขาย ปอ 6
    กิโล", jute by the kilo; "ขาย มอ 1 คัน", a motorbike; "น้องปอ 6 เดือน": a review found)."""
    if not (has_child or any(t.text in _SPOKEN_CONTEXT for t in tokens)):
        return False
    end = tokens[i + 1].end
    if end < len(text) and text[end] in ",.":
        return False  # "ปอ 6,000"
    return not (i + 2 < len(tokens) and tokens[i + 2].text in _SPOKEN_NOT_AFTER)


# Every token a grade or group starts with: the others are skipped at once (1.9 -> 0.9 µs a filename).
_GRADE_TOKENS = frozenset([*_GRADE_PREFIX, *_GROUP_WORDS, *(first for first, _ in _MULTI_GROUP)])
# Every token this loop acts on, bar one-token romanised grades ("m3", ends in a digit).
_ANY_START = _GRADE_TOKENS | _CHILD_WORDS | _LATIN_GRADE_PREFIX


def _without_overlaps(found: list[AgeMention]) -> list[AgeMention]:
    # Prefer earlier, then longer mentions.
    found.sort(key=lambda a: (a.start, -(a.end - a.start)))
    out: list[AgeMention] = []
    last_end = -1
    for a in found:
        if a.start >= last_end:
            out.append(a)
            last_end = a.end
    return out
