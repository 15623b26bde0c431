"""Deterministic synthetic corpus: lexicon categories composed by templates into queries, filenames,
paths and titles, with obfuscations, plus adult, benign and hard-negative text.

Keyword level only: items are lists of category words, never narrative or description of acts.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ocsea.text.lexicon import Entry, default_lexicon_entries

KINDS = ("query", "filename", "path", "title")
LANGS = ("th", "en", "mixed", "th-Latn")

# Template fillers that are not lexicon terms: ordinary words for benign and neutral context.
BENIGN_TH = {
    "school": "การบ้าน ตารางเรียน ข้อสอบ กระเป๋านักเรียน ทุนการศึกษา สมัครเรียน เกรด ครู โรงเรียน "
    "หนังสือเรียน คณิตศาสตร์ ภาษาอังกฤษ ติวสอบ แบบฝึกหัด กีฬาสี ทัศนศึกษา เปิดเทอม ผลสอบ",
    "parenting": "ผ้าอ้อม ของเล่น นิทาน เลี้ยงลูก พัฒนาการ ไม่กินข้าว ร้องไห้ นอนไม่หลับ รถเข็น "
    "คาร์ซีท ขวดนม ฟันน้ำนม ตัดผม วันเกิด",
    "medical": "วัคซีน ไข้ หมอเด็ก ไอ ผื่น ฟันผุ ท้องเสีย ภูมิแพ้ ตรวจสุขภาพ ส่วนสูง น้ำหนัก",
    "sports": "ฟุตบอล ว่ายน้ำ เทควันโด วิ่ง แข่งขัน บาสเกตบอล แบดมินตัน ยิมนาสติก ซ้อม",
    "shopping": "เสื้อผ้าเด็ก รองเท้า ราคา ลดราคา โปรโมชั่น ร้าน ส่งฟรี ของแท้ ไซส์ ชุดว่ายน้ำเด็ก",
    # Products sold by age ("books for age 8"): a benign use of ages next to child words.
    "books_toys": "หนังสือ หนังสือนิทาน นิทานก่อนนอน การ์ตูน ตัวต่อ เลโก้ จักรยาน เกมกระดาน "
    "หนังสืออ่านนอกเวลา นิยาย ระบายสี จิ๊กซอว์ ตุ๊กตา ของขวัญ",
    "general": "ร้านอาหาร สูตรอาหาร ท่องเที่ยว ที่พัก ราคาทอง พยากรณ์อากาศ ละคร เพลง มือถือ "
    "ไอโฟน ผ่อน รถมือสอง คอนโด กาแฟ ตลาดนัด ข่าวบันเทิง ซีรีส์ เกม ตั๋วเครื่องบิน ประกัน",
}
BENIGN_EN = {
    "school": "homework worksheet math spelling test science fair reading lunch box backpack "
    "school uniform report card timetable exam tutor classroom field trip graduation",
    "parenting": "diapers toys stroller car seat bedtime story tantrum sleep schedule birthday "
    "party potty training baby food recipes crib playground",
    "medical": "fever vaccine schedule pediatrician cough rash allergy growth chart dentist "
    "check up flu",
    "sports": "soccer practice swimming lessons karate basketball gymnastics tennis camp tryouts",
    "shopping": "clothes shoes price sale discount free shipping size chart coupon outlet",
    "books_toys": "books picture books story books chapter books reading list puzzle lego "
    "board game bicycle toys comics coloring gift ideas novels",
    "general": "recipe weather flights hotel iphone price laptop football highlights music video "
    "minecraft roblox cartoon movie trailer news today coffee concert tickets podcast",
}
BENIGN_ROM = {
    "school": "tham kanban rongrian sop khao rian phiset kru kila si tat sop tuen rian",
    "parenting": "kin khao mai kin khao non lap khong len nithan liang luk wan koet",
    "medical": "pen khai mo dek wacsin ai",
    "sports": "fut bon wai nam taekwondo wing",
    "shopping": "raka lot raka song fri suea pha rong thao",
    "books_toys": "nangsue nithan kartoon khong len jakrayan tukkata khong khwan",
    "general": "narak maew ma pai tiew ahan kafae lakhon phleng",
}
FILE_WORDS = (
    "video clip vid mov img photo pic dcim new full hd 720p 1080p part1 cd1 backup copy rec"
)
FOLDERS = (
    "Downloads Videos Pictures Documents Desktop shared incoming temp New_Folder งาน รูป "
    "วิดีโอ Backup eMule/Incoming LimeWire/Shared torrent DCIM/Camera"
)
VIDEO_EXT = ".mp4 .avi .mkv .wmv .mpg .mov .flv .3gp"
OTHER_EXT = ".jpg .jpeg .png .zip .rar .7z .gif"
TITLE_BITS = ("Full HD", "EP.1", "ตอนที่ 5", "Official MV", "Highlights", "[HD]", "Part 2", "ล่าสุด")
CLIP_TH = ("คลิป", "ภาพ", "รูป", "วีดีโอ", "หนัง", "")
CLIP_EN = ("video", "vid", "pics", "clip", "movie", "")
NUM_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")
LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
HOMOGLYPH = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
TONES = "\u0e48\u0e49\u0e4a\u0e4b"


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str
    lang: str
    kind: str
    template: str


class Pools:
    """Word pools by category, language and strength, drawn from the lexicon."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.p: dict[tuple[str, str, str], list[str]] = {}
        for e in entries:
            strength = "strong" if abs(e.weight) >= 0.7 else "weak"
            self.p.setdefault((e.category, e.lang, strength), []).append(e.term)
            self.p.setdefault((e.category, e.lang, "any"), []).append(e.term)

    def get(self, category: str, lang: str, strength: str = "any") -> list[str]:
        return self.p.get((category, lang, strength), [])


class CorpusGenerator:
    def __init__(
        self,
        seed: int = 0,
        entries: Iterable[Entry] | None = None,
        benign_lines: Sequence[str] = (),
    ) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.pools = Pools(entries if entries is not None else default_lexicon_entries())
        self.benign_lines = list(benign_lines)

    # ---- small helpers -------------------------------------------------------------------------
    def pick(self, seq: Sequence[str]) -> str:
        return self.rng.choice(seq) if seq else ""

    def word(self, category: str, lang: str, strength: str = "any") -> str:
        if lang == "mixed":
            lang = self.rng.choice(("th", "en", "th-Latn"))
        pool = self.pools.get(category, lang, strength) or self.pools.get(category, "en", strength)
        return self.pick(pool)

    def benign_word(self, lang: str, topic: str | None = None) -> str:
        if lang == "th-Latn" and self.rng.random() < 0.7:
            src = BENIGN_ROM
        elif lang == "th" or (lang == "mixed" and self.rng.random() < 0.5):
            src = BENIGN_TH
        else:
            src = BENIGN_EN
        topic = topic or self.rng.choice(list(src))
        return self.pick(src[topic].split())

    def minor_age(self, lang: str) -> str:
        n = self.rng.randint(2, 17)
        r = self.rng.random()
        if lang in ("th",) or (lang == "mixed" and r < 0.4):
            form = self.pick(["อายุ {n}", "{n} ขวบ", "อายุ{n}ปี", "{n}ขวบ", "อายุ {t}", "น้อง {n} ขวบ"])
        else:
            form = self.pick(
                [
                    "{n}yo",
                    "{n}y",
                    "{n} yrs",
                    "{n} years old",
                    "{w} years old",
                    "({a}-{n}y)",
                    "age {n}",
                    "{n}yo",
                    "{n} y/o",
                    "{n}yr",
                ]
            )
        return form.format(n=n, t=str(n).translate(THAI_DIGITS), w=NUM_WORDS[n], a=max(1, n - 2))

    def adult_age(self, lang: str) -> str:
        n = self.rng.randint(18, 45)
        if lang == "th" or (lang == "mixed" and self.rng.random() < 0.5):
            return self.pick(["สาว {n}", "อายุ {n}", "สาว{n}", "วัย {n}"]).format(n=n)
        return self.pick(["{n}yo", "{n} years old", "age {n}", "{n}y"]).format(n=n)

    def grade(self, lang: str) -> str:
        g = self.rng.randint(1, 6)
        if lang == "th-Latn":
            return self.pick([f"mor {g}", f"por {g}", f"prathom {g}", "mor ton", "anuban"])
        if lang == "en":
            return self.pick([f"grade {g}", f"{g}th grade", "elementary", "middle school"])
        return self.pick(
            [
                f"ป.{g}",
                f"ป{g}",
                f"ม.{g}",
                f"ม{g}",
                "ม.ต้น",
                "ม.ปลาย",
                "อนุบาล",
                "ประถม",
                "ด.ญ.",
                "ด.ช.",
                f"ป.{str(g).translate(THAI_DIGITS)}",
                "มัธยม",
            ]
        )

    def clip(self, lang: str) -> str:
        return self.pick(CLIP_TH if lang in ("th", "mixed") else CLIP_EN)

    # ---- templates: each returns a list of keyword chunks ---------------------------------------
    def child(self, lang: str) -> str:
        """A child indication: a child word, an age or a school grade."""
        return self.child_and_age(lang)[0]

    def child_and_age(self, lang: str) -> tuple[str, bool]:
        """``child`` and whether it states an age or grade (a child word alone does not)."""
        r = self.rng.random()
        if r < 0.45:
            return self.word("minor", lang, "strong"), False
        if r < 0.7:
            return self.minor_age(lang), True
        if r < 0.9:
            return self.grade(lang), True
        return f"{self.word('minor', lang)} {self.minor_age(lang)}", True

    def maybe(self, chunk: str, p: float = 0.5) -> str:
        return chunk if self.rng.random() < p else ""

    def intent_chunks(self, intent: str, lang: str, child: str) -> list[str]:
        """The words of one exploitation intent around a child indication (or an adult one)."""
        w = self.word
        if intent == "trade":
            return [w("trade", lang), child, self.pick([self.clip(lang), w("media", lang)]),
                    self.maybe(self.pick([w("channel", lang), w("payment", lang)]))]  # fmt: skip
        if intent == "channel":
            return [w("channel", lang, "strong"), child, self.maybe(self.clip(lang)),
                    self.maybe(w("channel", lang))]  # fmt: skip
        if intent == "solicit":
            return [child, w("solicit", lang), self.maybe(w("channel", lang), 0.3)]
        if intent == "live":
            return [w("live", lang), child, self.maybe(w("payment", lang), 0.3)]
        if intent == "extort":
            return [w("extort", lang), child, self.maybe(self.clip(lang)),
                    self.maybe(w("payment", lang), 0.4)]  # fmt: skip
        if intent == "hidden":
            return [w("hidden", lang), self.pick([child, w("school", lang)]),
                    self.maybe(self.clip(lang))]  # fmt: skip
        return [w("abbrev", lang), self.pick([w("channel", lang), self.clip(lang), child]),
                self.maybe(str(self.rng.randint(2003, 2026)), 0.3)]  # fmt: skip

    def csa_chunks(self, lang: str) -> tuple[str, list[str]]:
        t = self.rng.randrange(12)
        w = self.word
        if t >= 5:
            intent = ("trade", "channel", "solicit", "live", "extort", "hidden", "abbrev")[t - 5]
            child, aged = self.child_and_age(lang)
            chunks = self.intent_chunks(intent, lang, child)
            if intent == "live" and not aged:
                # A live show beside a child word alone is a child's stream or a children's
                # show ("kids live show tickets", which the model had at P(csa) 0.9): a risky
                # row names an age or grade, or has recorded clips, a private channel or a
                # payment beside it, as the rules ask (rules.child_of_stated_age).
                signs = [self.clip(lang), w("channel", lang, "strong"), w("payment", lang)]
                chunks.append(self.pick([s for s in signs if s]))
            return intent, chunks
        if t == 0:
            return "minor+sexual", [self.clip(lang), self.child(lang), w("sexual", lang, "strong")]
        if t == 1:
            return "age+sexual", [
                w("sexual", lang, "strong"),
                self.minor_age(lang),
                w("minor", lang),
            ]
        if t == 2:
            return "grade+sexual", [
                self.clip(lang),
                w("minor", lang),
                self.grade(lang),
                w("sexual", lang),
            ]
        if t == 3:
            extra = self.pick(
                [str(self.rng.randint(2003, 2026)), self.minor_age(lang), w("sexual", lang), ""]
            )
            return "code", [w("csa_code", lang), extra]
        return "code+minor", [w("minor", lang), w("csa_code", lang, "strong"), self.clip(lang)]

    def adult_chunks(self, lang: str) -> tuple[str, list[str]]:
        t = self.rng.randrange(9)
        w = self.word
        adult = self.pick([w("adult_context", lang), self.adult_age(lang)])
        if t == 6:
            place = self.pick(["กรุงเทพ", "พัทยา", "bangkok", "pattaya", "เชียงใหม่", "ภูเก็ต", ""])
            return "adult_service", [w("solicit", lang), place, self.maybe(adult, 0.7)]
        if t == 7:
            # Adult twins of the intents: the same words with an adult, never a child.
            intent = self.pick(["trade", "channel", "live"])
            return f"adult_{intent}", [*self.intent_chunks(intent, lang, adult), w("sexual", lang)]
        if t == 8:
            return "hidden_adult", [w("hidden", lang), adult, self.maybe(w("sexual", lang))]
        if t == 0:
            return "sexual", [self.clip(lang), w("sexual", lang, "strong")]
        if t == 1:
            return "adult_age+sexual", [
                w("sexual", lang),
                self.adult_age(lang),
                w("sexual", lang, "strong"),
            ]
        if t == 2:
            return "adult_ctx+sexual", [
                w("adult_context", lang),
                w("sexual", lang, "strong"),
                self.clip(lang),
            ]
        if t == 3:
            return "trade+sexual", [
                w("trade", lang),
                w("sexual", lang, "strong"),
                self.maybe(w("channel", lang)),
            ]
        if t == 4:
            return "sexual+sexual", [
                w("sexual", lang),
                w("sexual", lang, "strong"),
                self.pick(["18+", "", "hd"]),
            ]
        return "weak_minor+adult_age", [
            w("minor", lang, "weak"),
            self.adult_age(lang),
            w("sexual", lang, "strong"),
        ]

    def benign_chunks(self, lang: str) -> tuple[str, list[str]]:
        t = self.rng.randrange(21)
        w = self.word
        bw = self.benign_word
        if 11 <= t < 18:
            # Counterfactual twins: the intent words and a child indication, beside a benign
            # activity, so that neither the child nor the intent word alone is evidence.
            intent = ("trade", "channel", "solicit", "live", "extort", "hidden", "abbrev")[t - 11]
            if intent == "extort":
                return "twin_extort_safe", [w("intent_safe", lang), *self.intent_chunks(intent, lang, self.child(lang))]  # fmt: skip
            if intent == "abbrev":
                return "twin_abbrev_sense", [w("benign_sense", lang), self.maybe(w("channel", lang)), bw(lang)]  # fmt: skip
            if intent == "live" and self.rng.random() < 0.5:
                # children's shows and streams with no activity word from the lexicon
                return "twin_live_plain", [w("live", lang), w("minor", lang, "strong"), bw(lang), self.maybe(bw(lang, "general"))]  # fmt: skip
            chunks = self.intent_chunks(intent, lang, self.child(lang))
            if intent in ("trade", "channel"):
                chunks = [c for c in chunks if c not in CLIP_TH and c not in CLIP_EN]
            return f"twin_{intent}", [*chunks, w("activity", lang), self.maybe(bw(lang))]
        if t == 0:
            topic = self.rng.choice(["school", "parenting", "medical", "sports", "shopping", "books_toys"])  # fmt: skip
            extra = self.pick([self.clip(lang), self.minor_age(lang), w("media", lang), ""])
            return "child_context", [w("minor", lang), bw(lang, topic), bw(lang, topic), extra]
        if t == 1:
            return "grade_context", [bw(lang, "school"), self.grade(lang), w("minor", lang), self.maybe(w("activity", lang))]  # fmt: skip
        if t == 2:
            risky = self.pick([w("csa_code", lang), w("sexual", lang), w("minor", lang), w("hidden", lang)])  # fmt: skip
            return "safe_intent", [w("intent_safe", lang), risky, w("minor", lang), w("intent_safe", lang)]  # fmt: skip
        if t == 3:
            return "benign_sense", [w("benign_sense", lang), bw(lang)]
        if t == 4:
            return "general", [self.pick([self.clip(lang), ""]), bw(lang), bw(lang), bw(lang, "general")]  # fmt: skip
        if t == 5:
            return "media_of_child", [self.child(lang), w("media", lang), w("activity", lang), self.maybe(bw(lang))]  # fmt: skip
        if t == 6:
            topic = self.rng.choice(["parenting", "medical", "school", "shopping", "books_toys"])
            return "age_context", [self.pick([w("minor", lang), ""]), self.minor_age(lang), bw(lang, topic)]  # fmt: skip
        if t == 7 and self.benign_lines:
            return "real_text", [self.pick(self.benign_lines)]
        if t in (7, 8):
            return "camera_file", [camera_filename(self.rng)]
        # Intent words in their everyday sense, with no child: refunds, bank slips, webcam
        # drivers, live football, private groups of hobbyists (a quarter of the benign rows here
        # had P(csa) near 0.5 from intent words alone).
        intents = ("trade", "channel", "live", "payment", "media", "school", "extort", "hidden", "solicit")  # fmt: skip
        words = [w(c, lang) for c in self.rng.sample(intents, self.rng.choice((1, 1, 2)))]
        return "intent_word_alone", [*words, bw(lang), self.maybe(bw(lang, "general"))]

    # ---- surface forms -------------------------------------------------------------------------
    def surface(self, chunks: list[str], kind: str, lang: str) -> str:
        chunks = [c for c in chunks if c]
        self.rng.shuffle(chunks) if self.rng.random() < 0.3 else None
        if kind == "query":
            sep = "" if lang == "th" and self.rng.random() < 0.4 else " "
            return sep.join(chunks)
        if kind == "filename":
            return self.filename(chunks)
        if kind == "path":
            folder = self.pick(FOLDERS.split())
            inner = self.pick(chunks) if self.rng.random() < 0.3 else self.pick(FOLDERS.split())
            drive = self.pick(["/home/user/", "D:\\Users\\user\\", "/mnt/usb/", "C:\\"])
            sep = "\\" if "\\" in drive else "/"
            return drive + sep.join([folder, inner, self.filename(chunks)])
        bits = [" ".join(chunks)]
        if self.rng.random() < 0.5:
            bits.append(self.pick(TITLE_BITS))
        return self.pick([" | ", " - ", " ", " :: "]).join(bits)

    def filename(self, chunks: list[str]) -> str:
        sep = self.pick(["_", "-", ".", " ", "", "+"])
        parts = [c.replace(" ", sep) if sep else c.replace(" ", "") for c in chunks]
        if self.rng.random() < 0.5:
            parts.append(self.pick(FILE_WORDS.split()))
        if self.rng.random() < 0.3:
            parts.append(str(self.rng.randint(1, 999)).zfill(3))
        name = sep.join(parts)
        if self.rng.random() < 0.2:
            name = f"[{self.pick(['HD', 'new', '2019', 'VIP'])}] {name}"
        if self.rng.random() < 0.15:
            name += f" ({self.rng.randint(1, 9)})"
        return name + self.pick((VIDEO_EXT + " " + OTHER_EXT).split())

    # ---- obfuscations --------------------------------------------------------------------------
    def obfuscate(self, text: str) -> str:
        ops: list[Callable[[str], str]] = [
            self._spread, self._leet, self._homoglyph, self._fullwidth, self._zero_width,
            self._thai_digits, self._thai_dots, self._repeat, self._tone, self._case,
        ]  # fmt: skip
        for op in self.rng.sample(ops, self.rng.choice((1, 1, 2))):
            text = op(text)
        return text

    def _target_word(self, text: str) -> tuple[int, int] | None:
        words = [(i, i + len(w)) for i, w in _word_spans(text) if len(w) >= 3]
        return self.rng.choice(words) if words else None

    def _spread(self, text: str) -> str:
        span = self._target_word(text)
        if not span:
            return text
        a, b = span
        sep = self.pick([" ", ".", "-", "*", "_"])
        return text[:a] + sep.join(text[a:b]) + text[b:]

    def _leet(self, text: str) -> str:
        return "".join(LEET[c] if c in LEET and self.rng.random() < 0.5 else c for c in text)

    def _homoglyph(self, text: str) -> str:
        return "".join(
            HOMOGLYPH[c] if c in HOMOGLYPH and self.rng.random() < 0.5 else c for c in text
        )

    def _fullwidth(self, text: str) -> str:
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)

    def _zero_width(self, text: str) -> str:
        return "".join(c + ("\u200b" if self.rng.random() < 0.3 else "") for c in text)

    def _thai_digits(self, text: str) -> str:
        return text.translate(THAI_DIGITS)

    def _thai_dots(self, text: str) -> str:
        out = []
        for i, c in enumerate(text):
            out.append(c)
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if "ก" <= c <= "ฮ" and "ก" <= nxt <= "ฮ" and self.rng.random() < 0.4:
                out.append(".")
        return "".join(out)

    def _repeat(self, text: str) -> str:
        if not text:
            return text
        i = self.rng.randrange(len(text))
        return text[: i + 1] + text[i] * self.rng.randint(2, 5) + text[i + 1 :]

    def _tone(self, text: str) -> str:
        out = []
        for c in text:
            if c in TONES and self.rng.random() < 0.6:
                c = self.pick(["", *TONES])
            elif c == "\u0e47" and self.rng.random() < 0.5:
                c = self.pick(["", "\u0e49"])
            out.append(c)
        return "".join(out)

    def _case(self, text: str) -> str:
        return "".join(c.upper() if self.rng.random() < 0.5 else c for c in text)

    # ---- the corpus ----------------------------------------------------------------------------
    def example(self, label: str) -> Example:
        lang = self.rng.choices(LANGS, weights=(0.4, 0.3, 0.2, 0.1))[0]
        kind = self.rng.choices(KINDS, weights=(0.45, 0.3, 0.1, 0.15))[0]
        make = {"csa": self.csa_chunks, "adult": self.adult_chunks, "benign": self.benign_chunks}
        template, chunks = make[label](lang)
        text = self.surface(chunks, kind, lang)
        if self.rng.random() < (0.35 if label != "benign" else 0.2):
            text = self.obfuscate(text)
            template += "+obf"
        return Example(text.strip() or "x", label, lang, kind, template)

    def generate(self, n_per_label: int) -> list[Example]:
        out: list[Example] = []
        seen: set[str] = set()
        master = self.rng
        for label in ("csa", "adult", "benign"):
            made = tries = attempt = 0
            while made < n_per_label and tries < n_per_label * 5:
                tries += 1
                # Each example draws from its own generator, seeded by its place (and by the
                # attempt, when an earlier one repeated a text): a term added to one word list
                # changes the examples that draw from that list, not every example after the
                # first draw (one shared stream made each lexicon edit a new corpus, and a
                # rebuilt model moved 5-10 blind items either way by chance).
                self.rng = random.Random(f"{self.seed}/{label}/{made}/{attempt}")
                ex = self.example(label)
                if ex.text in seen:
                    attempt += 1
                    continue
                seen.add(ex.text)
                out.append(ex)
                made += 1
                attempt = 0
        self.rng = master
        self.rng.shuffle(out)
        return out


def camera_filename(rng: random.Random) -> str:
    """A file name as cameras, phones and messaging apps write them."""
    y, mo, d = rng.randint(2012, 2026), rng.randint(1, 12), rng.randint(1, 28)
    hms = f"{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}"
    n = rng.randint(1, 9999)
    return rng.choice(
        [
            f"IMG_{y}{mo:02d}{d:02d}_{hms}.jpg",
            f"VID_{y}{mo:02d}{d:02d}_{hms}.mp4",
            f"DSC_{n:04d}.JPG",
            f"DSCN{n:04d}.JPG",
            f"IMG_{n:04d}.HEIC",
            f"MVI_{n:04d}.MOV",
            f"GOPR{n:04d}.MP4",
            f"PXL_{y}{mo:02d}{d:02d}_{hms}123.jpg",
            f"Screenshot_{y}{mo:02d}{d:02d}-{hms}.png",
            f"VID-{y}{mo:02d}{d:02d}-WA{n:04d}.mp4",
            f"IMG-{y}{mo:02d}{d:02d}-WA{n:04d}.jpg",
            f"signal-{y}-{mo:02d}-{d:02d}-{hms}.jpg",
            f"{y}-{mo:02d}-{d:02d} {hms[:2]}.{hms[2:4]}.{hms[4:]}.jpg",
            f"video_{n}.mp4",
            f"clip{n}.mov",
            f"scan_{y}{mo:02d}{d:02d}.pdf",
            f"report_{y}_final.docx",
            f"invoice-{n:05d}.pdf",
            f"slip_{y}{mo:02d}{d:02d}_{hms}.jpg",
            f"สลิปโอน_{y}{mo:02d}{d:02d}.jpg",
            f"receipt_{y}-{mo:02d}-{d:02d}.pdf",
            f"holiday_{y}_{n:03d}.jpg",
            f"/mnt/nvr/cam{n % 16:02d}/{y}-{mo:02d}-{d:02d}/motion_{n:04d}.mp4",
            f"Screen Recording {y}-{mo:02d}-{d:02d} at {hms[:2]}.{hms[2:4]}.{hms[4:]}.mov",
        ]
    )


def _word_spans(text: str) -> list[tuple[int, str]]:
    spans = []
    i = 0
    for w in text.split(" "):
        spans.append((i, w))
        i += len(w) + 1
    return spans
