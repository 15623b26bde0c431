"""The lexicon: category word lists with provenance, indexed for matching over tokens.

Terms are normalised and tokenised with the same pipeline as the text they are matched against, so a
term written "r@ygold" matches "R A Y G O L D" and a Thai term matches across misspelt tone marks
(through a skeleton index that ignores tone marks).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import NamedTuple

from ocsea.text._fast_match import match_tokens
from ocsea.text.glued import (
    MAX_GLUED,
    MIN_GLUED,
    GlueKey,
    cut_glued,
    english_whole,
    english_words,
    piece_prefixes,
)
from ocsea.text.glued import (
    STRONG as GLUE_STRONG,
)
from ocsea.text.masked import masked_terms, unmask
from ocsea.text.normalize import normalize
from ocsea.text.romanised import MIN_SKELETON, rom_skeleton, single_letters
from ocsea.text.tokenize import ThaiTokenizer, Token

# What a text is about, one intent at a time: the rules combine a child indication with one of
# the intent categories (trade, channel, solicit, live, extort, payment, hidden), so that
# "selling clips of a ม.2 pupil" is evidence without a sexual word, and a child word alone is not.
INTENT_CATEGORIES = ("trade", "channel", "solicit", "live", "extort", "payment", "hidden")
CATEGORIES = (
    "csa_code",
    "minor",
    "age",
    "grade",
    "sexual",
    "exploitation",  # any exploitation word of an agency's own lexicon, without an intent
    *INTENT_CATEGORIES,
    "abbrev",  # ambiguous community abbreviations ("cp"): evidence only beside a link or child
    "abbrev_context",  # what makes such an abbreviation mean abuse material ("thai", a list)
    "school",  # school places and uniforms: a child indication for hidden-camera terms
    # Changing rooms, bathrooms: where hidden cameras are put, a hidden-camera term only beside
    # clips or pictures ("ห้องเปลี่ยนชุด ม.2 คลิป"), never a room by itself (a school's
    # cleaning rota, a shop's fitting room; a review found them csa beside a grade).
    "hidden_place",
    # What makes such a place a hidden camera's: a camera or recording word, a hidden or secret
    # folder, a leak, a video or picture file's extension. Nothing by itself (an extension is on
    # every family video: a review found school-fee and bake-sale videos csa as media).
    "hidden_cue",
    # A threat to send something to a child's parents (ขู่ส่งให้พ่อแม่): a sextortion threat
    # only beside pictures or clips (a school "threatening" to send a note home is not).
    "threat_with_media",
    "media",  # clips, videos, pictures: what trade and payment are about
    "activity",  # benign activities (games, lessons, toys, sport): intent rules stay silent
    "intent_safe",
    "benign_sense",
    # A phrase in which risky words have their everyday sense ("fan lud", a tooth coming out;
    # "nong khaem", a district): the words inside it are no evidence, and, unlike a benign
    # sense, nothing else in the text is silenced (appended to a risky text it hides nothing).
    "plain_sense",
    "adult_context",
)
LANGS = ("en", "th", "th-Latn", "mixed")
COLUMNS = ("term", "lang", "category", "weight", "canonical", "source")
MAX_WINDOW = 4
_SKELETON_CHARS = "\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c"
_SKELETON_DROP = str.maketrans("", "", _SKELETON_CHARS)
# A run-together Thai token is read by its skeleton only in pieces this long (no two-letter
# word), and only where its skeleton is at most this long.
_MIN_COVER_PART = 3
_MAX_COVER = 24
# Substring search for glued codewords ("newpthcvid") only for Latin codewords at least this long.
_MIN_SUBSTRING_CODE = 4
# Lexicon terms found inside a longer Thai dictionary word must be at least this long: shorter
# ones ("นม", "หี") sit inside many ordinary words.
_MIN_COMPOUND_PART = 4
# Codewords too common inside ordinary words ("torpedo", "pedometer") to match glued.
_NO_SUBSTRING = frozenset(
    {"pedo", "paedo", "csam", "loli", "shota", "lolita", "ptsc"}
)  # "optscript"


# Categories whose romanised-Thai terms are also found by their spelling skeleton.
_ROM_CATEGORIES = frozenset(["minor", "grade", "sexual", "live", "solicit", "school"])
# And these too, for a token that is no English word ("khaai" for ขาย, not "loud" for หลุด).
_ROM_ANY_CATEGORIES = _ROM_CATEGORIES | frozenset(
    ["trade", "channel", "extort", "payment", "hidden", "hidden_place", "hidden_cue", "media"]
)

# Lexicon terms that make a cut of a run-together token risky (``ocsea.text.glued``): a token
# that reads as well without them is read without them ("kids trip", not "kid strip").
_RISKY_CATEGORIES = frozenset(
    ["sexual", "csa_code", "exploitation", "abbrev", "hidden_place", *INTENT_CATEGORIES]
)
# A cut must find one of these to be worth making ("phi|set" is not: a set alone says nothing).
_GLUE_CHILD = frozenset(["minor", "grade", "csa_code", "abbrev"])
# What a run-together child phrase must stand beside to be read as one (``_glued_phrases``).
_PHRASE_BESIDE = frozenset(["sexual", "csa_code"])

# Tokens at least this long are looked up with doubled letters made single ("poorrnn").
_MIN_SQUEEZED = 5
# Never found squeezed: what silences the rules ("jaang", to hire, is no "jang", to report), and
# codewords and abbreviations, which sit inside ordinary words ("shotta", "lolli and pops").
_NOT_SQUEEZED = frozenset(
    [
        "intent_safe",
        "benign_sense",
        "plain_sense",
        "activity",
        "adult_context",
        "csa_code",
        "abbrev",
    ]
)


def _runs(word: str) -> list[tuple[str, int]]:
    return [(m.group(1), len(m.group(0))) for m in re.finditer(r"([a-z])\1*", word)]


def _doubles(token: str, term: str) -> bool:
    """The token is the term with letters doubled, never fewer: "poorrnn" is "porn", but
    "pepping" is no "peeping" (its "ee" is one "e")."""
    a, b = _runs(token), _runs(term)
    return len(a) == len(b) and all(x == y and n >= m for (x, n), (y, m) in zip(a, b, strict=True))


# Only tokens this short are remembered: a 10 kB token would pin its copy in a memo.
_MEMO_CHARS = 64
# Categories a two-letter Thai skeleton may match with another tone mark (``Lexicon._lookup``).
_DISGUISED_SHORT = frozenset({"sexual", "csa_code"})

# Tokens whose own matches are remembered (``Lexicon._first``); the memo starts afresh when full.
_MEMO_TOKENS = 100_000


class LexiconError(ValueError):
    """A lexicon file that cannot be used; the message names the file, line and field."""


@dataclass(frozen=True, slots=True)
class Entry:
    term: str
    lang: str
    category: str
    weight: float
    canonical: str
    source: str


class Match(NamedTuple):
    entry: Entry
    start: int  # in the normalised text
    end: int
    kind: str  # "exact", "skeleton" (tone marks ignored) or "substring" (glued codeword)
    weight: float


class _FirstToken(NamedTuple):
    thai: bool
    hits: tuple[Entry, ...]
    kind: str
    factor: float
    extend: bool  # some longer term starts with this token
    fallback: tuple[tuple[Entry, int, int, str, float], ...]  # compound or glued-codeword matches


def skeleton(text: str) -> str:
    """Thai text without tone marks, mai taikhu and thanthakhat: what misspellings leave intact."""
    return text.translate(_SKELETON_DROP)


def _thai_cuts(key: str) -> list[int]:
    """The places a tokeniser may cut a key that holds Thai: next to a Thai letter."""
    return [
        k for k in range(1, len(key))
        if "\u0e00" <= key[k - 1] <= "\u0e7f" or "\u0e00" <= key[k] <= "\u0e7f"
    ]  # fmt: skip


def join_key(tokens: Sequence[str], thai: Sequence[bool]) -> str:
    """Tokens joined as the lexicon keys them: a space only between two non-Thai tokens."""
    parts = [tokens[0]]
    for i in range(1, len(tokens)):
        if not thai[i] and not thai[i - 1]:
            parts.append(" ")
        parts.append(tokens[i])
    return "".join(parts)


def read_lexicon_file(path: Path | str, text: str | None = None) -> list[Entry]:
    """Parse a lexicon TSV; any bad row raises LexiconError naming file, line and field."""
    name = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LexiconError(f"{name}: cannot read lexicon: {exc}") from exc
    rows = csv.reader(text.splitlines(), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(rows, None)
    if header is None or tuple(h.strip() for h in header) != COLUMNS:
        raise LexiconError(f"{name}:1: header must be the tab-separated columns {COLUMNS}")
    entries: list[Entry] = []
    for lineno, row in enumerate(rows, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(COLUMNS):
            raise LexiconError(f"{name}:{lineno}: expected {len(COLUMNS)} fields, got {len(row)}")
        term, lang, category, weight, canonical, source = (c.strip() for c in row)
        if not term:
            raise LexiconError(f"{name}:{lineno}: field 'term' is empty")
        if lang not in LANGS:
            raise LexiconError(f"{name}:{lineno}: field 'lang' must be one of {LANGS}")
        if category not in CATEGORIES:
            raise LexiconError(f"{name}:{lineno}: field 'category' must be one of {CATEGORIES}")
        try:
            w = float(weight)
        except ValueError:
            raise LexiconError(f"{name}:{lineno}: field 'weight' is not a number") from None
        if not -5.0 <= w <= 5.0:
            raise LexiconError(f"{name}:{lineno}: field 'weight' must be within -5..5")
        if not source:
            raise LexiconError(f"{name}:{lineno}: field 'source' is empty: every term needs one")
        entries.append(Entry(term, lang, category, w, canonical, source))
    return entries


def default_lexicon_entries() -> list[Entry]:
    data = resources.files("ocsea.text").joinpath("data/lexicon.tsv").read_text(encoding="utf-8")
    return read_lexicon_file("ocsea/text/data/lexicon.tsv", data)


# Categories whose romanised terms' Thai spellings are terms of their own: "liang dek" (to
# babysit) is an activity, and so is "เลี้ยงเด็ก", which would otherwise read as "เด็ก" + a job.
_SILENCING = frozenset(["activity", "benign_sense", "plain_sense", "intent_safe", "adult_context"])


def _with_silencing_canonicals(entries: list[Entry]) -> list[Entry]:
    terms = {normalize(e.term).replace(" ", "") for e in entries}
    out = list(entries)
    for e in entries:
        c = e.canonical
        if e.category in _SILENCING and c and re.search("[\u0e00-\u0e7f]", c):
            key = normalize(c).replace(" ", "")
            if key not in terms:
                terms.add(key)
                out.append(Entry(c, "th", e.category, e.weight, "", e.source))
    return out


class Lexicon:
    """Indexed lexicon: exact keys, Thai skeleton keys and a glued-codeword pattern."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = _with_silencing_canonicals(list(entries))
        thai_terms = [normalize(e.term).replace(" ", "") for e in self.entries]
        # A canonical spelling is no word of its own unless it is a term: as one it would hide
        # the terms inside it ("คลิปเย็ด" made one token hid "เย็ด").
        # Codewords are never made by a re-cut: a codeword alone is csa, and "สาย|เด็กเสิร์ฟ"
        # (waiter work) re-cut to "สายเด็ก|เสิร์ฟ", "พี|โดรน" (a drone) to "พีโด|รน".
        prefer = [normalize(e.term).replace(" ", "") for e in self.entries
                  if e.category != "csa_code"]  # fmt: skip
        self.tokenizer = ThaiTokenizer(thai_terms, prefer=prefer)
        # Lexicon-only dictionary to find terms inside compound dictionary words ("ภาพเปลือย").
        self._compound_tokenizer = ThaiTokenizer(
            [t for t in thai_terms if len(t) >= _MIN_COMPOUND_PART], with_default_words=False
        )
        self.index: dict[str, list[Entry]] = {}
        self.skeleton_index: dict[str, list[Entry]] = {}
        self._prefixes: set[str] = set()  # keys of the first 1..k-1 tokens of k-token terms
        self._skeleton_prefixes: set[str] = set()
        # Romanised Thai terms by their spelling skeleton ("nakrien" finds "nakrian"; a term of
        # two words by one token that runs them together).
        self._rom_index: dict[str, list[Entry]] = {}
        codes: list[str] = []
        for e in self.entries:
            toks = self.tokenizer.tokenize(normalize(e.term))
            if not toks:
                continue
            key = join_key([t.text for t in toks], [t.thai for t in toks])
            for w in range(1, len(toks)):
                prefix = join_key([t.text for t in toks[:w]], [t.thai for t in toks[:w]])
                self._prefixes.add(prefix)
                self._skeleton_prefixes.add(skeleton(prefix))
            if any(t.thai for t in toks):
                # Misspelt Thai splits into tokens anywhere: every leading substring may grow.
                sk = skeleton(key)
                # Only where a Thai letter is on either side: "18บวก" may split as "18" +
                # "บวก", never as "1" + "8บวก" (every "1" token had started a window).
                self._prefixes.update(key[:k] for k in _thai_cuts(key))
                self._skeleton_prefixes.update(sk[:k] for k in _thai_cuts(sk))
            self.index.setdefault(key, []).append(e)
            # Respelt only where a wrong match cannot make evidence beside a child word: codewords
            # only as spelt ("Saylor" is not "sai lo"), and no intent or context words ("loud"
            # and "loot" fold onto หลุด "lud", "lag" onto แลก "laek", "rub" onto รูป "rup").
            if e.lang == "th-Latn" and key.isascii() and e.category in _ROM_ANY_CATEGORIES:
                rk = rom_skeleton(key)
                if len(rk) >= MIN_SKELETON:
                    self._rom_index.setdefault(rk, []).append(e)
            sk = skeleton(key)
            if len(sk) >= 2 and (sk != key or re.search("[\u0e00-\u0e7f]", key)):
                self.skeleton_index.setdefault(sk, []).append(e)
            if (
                e.category == "csa_code"
                and key.isascii()
                and key.isalpha()
                and len(key) >= _MIN_SUBSTRING_CODE
                and key not in _NO_SUBSTRING
            ):
                codes.append(key)
        # Latin keys for cutting run-together tokens: single words, and benign terms of several
        # words with their spaces taken out ("kidsmenu" is the benign "kids menu", not "kids").
        self._glue_index: dict[str, list[Entry]] = {}
        for key, es in sorted(self.index.items(), key=lambda kv: " " in kv[0]):
            if " " in key and not all(e.category in _SILENCING for e in es):
                continue  # a phrase joined up is a word only where it silences ("mptcp")
            joined = key.replace(" ", "")
            usable = joined.isascii() and joined.isalpha() and len(joined) >= 2
            if usable and joined not in _NO_SUBSTRING and joined not in self._glue_index:
                self._glue_index[joined] = es  # a word's own entries before a phrase's
        self._glue_keys: dict[str, GlueKey] = {
            key: GlueKey(
                risky=any(e.category in _RISKY_CATEGORIES for e in es),
                child=any(e.category in _GLUE_CHILD for e in es),
                sexual=any(e.category == "sexual" for e in es),
                weight=max(abs(e.weight) for e in es),
            )
            for key, es in self._glue_index.items()
        }
        self._glue_prefixes: frozenset[str] | None = None
        self._masked: dict[int, tuple[str, ...]] | None = None
        # A token is cut only where some child, grade, codeword, abbreviation or sexual term
        # may be inside it: its first three letters (two for a two-letter term) are looked up
        # at each place, which skips the cut's work for almost every token (a regex of the
        # terms took 3-8 µs a token, a fifth of the detector's time on unique filenames).
        self._glue_starts: dict[str, tuple[str, ...]] = {}
        for k, g in self._glue_keys.items():
            if g.child or g.sexual:
                self._glue_starts[k[:3]] = (*self._glue_starts.get(k[:3], ()), k)
        self.code_entries = {
            self.key_of(e.term): e for e in self.entries if e.category == "csa_code"
        }
        codes.sort(key=len, reverse=True)
        self._code_rx = re.compile("|".join(map(re.escape, codes))) if codes else None
        # Latin single-word keys with doubled letters made single ("teen" -> "ten"), for tokens
        # whose letters were doubled to disguise them.
        self._squeezed: dict[str, list[tuple[str, list[Entry]]]] = {}
        for key, es in self.index.items():
            if key.isascii() and key.isalpha() and len(key) >= MIN_SKELETON:
                kept = [e for e in es if e.category not in _NOT_SQUEEZED]
                if kept and key not in _NO_SUBSTRING:
                    self._squeezed.setdefault(single_letters(key), []).append((key, kept))
        self._memo: dict[str, _FirstToken] = {}
        self._pairs: dict[tuple[str, str], tuple[tuple[Entry, str, float], ...]] = {}

    @classmethod
    def default(cls, overlays: Iterable[Path | str] = (), extra: Iterable[Entry] = ()) -> Lexicon:
        """The packaged lexicon plus overlay files and extra entries (terms accepted by analysts)."""
        entries = default_lexicon_entries()
        for path in overlays:
            entries.extend(read_lexicon_file(path))
        entries.extend(extra)
        return cls(entries)

    def key_of(self, term: str) -> str:
        toks = self.tokenizer.tokenize(normalize(term))
        if not toks:
            return ""
        return join_key([t.text for t in toks], [t.thai for t in toks])

    def known_keys(self) -> set[str]:
        """Every lexicon key and each token of multi-token keys (what term discovery skips)."""
        out = set(self.index)
        for k in self.index:
            out.update(k.split())
        return out

    def reset_memo(self) -> None:
        """Forget what single tokens and token pairs matched (a benchmark's cold start)."""
        self._memo.clear()
        self._pairs.clear()

    def match(self, tokens: Sequence[Token]) -> list[Match]:
        """All lexicon matches over the tokens, with benign senses cancelling what they contain."""
        found = match_tokens(tokens, self._memo, self._first, self._extend, Match, self._pairs)
        return _suppressed(found)

    def match_py(self, tokens: Sequence[Token]) -> list[Match]:
        """``match`` with its loop in Python: the reference ``match_tokens`` is tested against."""
        found: list[Match] = []
        n = len(tokens)
        memo = self._memo
        for i in range(n):
            tok = tokens[i]
            first = memo.get(tok.text)
            if first is None or first.thai != tok.thai:
                first = self._first(tok.text, tok.thai)
            matched_here = False
            if first.hits:
                matched_here = True
                for e in first.hits:
                    found.append(Match(e, tok.start, tok.end, first.kind, e.weight * first.factor))
            if first.extend and i + 1 < n:
                matched_here = self._extend(tokens, i, found) or matched_here
            if matched_here:
                continue
            for e, a, b, kind, weight in first.fallback:
                found.append(Match(e, tok.start + a, tok.start + b, kind, weight))
        return _suppressed(found)

    def _lookup(self, key: str, any_thai: bool) -> tuple[list[Entry] | None, str, float, bool]:
        """The entries of one key (exactly, or by its Thai skeleton), and whether some longer
        term starts with it."""
        hits = self.index.get(key)
        kind, factor = "exact", 1.0
        sk = skeleton(key) if any_thai else ""
        # A two-letter skeleton matches a token with a mark of its own ("โป้" for "โป๊"), never a
        # bare syllable ("โป" of "โปลิเทคนิค").
        if hits is None and sk and (len(sk) >= 3 or sk != key):
            hits = self.skeleton_index.get(sk)
            if hits and len(sk) < 3:
                # A tone mark swapped in a short sexual word is disguise ("โป้" for "โป๊"); in
                # other short words it is another word: "ป่า" (a forest) is neither "ป้า" (an
                # aunt) nor "ป๋า" (a sugar daddy), and 70 Thai Wikipedia titles said otherwise.
                hits = [e for e in hits if e.category in _DISGUISED_SHORT] or None
            kind, factor = "skeleton", 0.9
        extend = key in self._prefixes or bool(sk and sk in self._skeleton_prefixes)
        # One token at a time (its matches are remembered per token text): respelling every
        # window of tokens as well cost a fifth of the detector's speed on unique filenames.
        if hits is None and not any_thai and len(key) >= MIN_SKELETON and key.isalpha():
            rk = rom_skeleton(key) if key.isascii() else key
            if rk != key:
                hits = self._rom_index.get(rk)
                if hits and key in english_whole():
                    # An English word respelt lands on an intent word ("loud" on หลุด "lud",
                    # "lag" on แลก "laek"): for it only the categories respelt of old count.
                    hits = [e for e in hits if e.category in _ROM_CATEGORIES] or None
                kind, factor = "romanised", 0.9
            if (
                hits is None
                and len(key) >= _MIN_SQUEEZED
                and (single := single_letters(key)) != key
            ):
                # Letters doubled to disguise a word ("poorrnn"); three or more are already
                # one. Never an English word ("committee" is no "comite").
                hits = [
                    e
                    for term, es in self._squeezed.get(single, ())
                    if _doubles(key, term)
                    for e in es
                ] or None
                if hits is not None and key in english_whole():
                    hits = None
                kind, factor = "squeezed", 0.9
        return hits, kind, factor, extend

    def _first(self, text: str, thai: bool) -> _FirstToken:
        """What one token matches by itself; remembered per token text, because the words of
        filenames and queries recur (lexicon matching 11 -> 5 µs a filename on the benchmark's
        unique filenames, before its loop went to C)."""
        hits, kind, factor, extend = self._lookup(text, thai)
        fallback: list[tuple[Entry, int, int, str, float]] = []
        if thai and len(text) > _MIN_COMPOUND_PART:
            fallback = [
                (m.entry, m.start, m.end, m.kind, m.weight)
                for m in self._compound_matches(Token(text, 0, len(text), True))
            ]
            if not fallback and not hits and text != skeleton(text):
                fallback = self._skeleton_cover(text)
        elif not thai:
            m = self._code_rx.search(text) if self._code_rx is not None else None
            if m:
                e = self.code_entries[m.group(0)]
                fallback = [(e, m.start(), m.end(), "substring", e.weight * 0.9)]
            elif not hits and MIN_GLUED <= len(text) <= MAX_GLUED and self._may_glue(text):
                spans = cut_glued(text, self._glue_keys, prefixes=self._prefixes_of_pieces())
                fallback = [
                    (e, a, b, "glued", e.weight)
                    for a, b in spans
                    for e in self._glue_index[text[a:b]]
                ]
                fallback += self._glued_phrases(text, spans)
        first = _FirstToken(thai, tuple(hits or ()), kind, factor, extend, tuple(fallback))
        if len(text) <= _MEMO_CHARS:
            if len(self._memo) >= _MEMO_TOKENS:
                self._memo.clear()
            self._memo[text] = first
        return first

    def _glued_phrases(
        self, text: str, spans: Sequence[tuple[int, int]]
    ) -> list[tuple[Entry, int, int, str, float]]:
        """Child terms of two words whose pieces a cut found side by side, in a token that also
        holds a strong sexual term or a codeword: "littlegirlxxx" holds "little girl", which
        names a child where "little" and "girl" alone do not (blind round-13 dev). Only there:
        a review found the phrase alone or beside an everyday word made a rapper's name
        ("youngboy leaked", "youngboy livestream"), dress shops ("littlegirls dresses") and
        camera reviews csa, and a weaker phrase ("onlyfans leak") hide a stronger word."""
        if len(spans) < 3 or not any(
            e.category in _PHRASE_BESIDE and e.weight >= GLUE_STRONG
            for a, b in spans
            for e in self._glue_index[text[a:b]]
        ):
            return []
        found: list[tuple[Entry, int, int, str, float]] = []
        for (a1, b1), (a2, b2) in pairwise(spans):
            if b1 != a2:
                continue
            for e in self.index.get(f"{text[a1:b1]} {text[a2:b2]}", ()):
                if e.category == "minor":
                    found.append((e, a1, b2, "glued", e.weight))
        return found

    def unmask(self, text: str) -> str:
        """``text`` with letters masked by an asterisk filled in where one term fits
        (``ocsea.text.masked``); the index of terms is built at the first asterisk."""
        if "*" not in text:
            return text
        if self._masked is None:
            self._masked = masked_terms(self.index)  # the targets this lexicon has
        return unmask(text, self._masked)

    def warm(self) -> None:
        """Load now what the first run-together token would load (the English word lists and
        the piece prefixes, about 1 s): a service's first query should not wait for them."""
        english_whole()
        self._prefixes_of_pieces()

    def _prefixes_of_pieces(self) -> frozenset[str]:
        """``piece_prefixes`` of this lexicon's glue keys and the English words, built at the
        first run-together token (0.4 s, as the English words themselves are)."""
        if self._glue_prefixes is None:
            self._glue_prefixes = piece_prefixes(self._glue_keys, english_words())
        return self._glue_prefixes

    def _may_glue(self, text: str) -> bool:
        """Some child, grade, codeword, abbreviation or sexual term is inside the token, and
        the token is no English word: only then is a cut worth its work."""
        if text in english_whole():
            return False
        starts = self._glue_starts
        for i in range(len(text) - 1):
            keys = starts.get(text[i : i + 3]) or starts.get(text[i : i + 2])
            if keys and any(text.startswith(k, i) for k in keys):
                return True
        return False

    def _extend(self, tokens: Sequence[Token], i: int, found: list[Match]) -> bool:
        """Matches of two or more tokens from token i on; whether there was one. A pair of
        tokens that no longer term goes beyond is remembered with what it matched: most windows
        stop there, and pairs recur where whole texts do not (warm matching 9.5 -> 4.9 µs a
        filename with the intent categories)."""
        pair = (tokens[i].text, tokens[i + 1].text)
        known = self._pairs.get(pair)
        if known is not None:
            for e, kind, factor in known:
                found.append(Match(e, tokens[i].start, tokens[i + 1].end, kind, e.weight * factor))
            return bool(known)
        matched = False
        key = tokens[i].text
        any_thai = tokens[i].thai
        for j in range(i + 1, min(i + MAX_WINDOW, len(tokens))):
            if not tokens[j].thai and not tokens[j - 1].thai:
                key = f"{key} {tokens[j].text}"
            else:
                key += tokens[j].text
            any_thai = any_thai or tokens[j].thai
            hits, kind, factor, extend = self._lookup(key, any_thai)
            if hits:
                matched = True
                start, end = tokens[i].start, tokens[j].end
                for e in hits:
                    found.append(Match(e, start, end, kind, e.weight * factor))
            if not extend:
                if j == i + 1 and len(pair[0]) + len(pair[1]) <= _MEMO_CHARS:
                    if len(self._pairs) >= _MEMO_TOKENS:
                        self._pairs.clear()
                    self._pairs[pair] = tuple((e, kind, factor) for e in hits or ())
                break
        return matched

    def _skeleton_cover(self, text: str) -> list[tuple[Entry, int, int, str, float]]:
        """Thai words run together with their tone marks swapped ("เย๊ดเด๊ก" for เย็ดเด็ก), which
        the dictionary cannot cut: the token read as lexicon terms by their skeletons, only
        where such terms cover all of it, two or more, one of them risky (blind round-14 dev)."""
        # Marks are not read, nor a repeat mark or an abbreviation mark at the end ("เย๊ดเด๊กๆ").
        body = text.rstrip("ๆฯ")
        keep = [k for k, ch in enumerate(body) if ch not in _SKELETON_CHARS]
        sk = "".join(text[k] for k in keep)
        n = len(sk)
        if n > _MAX_COVER:
            return []
        # Fewest pieces covering sk[:j], and where the last one starts.
        best: list[tuple[int, int]] = [(0, 0)] + [(n + 1, 0)] * n
        for i in range(n):
            if best[i][0] > n:
                continue
            for j in range(i + _MIN_COVER_PART, n + 1):
                if sk[i:j] in self.skeleton_index and best[i][0] + 1 < best[j][0]:
                    best[j] = (best[i][0] + 1, i)
        if best[n][0] < 2 or best[n][0] > n:
            return []
        pieces: list[tuple[int, int]] = []
        j = n
        while j > 0:
            i = best[j][1]
            pieces.append((i, j))
            j = i
        # A piece ends where the next begins, so that its last letter's marks are in its span.
        ends = [*keep[1:], len(body)]
        out = [
            (e, keep[i], ends[j - 1], "skeleton", e.weight * 0.9)
            for i, j in reversed(pieces)
            for e in self.skeleton_index[sk[i:j]]
        ]
        if not any(e.category in _RISKY_CATEGORIES for e, *_ in out):
            return []
        return out

    def _compound_matches(self, tok: Token) -> list[Match]:
        out: list[Match] = []
        pos = tok.start
        for piece in self._compound_tokenizer.segment_thai(tok.text):
            if len(piece) >= _MIN_COMPOUND_PART and piece != tok.text:
                for e in self.index.get(piece, ()):
                    out.append(Match(e, pos, pos + len(piece), "compound", e.weight * 0.9))
            pos += len(piece)
        return out


def _suppressed(found: list[Match]) -> list[Match]:
    if len(found) < 2:
        return found
    # _suppress drops only a match inside another one: none overlap, nothing to drop. The
    # matches come in start order (token by token), so one pass tells (2.9 -> 0.6 µs a filename
    # with the intent categories, where half of the filenames have two media or channel words).
    end = -1
    for m in found:
        if m.start < end:
            return _suppress(found)
        end = m.end
    return found


# A safe word inside a longer match of these is no safe context: "news" inside a threat or an
# offer (round-10 dev).
_SAFE_INSIDE_OF = ("extort", "solicit", "trade", "live", "hidden", "hidden_place", "payment")
# Phrases whose words are not evidence inside them.
SENSES = frozenset(["benign_sense", "plain_sense"])
_NONE = (-1, -1)


def _inside(outer: tuple[int, ...], m: Match) -> bool:
    """Whether the match (end, start, …) ``outer`` strictly contains ``m``."""
    return outer[0] > m.end or (outer[0] == m.end and outer[1] < m.start)


def _suppress(found: list[Match]) -> list[Match]:
    """Drop matches inside a benign-sense phrase, and shorter matches inside a longer one of the
    same category (so "little girl" is one reason, not two). Sweeps in start order: linear after
    sorting, so a 10 kB text with thousands of matches stays fast."""
    order = sorted(range(len(found)), key=lambda k: (found[k].start, -found[k].end))
    drop = [False] * len(found)
    benign_end = -1
    risky = (-1, -1)  # (max end of a match of another category so far, its start)
    best: dict[str, tuple[int, int, float]] = {}  # category -> (max end, its start, its weight)
    for k in order:
        m = found[k]
        cat = m.entry.category
        if cat in SENSES:
            if _inside(risky, m):
                # Inside a longer term it is not a word of its own: "ขนม" (a snack) in
                # "ให้ค่าขนม" (giving pocket money) says nothing benign about the text.
                drop[k] = True
                continue
            benign_end = max(benign_end, m.end)
        elif cat == "intent_safe" and any(_inside(best.get(c, _NONE), m) for c in _SAFE_INSIDE_OF):
            drop[k] = True
            continue
        elif benign_end >= m.end:
            drop[k] = True
        elif m.end > risky[0]:
            risky = (m.end, m.start)
        end, start, weight = best.get(cat, (-1, -1, 0.0))
        # A longer term of the same category stands for a shorter one inside it, unless it is
        # the weaker: "onlyfans leak" (0.4) must not hide "onlyfans" (0.8; a review found).
        if _inside((end, start), m) and abs(m.weight) <= weight:
            drop[k] = True
        if m.end > end:
            best[cat] = (m.end, m.start, abs(m.weight))
    return [m for k, m in enumerate(found) if not drop[k]]
