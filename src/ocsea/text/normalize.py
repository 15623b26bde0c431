"""Text normaliser that undoes the obfuscations offenders use, keeping a map back to the original.

Every stage rewrites a string together with two parallel lists, ``starts`` and ``ends``: for each
character of the current string, the half-open span of the *original* text it came from. Stages that
map one character to one character keep the lists as they are; stages that insert, delete or merge
characters rebuild them. The detector reports reasons as original spans through this map.

All regular expressions here are linear: no nested quantifiers, every repetition is over a
character class that cannot overlap what follows it (checked by tests on 10 kB adversarial input).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from ocsea.text import _fast_normalize

THAI = "\u0e00-\u0e7f"
THAI_CONSONANT = "\u0e01-\u0e2e"
# Thai above/below vowels, tone marks and signs that sit on a consonant.
THAI_COMBINING = "\u0e31\u0e34-\u0e3a\u0e47-\u0e4e"
THAI_TONE_MARKS = "\u0e48\u0e49\u0e4a\u0e4b"

# Cyrillic and Greek letters that look like Latin ones (lower and upper case).
_HOMOGLYPHS = {
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "і": "i", "ї": "i", "ј": "j", "ѕ": "s", "ԁ": "d",
    "ɡ": "g", "һ": "h", "ӏ": "l", "ԛ": "q", "ԝ": "w", "ь": "b",
    "А": "a", "В": "b", "Е": "e", "К": "k", "М": "m", "Н": "h", "О": "o", "Р": "p", "С": "c",
    "Т": "t", "У": "y", "Х": "x", "І": "i", "Ј": "j", "Ѕ": "s",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "ω": "w", "γ": "y",
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m", "Ν": "n",
    "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
    # Thai obsolete consonants used as look-alikes of current ones.
    "ฃ": "ข", "ฅ": "ค",
    # Currency signs used as letters ("Pr€t€€n").
    "€": "e", "¢": "c",
    # Thai digits.
    "๐": "0", "๑": "1", "๒": "2", "๓": "3", "๔": "4", "๕": "5", "๖": "6", "๗": "7", "๘": "8",
    "๙": "9",
}  # fmt: skip

_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                       "$": "s", "!": "i", "|": "l"})  # fmt: skip
# Tokens of letters and digits that are names, not leetspeak: file extensions, codecs, video
# sizes. "mp4" was de-leeted to "mpa" and read as a word.
_KEEP_TOKENS = frozenset(
    [
        "mp4",
        "mp3",
        "mp2",
        "m4a",
        "m4v",
        "3gp",
        "3g2",
        "h264",
        "h265",
        "x264",
        "x265",
        "hevc264",
        "1080p",
        "720p",
        "480p",
        "360p",
        "240p",
        "2160p",
        "1440p",
        "4k",
        "8k",
        "2k",
        "ps2",
        "ps3",
        "ps4",
        "ps5",
        "3ds",
        "ac3",
        "aac2",
        "id3",
        "utf8",
        "utf16",
        "ipv4",
        "ipv6",
        "sha1",
        "sha256",
        "md5",
        "base64",
        "win32",
        "win64",
        "x86",
        "x64",
        "amd64",
        "arm64",
        "i386",
        "i686",
        "mpeg4",
        "mpeg2",
        "divx5",
        "xvid4",
        "oauth2",
        "http2",
        "s3",
        "ec2",
        "k8s",
        "i18n",
        "l10n",
        "a11y",
        "w3c",
        "7z",
        "7zip",
        "x265",
    ]
)
# One or two letters and a number ("mp4", "m3", "p5", "ep12"): a name or a grade, never leet.
_LETTERS_AND_NUMBER_RX = re.compile(r"[a-z]{1,2}\d{1,4}")
_ORDINAL_WORD_RX = re.compile(r"(\d{1,2})(st|nd|rd|th)(graders|grader|grade|form|year)")
_ORDINAL_LEET_RX = re.compile(r"(\d{1,2})(st|nd|rd|th)([a-z][a-z0-9]*)")
_DIMENSIONS_RX = re.compile(r"\d{2,5}x\d{2,5}")  # "1920x1080": a size, kept whole
# Leading single characters treated as leet rather than as a count ("1olita", "$ex", "@nal").
_LEET_LEADING = set("0137@$!|")
# A leading 5 is a count ("5girls", "5exams") but in these words (round-10 dev: "5ex.dek").
_LEET_5_WORDS = frozenset(["5ex", "5exy", "5exx", "5exxx"])
AGE_UNITS = frozenset(
    [
        "y",
        "yo",
        "yr",
        "yrs",
        "yro",
        "yold",
        "yoa",
        "years",
        "year",
        "yearold",
        "yearsold",
        "m",
        "mo",
        "mos",
        "month",
        "months",
        "th",
        "st",
        "nd",
        "rd",
        "ans",
        "jahre",
        "anos",
        "khuap",
        "khuab",
    ]
)

_CONTROL_RX = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]+"
)
_SPACE_RX = re.compile(r"[\t\n\r\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def _thai_kept_class() -> str:
    """The Thai-block characters that folding leaves as they are, as ranges for a character
    class: every Thai character except the look-alikes and digits in the homoglyph table."""
    kept = [c for c in map(chr, range(0x0E00, 0x0E80)) if c not in _HOMOGLYPHS]
    ranges: list[str] = []
    start = prev = ord(kept[0])
    for o in [*map(ord, kept[1:]), -1]:
        if o != prev + 1:
            ranges.append(f"\\u{start:04x}-\\u{prev:04x}" if prev > start else f"\\u{start:04x}")
            start = o
        prev = o
    return "".join(ranges)


# Characters the fold stages may change. Plain Thai is skipped: folding it is the identity, and
# one callback per Thai character made these two stages a third of normalisation (17 → 3 µs a
# filename on the benchmark's mixed Thai/English names).
_FOLDABLE_RX = re.compile(rf"[^\x00-\x7f{_thai_kept_class()}]")
_CAMEL_RX = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
# Latin words in mixed case: camelCase ("newPthcVid") is split into words, random case
# ("kIds mEnU") is lower-cased first so that it is not cut into fragments.
_LATIN_WORD_RX = re.compile(r"(?<![A-Za-z])[A-Za-z]+")
_CAPS_PLURAL_RX = re.compile(r"[A-Z]{2,}s")
_SARA_E_DOUBLE_RX = re.compile("\u0e40\u0e40")
_REPEAT_RX = re.compile(rf"([a-z{THAI_CONSONANT}\u0e30\u0e32\u0e33\u0e40-\u0e46])\1{{2,}}")
_THAI_MARK_REPEAT_RX = re.compile(rf"([{THAI_COMBINING}])\1+")
_LATIN_TOKEN_RX = re.compile(r"[a-z0-9@$!|]+")
_THAI_JOIN_RX = re.compile(rf"(?<=[{THAI}])[.\-_*~]+(?=[{THAI}0-9])")
# One Thai letter with its vowel and marks, or a leading vowel alone: what a spread-out word
# ("ค.ลิ.ป") or an abbreviation ("ป.5", "ด.ญ.") is made of. Punctuation after it joins; after a whole word ("ขาย-คลิป") it
# separates, so that words joined by separators in filenames stay words.
_THAI_FRAGMENT_RX = re.compile(
    rf"[\u0e40-\u0e44]?[{THAI_CONSONANT}][{THAI_COMBINING}\u0e30\u0e32\u0e33\u0e45]{{0,3}}"
    r"|[\u0e40-\u0e44]"  # a leading vowel cut from its consonant ("เ_ย_ส")
)
_MAX_FRAGMENT = 5
# Underscores and hyphens separate words in file names; dots also spread a word out
# ("เงี่.ย.น", "แก้.ผ้า"), so only the first two can end a word a fragment seems to be in.
_WORD_SEPARATOR = frozenset("_-")
# A leading vowel, a consonant and a tone mark: a whole syllable, often a whole word ("โป๊",
# "ไม่", "เก่"), not a letter spread out.
_THAI_SYLLABLE_RX = re.compile(
    rf"[\u0e40-\u0e44][{THAI_CONSONANT}]"
    rf"(?=[{THAI_COMBINING}\u0e30\u0e32\u0e33\u0e45]*[{THAI_TONE_MARKS}])"
    rf"[{THAI_COMBINING}\u0e30\u0e32\u0e33\u0e45]*"
)
# Letters spread out: three or more single letters, or two or more joined by dots ("c.p.").
_LATIN_SPREAD_RX = re.compile(r"(?<![a-z0-9])[a-z](?: [a-z](?![a-z0-9])){2,}")
_LATIN_DOTTED_RX = re.compile(r"(?<![a-z0-9.])[a-z](?:\.[a-z](?![a-z0-9])){1,}(?:\.(?![a-z0-9]))?")
# Three or more letters spread out by one underscore or one hyphen, the same throughout
# ("p_e_d_o", "D-E-K"): joined before every separator becomes a space, so that the gaps between
# words stay ("D-E-K M-1" is "dek m 1", not "dekm 1"; ".x/p_e_d_o" is "x pedo").
_LATIN_JOINED_RX = re.compile(
    r"(?<![a-z0-9_\-])[a-z]([_\-])[a-z](?![a-z0-9])(?:\1[a-z](?![a-z0-9]))+"
)
# Letters spread out with leetspeak digits among them ("l.0.l.i", "n 0 d e s", "p_3_d_o"), once
# every separator is a space: joined and de-leeted when there are two letters or more, a digit,
# and no two digits in a row ("v.1.2", "a 1 2" stay); letters alone are left to the next stage.
# Not before a "+", which stays only after a number ("18+"): joining "a a 0+" into "aao+" left a
# "+" after a letter, which a second pass then cut ("A:A:0+", found by Hypothesis).
_LEET_SPREAD_RX = re.compile(r"(?<![a-z0-9])[a-z] [a-z013457](?: [a-z013457](?![a-z0-9+]))+")
_LEET_DIGITS = frozenset("013457")
# A spread-out Thai letter: a consonant with its vowel or mark, or a vowel standing alone
# ("เ ด็ ก", "ป ร ะ ถ ม").
_THAI_FRAGMENT = (
    rf"(?:[\u0e40-\u0e44]?[{THAI_CONSONANT}][{THAI_COMBINING}\u0e30\u0e32\u0e33\u0e45]?"
    r"|[\u0e40-\u0e44\u0e30\u0e32\u0e33])"
)
_THAI_SPREAD_RX = re.compile(
    rf"(?<![{THAI}]){_THAI_FRAGMENT}(?: {_THAI_FRAGMENT}(?![{THAI}])){{2,}}"
)
# One separator character at a time: each becomes a space with the map unchanged, and the
# multi-space stage then merges runs (8 → 3 µs a filename with the map, against one match a run).
# "+" stays only as "18+" does, after a number and before no word ("2024+adult" is two words).
_SEPARATOR_RX = re.compile(r"(?<![0-9])\+|\+(?=[a-z0-9_\u0e00-\u0e7f])|[^\w+\u0e00-\u0e7f]|_")
_MULTISPACE_RX = re.compile(r"  +")


@dataclass(frozen=True, slots=True)
class Normalized:
    """A normalised text and, per character, the original span it came from."""

    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a half-open span of the normalised text to the original text."""
        if not self.text or start >= end:
            return (0, 0)
        return (self.starts[start], self.ends[end - 1])


Repl = Callable[[re.Match[str]], str] | str


def _keeps_map(repl: Repl, before: str, after: str) -> bool:
    """A stage that changed nothing, or replaced one character by one everywhere (a one-character
    replacement of matches of one or more characters that leaves the length as it was)."""
    return after == before or (
        len(after) == len(before) and isinstance(repl, str) and len(repl) == 1
    )


def _plain_sub(rx: re.Pattern[str], repl: Repl, s: str) -> str:
    return rx.sub(repl, s)


class _MapSub:
    """re.sub that keeps the span lists in step with the string."""

    __slots__ = ("en", "st")

    def __init__(self, n: int) -> None:
        self.st = list(range(n))
        self.en = list(range(1, n + 1))

    def __call__(self, rx: re.Pattern[str], repl: Repl, s: str) -> str:
        # A C-speed pass first: most stages keep the map (``_keeps_map``); only the rest walk the
        # matches in Python (with the map: 49 → 33 µs a filename, together with the fold
        # stages skipping plain Thai).
        out_s = rx.sub(repl, s)
        if _keeps_map(repl, s, out_s):
            return out_s
        st, en = self.st, self.en
        out: list[str] = []
        ost: list[int] = []
        oen: list[int] = []
        pos = 0
        for m in rx.finditer(s):
            a, b = m.span()
            r = repl(m) if callable(repl) else repl
            if r == m.group(0):
                continue
            out.append(s[pos:a])
            ost.extend(st[pos:a])
            oen.extend(en[pos:a])
            if r:
                if len(r) == b - a:
                    ost.extend(st[a:b])
                    oen.extend(en[a:b])
                elif b > a:
                    ost.extend([st[a]] * len(r))
                    oen.extend([en[b - 1]] * len(r))
                else:  # insertion: a zero-width span at the insertion point
                    at = st[a] if a < len(st) else (en[-1] if en else 0)
                    ost.extend([at] * len(r))
                    oen.extend([at] * len(r))
                out.append(r)
            pos = b
        out.append(s[pos:])
        ost.extend(st[pos:])
        oen.extend(en[pos:])
        self.st, self.en = ost, oen
        return "".join(out)


class _TraceSub:
    """re.sub that notes the stages that move characters (input included), so that the span map
    can be built later from those alone (``Traced.with_map``)."""

    __slots__ = ("steps",)

    def __init__(self) -> None:
        self.steps: list[tuple[re.Pattern[str], Repl, str]] = []

    def __call__(self, rx: re.Pattern[str], repl: Repl, s: str) -> str:
        out = rx.sub(repl, s)
        if not _keeps_map(repl, s, out):
            self.steps.append((rx, repl, s))
        return out


@lru_cache(maxsize=65536)
def _fold_char(c: str) -> str:
    """NFKC, homoglyph folding and mark stripping for one non-ASCII character."""
    if c in _HOMOGLYPHS:
        return _HOMOGLYPHS[c]
    if "\u0e00" <= c <= "\u0e7f":
        return c  # NFKC would split SARA AM (U+0E33) into NIKHAHIT + SARA AA
    r = unicodedata.normalize("NFKC", c)
    # Drop combining marks (accents, strike-through and "zalgo" overlays) on non-Thai letters,
    # then fold look-alikes ("ἀ" → "α" → "a").
    r = "".join(x for x in unicodedata.normalize("NFD", r) if not unicodedata.combining(x))
    return "".join(
        _HOMOGLYPHS.get(x) or _confusable_letters().get(x) or _digit_value(x) or _small_capital(x)
        for x in r
    )


def _digit_value(c: str) -> str:
    """A digit of another script by its value ("৪" is 4): what it means, not what it looks like."""
    if unicodedata.category(c) == "Nd":
        return str(unicodedata.digit(c, ""))
    return ""


def _small_capital(c: str) -> str:
    """ "ᴘ" (LATIN LETTER SMALL CAPITAL P) is "p": Unicode's confusables leave small capitals out
    (they are smaller than capitals), and they spell whole words ("ᴘʀᴇᴛᴇᴇɴ")."""
    name = unicodedata.name(c, "")
    if name.startswith("LATIN LETTER SMALL CAPITAL ") and len(name) == 28:
        return name[-1].lower()
    return c


# Scripts whose letters are drawn to look like Latin ones (and the symbol blocks of styled
# letters). Others are left alone: a Myanmar or Devanagari letter shaped like "o" is a letter of
# its own script, and a digit of any script is folded by its value, never its shape (Bengali
# "৪" is 4, not 8).
_LOOKALIKE_SCRIPTS = (
    "LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU", "MATHEMATICAL",
    "FULLWIDTH", "SCRIPT", "DOUBLE-STRUCK", "BLACK-LETTER", "CIRCLED", "PARENTHESIZED",
    "SQUARED", "NEGATIVE", "MODIFIER",
)  # fmt: skip


@lru_cache(maxsize=1)
def _confusable_letters() -> dict[str, str]:
    """Unicode's confusables (UTS #39, as packaged by ``confusable-homoglyphs``, MIT) that look
    like one ASCII letter: Armenian "ս" for "u", Cherokee "Ꮯ" for "c", and the other letters the
    table above does not name. A letter is never folded to a digit ("б" is not "6": "бабушка"
    was read as an age), and Thai is never folded here."""
    import json
    from importlib import resources

    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    out: dict[str, str] = {}

    def add(ch: str, ascii_char: str) -> None:
        if len(ch) != 1 or ch.isascii() or not ascii_char.isalpha():
            return
        if not unicodedata.category(ch).startswith("L"):
            return
        if not unicodedata.name(ch, "").startswith(_LOOKALIKE_SCRIPTS):
            return
        out.setdefault(ch, ascii_char.lower())

    # The table lists a pair under either character ("ᴘ" is found under "P").
    for ch, alikes in data.items():
        for a in alikes:
            c = a["c"]
            if len(c) == 1 and c.isascii() and c.isalpha():
                add(ch, c)
            if len(ch) == 1 and ch.isascii() and ch.isalpha():
                add(c, ch)
    return out


def _fold_non_ascii(m: re.Match[str]) -> str:
    return _fold_char(m.group(0))


# Romanised Thai units of age after a number inside a token ("dek11pee").
_ROMANISED_AGE_UNITS = frozenset(["pee", "pi", "khuap", "kuap", "khuab"])
_INNER_NUMBER_RX = re.compile(r"(?<=[a-z])(\d{2,})(?=[a-z])")


def _is_number(digits: str) -> bool:
    return len(set(digits)) > 1


def _split_latin_token(tok: str) -> str:
    """Separate numbers from units and words, and undo leetspeak inside words."""
    if tok.endswith("!!") and (word := tok.rstrip("!")).isalpha():
        # "hlud!!", "wow!!!": two exclamation marks or more after a plain word are punctuation,
        # not leet for "ii" (blind round 12: "hlud!!" became "hludii" and its word was lost). One
        # stays leet: "lol!" is "loli" and "henta!" "hentai" (a review found them missed when a
        # single mark was dropped).
        return word
    if tok.isdigit() or tok in _KEEP_TOKENS or _LETTERS_AND_NUMBER_RX.fullmatch(tok):
        return tok
    if _DIMENSIONS_RX.fullmatch(tok):
        return tok  # "1920x1080" is one size, not two numbers and a letter
    m = re.fullmatch(r"(\d{1,3})([a-z]+)", tok)
    if m and m.group(2) in AGE_UNITS:
        return f"{m.group(1)} {m.group(2)}"
    m = _ORDINAL_WORD_RX.fullmatch(tok)
    if m:  # "7thgrade" is a grade, not leet for "tthgrade"
        return f"{m.group(1)} {m.group(2)} {m.group(3)}"
    m = _ORDINAL_LEET_RX.fullmatch(tok)
    if m:  # "7thgr4d3rnudes": the ordinal stays, leet is undone after it
        rest = m.group(3).translate(_LEET)
        w = _ORDINAL_WORD_RX.match(f"{m.group(1)}{m.group(2)}{rest}")
        if w:
            tail = rest[w.end() - len(m.group(1)) - len(m.group(2)) :]
            return " ".join(p for p in (w.group(1), w.group(2), w.group(3), tail) if p)
    inner = _INNER_NUMBER_RX.search(tok)
    if inner:
        # A number between two words is a number, not leetspeak ("girl19yo" is not
        # "girli9yo"): two different digits or more ("t33n" and "n00d" are leet), or any
        # digits before a unit of age ("girl11yo", "boy12y"), with only letters on either side
        # ("n4kr14n" is leet throughout).
        a, b = inner.span(1)
        after = tok[b:]
        unit = after in AGE_UNITS or after in _ROMANISED_AGE_UNITS
        if (
            (_is_number(inner.group(1)) or unit)
            and tok[:a].isalpha()
            and after.isalpha()
            and (len(after) >= 2 or unit)
        ):
            return f"{tok[:a]} {tok[a:b]} {after}"
    lead = re.match(r"\d+", tok)
    parts: list[str] = []
    core = tok
    leet_lead = tok[0] in _LEET_LEADING or tok in _LEET_5_WORDS
    if lead and not (len(lead.group(0)) == 1 and leet_lead and len(tok) > 1):
        rest = tok[lead.end() :]
        if rest.isalpha() or re.fullmatch(r"[a-z]+\d+", rest):
            parts.append(lead.group(0))
            core = rest
    trail = re.search(r"\d+$", core)
    tail = ""
    if trail and trail.start() > 0:
        before = core[: trail.start()]
        if before.isalpha() and (len(trail.group(0)) >= 2 or len(before) >= 3):
            tail = trail.group(0)
            core = before
    if re.search("[a-z]", core):
        core = core.translate(_LEET)
    parts.append(core)
    if tail:
        parts.append(tail)
    return " ".join(p for p in parts if p)


def _latin_token(m: re.Match[str]) -> str:
    tok = m.group(0)
    if tok.isalpha() or tok.isdigit():
        return tok
    return _split_until_stable(tok)


@lru_cache(maxsize=65536)
def _split_until_stable(cur: str) -> str:
    # Splitting can expose a new number/word boundary ("a1b2" → "aib2" → "aib 2"): repeat until
    # stable so that normalising twice changes nothing.
    for _ in range(4):
        nxt = " ".join(_split_latin_token(p) for p in cur.split(" "))
        if nxt == cur:
            break
        cur = nxt
    return cur


def _case_fixed(word: str) -> str:
    # Only short words are remembered: a 10 kB random-case word would pin its copy in the cache.
    return _case_fixed_cached(word) if len(word) <= 64 else _case_fix(word)


@lru_cache(maxsize=65536)
def _case_fixed_cached(word: str) -> str:
    return _case_fix(word)


def _case_fix(word: str) -> str:
    """A mixed-case Latin word lower-cased unless it is camelCase: at most four pieces where the
    camel split would cut, each of two letters or more and at most one of only two
    ("newPthcVid", "JSONFile", "MyVideo"); "kIds", "mEnU", "UnDeRaGe" are random case."""
    if _CAPS_PLURAL_RX.fullmatch(word):
        return word.lower()  # "CPUs", "URLs": one word, not "CP Us"
    pieces = _CAMEL_RX.sub(" ", word).split(" ")
    short = sum(1 for p in pieces if len(p) < 3)
    if len(pieces) <= 4 and short <= 1 and all(len(p) >= 2 for p in pieces):
        return word
    return word.lower()


def _fix_case(m: re.Match[str]) -> str:
    return _case_fixed(m.group(0))


def _thai_join(m: re.Match[str]) -> str:
    """Punctuation between Thai letters goes when what stands before it is one Thai letter with
    its marks (spread-out letters, abbreviations); after a whole word it stays, and the separator
    stage makes it a space."""
    s, end = m.string, m.start()
    start = end
    while start > 0 and end - start <= _MAX_FRAGMENT and "\u0e00" <= s[start - 1] <= "\u0e7f":
        start -= 1
    if (
        end - start <= _MAX_FRAGMENT
        and _THAI_FRAGMENT_RX.fullmatch(s, start, end)
        and not (_WORD_SEPARATOR.intersection(m.group(0)) and _ends_a_word(s, start, end))
    ):
        return ""
    return m.group(0)


def _ends_a_word(s: str, start: int, end: int) -> bool:
    """Whether a fragment ``s[start:end]`` before an underscore or hyphen ends a word, so that
    the separator stays: a whole syllable ("โป๊_ป.5" was "โป๊ป5", read as โป๊ป, "Pope": neither
    the sexual word nor the grade was found), or the last letter of a word spread out with
    spaces ("ล า ม ก_น้ อ ง" was "ลาม กน้ อ ง"). A leading vowel cut from its consonant
    ("เ_ด็ก") never does. The C path (``_fast_normalize._after_fragment``) decides alike."""
    if end - start == 1 and "\u0e40" <= s[start] <= "\u0e44":
        return False
    return bool(_THAI_SYLLABLE_RX.fullmatch(s, start, end)) or (start > 0 and s[start - 1] == " ")


def _collapse_repeat(m: re.Match[str]) -> str:
    ch = m.group(1)
    return "xxx" if ch == "x" else ch


def _join_spread(m: re.Match[str]) -> str:
    return "".join(ch for ch in m.group(0) if ch not in " ._-*~")


def _join_leet_spread(m: re.Match[str]) -> str:
    piece = m.group(0)
    chars = piece[::2]
    digits = [c.isdigit() for c in chars]
    if not any(digits) or len(chars) - sum(digits) < 2 or any(a and b for a, b in pairwise(digits)):
        return piece
    return chars.translate(_LEET)


def _stages(text: str, sub: Callable[[re.Pattern[str], Repl, str], str]) -> str:
    """The normalisation stages, each through ``sub``: plain, keeping the span map, or noting
    the stages that move characters."""
    s = text
    s = sub(_CONTROL_RX, "", s)
    s = sub(_SPACE_RX, " ", s)
    ascii_only = s.isascii()
    if not ascii_only:
        s = sub(_FOLDABLE_RX, _fold_non_ascii, s)
    if not s.islower():
        s = sub(_LATIN_WORD_RX, _fix_case, s)
        s = sub(_CAMEL_RX, " ", s)
    if not ascii_only and not s.isascii():
        s = sub(_FOLDABLE_RX, _casefold_match, s)
        s = sub(_SARA_E_DOUBLE_RX, "\u0e41", s)
        s = sub(_THAI_MARK_REPEAT_RX, _first_group, s)
    s = s.lower()
    s = sub(_REPEAT_RX, _collapse_repeat, s)
    s = sub(_LATIN_TOKEN_RX, _latin_token, s)
    if not ascii_only:
        s = sub(_THAI_JOIN_RX, _thai_join, s)
    if "." in s:
        s = sub(_LATIN_DOTTED_RX, _join_spread, s)
    if "_" in s or "-" in s:
        s = sub(_LATIN_JOINED_RX, _join_spread, s)
    # Every separator becomes one space before spread-out letters are joined, so that "p_t_h_c",
    # "p:t:h:c" and "p t h c" end alike (and a second pass changes nothing).
    s = sub(_SEPARATOR_RX, " ", s)
    if any(c in _LEET_DIGITS for c in s):
        s = sub(_LEET_SPREAD_RX, _join_leet_spread, s)
    # Letters spread out within a word are joined before runs of spaces merge, so that the gaps
    # between words stay ("P R E T E E N   X X X" is two words, not "preteenxxx").
    s = sub(_LATIN_SPREAD_RX, _join_spread, s)
    s = sub(_MULTISPACE_RX, " ", s)
    # Collapsing a repeat can leave letters spread out again ("ooo a a" -> "o a a"), so joining and
    # collapsing go round until nothing changes (each change shortens the text): normalising
    # twice then changes nothing.
    while True:
        before = s
        if any(c in _LEET_DIGITS for c in s):
            s = sub(_LEET_SPREAD_RX, _join_leet_spread, s)
        s = sub(_LATIN_SPREAD_RX, _join_spread, s)
        if not ascii_only:
            s = sub(_THAI_SPREAD_RX, _join_spread, s)
            # Joining can bring two SARA E or two marks together again ("เ.เ", "็_็").
            s = sub(_SARA_E_DOUBLE_RX, "\u0e41", s)
            s = sub(_THAI_MARK_REPEAT_RX, _first_group, s)
        s = sub(_REPEAT_RX, _collapse_repeat, s)
        if s == before:
            return s


def _casefold_match(m: re.Match[str]) -> str:
    # Case folding can yield a look-alike the table knows only in lower case ("Ω" → "ω" → "w").
    return "".join(_HOMOGLYPHS.get(x, x) for x in m.group(0).casefold())


def _first_group(m: re.Match[str]) -> str:
    return m.group(1)


def _normalized(text: str, s: str, st: list[int], en: list[int]) -> Normalized:
    lo, hi = len(s) - len(s.lstrip(" ")), len(s.rstrip(" "))
    return Normalized(text, s[lo:hi], tuple(st[lo:hi]), tuple(en[lo:hi]))


def normalize_with_map(text: str) -> Normalized:
    """Normalise ``text`` (DESIGN §3) and keep the map back to the original spans: in C for text
    of ASCII and Thai (``_fast_normalize``), else by the Python stages."""
    fast = _fast_normalize.normalize_with_map(text)
    if fast is not None:
        return Normalized(text, *fast)
    return normalize_with_map_py(text)


def normalize(text: str) -> str:
    """The normalised text alone."""
    fast = _fast_normalize.normalize_with_map(text)
    if fast is not None:
        return fast[0]
    return _stages(text, _plain_sub).strip(" ")


def normalize_with_map_py(text: str) -> Normalized:
    """The Python stages with the map: the reference the C stages are tested against, and the
    path for text they leave alone."""
    sub = _MapSub(len(text))
    s = _stages(text, sub)
    return _normalized(text, s, sub.st, sub.en)


def normalize_py(text: str) -> str:
    """The Python stages without the map (about 3x faster than with it)."""
    return _stages(text, _plain_sub).strip(" ")


@dataclass(frozen=True, slots=True)
class Traced:
    """A normalised text, and how to build its span map later at a fraction of the cost."""

    original: str
    unstripped: str
    steps: tuple[tuple[re.Pattern[str], Repl, str], ...]

    @property
    def text(self) -> str:
        return self.unstripped.strip(" ")

    def with_map(self) -> Normalized:
        """What ``normalize_with_map`` gives, replaying only the stages that moved characters
        from their recorded input (every other stage leaves the map as it is). 29 → 12 µs a
        filename, and a test checks it equals ``normalize_with_map``."""
        sub = _MapSub(len(self.original))
        for rx, repl, s in self.steps:
            sub(rx, repl, s)
        return _normalized(self.original, self.unstripped, sub.st, sub.en)


def normalize_traced(text: str) -> Traced:
    """The normalised text (as ``normalize_py``), with what ``Traced.with_map`` needs."""
    sub = _TraceSub()
    s = _stages(text, sub)
    return Traced(text, s, tuple(sub.steps))


def normalize_for_analysis(text: str) -> Normalized | Traced:
    """The normalised text with its map (C stages), or traced to build the map only if needed."""
    fast = _fast_normalize.normalize_with_map(text)
    if fast is not None:
        return Normalized(text, *fast)
    return normalize_traced(text)


_fast_normalize.set_latin_splitter(_split_until_stable)
_fast_normalize.set_char_folder(_fold_char)
_fast_normalize.set_case_fixer(_case_fixed)
