"""Features for the linear model: character n-grams of the normalised text, word tokens, and dense
lexicon/age features. The same code builds them for training and for inference."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ocsea.text.ages import ADULT_AGE, AgeMention
from ocsea.text.lexicon import CATEGORIES, INTENT_CATEGORIES, Match
from ocsea.text.tokenize import Token

NGRAM_MIN = 2
NGRAM_MAX = 4
MAX_FEATURE_CHARS = 2000  # n-grams are taken from at most this much normalised text
MAX_WORD_TOKENS = 500  # and word features from at most this many tokens

DENSE_NAMES = (
    "code",
    "minor",
    "minor_strong",
    "sexual",
    "exploitation",
    "intent_safe",
    "benign_sense",
    "adult_context",
    "minor_age",
    "infant_age",
    "adult_age",
    "young_age",
    "minor_x_sexual",
    "minor_x_exploitation",
    "code_no_safe",
    "minor_x_sexual_x_safe",
    "adult_age_x_sexual",
    "minor_x_sexual_x_adult",
    "sexual_x_exploitation",
    "trade",
    "channel",
    "solicit",
    "live",
    "extort",
    "payment",
    "hidden",
    "abbrev",
    "school",
    "media",
    "activity",
    "minor_x_intent",
    "minor_x_intent_x_activity",
    "abbrev_x_context",
)


class Evidence(NamedTuple):
    """What the lexicon and the age parser found, summarised per category."""

    code: float
    minor: float
    sexual: float
    exploitation: float
    intent_safe: bool
    benign_sense: bool
    adult_context: bool
    minor_age: bool
    infant_age: bool
    adult_age: bool
    min_age: int | None
    trade: float = 0.0
    channel: float = 0.0
    solicit: float = 0.0
    live: float = 0.0
    extort: float = 0.0
    payment: float = 0.0
    hidden: float = 0.0
    abbrev: float = 0.0
    school: float = 0.0
    media: float = 0.0
    activity: bool = False
    # A minor age that names a child: an age with a unit, a school grade, an age group or a child
    # word with a number ("12yo", "ม.3", "preteen", "girls 12"), not a stated age alone
    # ("บัตรมีอายุ 2 ปี", a card valid for two years).
    minor_named: bool = False
    abbrev_context: float = 0.0
    # Community abbreviations at different places: two of them ("cp+pt", "ซีพี/เจบี") are each
    # other's context, as a link or "thai" is for one.
    abbrev_places: int = 0
    # An age bracket ("u13", "under 13"): how collections of children's clips are named, where a
    # single age names one child (a range, "10-12yrs", is as often a clothing size).
    bracket: bool = False
    channels: int = 0  # distinct places a pack, set, folder, link or channel word is named at
    # A bare range of child ages ("10-13"): set by the analysis, not by the lexicon or the ages.
    bare_range: bool = False
    # Swearing for emphasis: the only sexual words are swear words after a determiner or a
    # possessive, in five words or more, with no age or grade given and no clip or picture named
    # ("why wont my fucking toddler sleep through the night"). Set by the analysis
    # (``analysis._swearing``); the sexual word then names no act.
    swearing: bool = False

    @property
    def sexual_act(self) -> float:
        """The sexual evidence, unless its only words are swearing for emphasis."""
        return 0.0 if self.swearing else self.sexual

    @property
    def minor_any(self) -> float:
        return max(self.minor, 1.0 if self.minor_age else 0.0)


# Each lexicon category's slot in the per-text maxima ("grade" counts as "minor"); summarising
# into a list by slot, then building the evidence positionally, takes 2.4 µs a filename against
# 5.6 µs by a dict of categories and keyword arguments.
_SLOTS = (
    "csa_code", "minor", "sexual", "exploitation", "intent_safe", "benign_sense", "adult_context",
    "trade", "channel", "solicit", "live", "extort", "payment", "hidden", "abbrev", "school",
    "media", "activity", "abbrev_context", "hidden_place", "hidden_cue", "threat_with_media",
)  # fmt: skip
_SLOT = {c: i for i, c in enumerate(_SLOTS)} | {"grade": 1, "age": -1, "plain_sense": -1}
_ABBREV_SLOT = _SLOT["abbrev"]
_CHANNEL_SLOT = _SLOT["channel"]
# A hidden-camera cue this strong (a camera, a hidden folder, a leak) makes a changing room a
# hidden camera's place by itself; a media file's extension (weaker) only beside a child.
STRONG_CUE = 0.5


def summarise(matches: Sequence[Match], ages: Sequence[AgeMention]) -> Evidence:
    if not matches and not ages:
        return NO_EVIDENCE
    best = [0.0] * len(_SLOTS)
    seen = [False] * len(_SLOTS)
    slot = _SLOT
    abbrev_at: set[int] = set()
    channel_at: set[int] = set()
    for m in matches:
        j = slot[m.entry.category]
        if j < 0:
            continue
        if j == _ABBREV_SLOT:
            abbrev_at.add(m.start)
        elif j == _CHANNEL_SLOT:
            channel_at.add(m.start)
        w = m.weight if m.weight >= 0 else -m.weight
        seen[j] = True
        if w > best[j]:
            best[j] = w
    (code, minor, sexual, exploit, _, _, _, trade, channel, solicit, live, extort, payment,
     hidden, abbrev, school, media, _, abbrev_context, place, cue, threat) = best  # fmt: skip
    if threat > extort and media:
        extort = threat  # "threatens to send to the parents" beside pictures or clips
    minor_age = infant = adult = named = bracket = False
    min_age = None
    for a in ages:
        if min_age is None or a.low < min_age:
            min_age = a.low
        if a.low >= ADULT_AGE:
            adult = True
        else:
            minor_age = True
            infant = infant or a.high <= 5
            named = named or a.kind != "stated"
            bracket = bracket or a.kind == "under"
    if place > hidden and (cue >= STRONG_CUE or ((cue or media) and (minor or minor_age))):
        # A changing room or a bathroom is a hidden camera's place beside a camera, a hidden
        # folder or a leak, or beside a child's clips, pictures or media file (a school's
        # photo or video of its changing room being repaired is no child's).
        hidden = place
    return Evidence(
        code, minor, sexual, max(exploit, trade, channel, solicit, live, extort, payment, hidden),
        seen[4], seen[5], seen[6], minor_age, infant, adult, min_age,
        trade, channel, solicit, live, extort, payment, hidden, abbrev, school, media, seen[17],
        named, abbrev_context, len(abbrev_at), bracket, len(channel_at),
    )  # fmt: skip


NO_EVIDENCE = Evidence(0.0, 0.0, 0.0, 0.0, False, False, False, False, False, False, None)


def dense_features(ev: Evidence) -> list[float]:
    if ev is NO_EVIDENCE:
        return list(_NO_DENSE)
    minor = ev.minor_any
    safe = 1.0 if ev.intent_safe else 0.0
    adult = 1.0 if (ev.adult_age or ev.adult_context) else 0.0
    young = 0.0 if ev.min_age is None else max(0.0, (18 - ev.min_age) / 18)
    activity = 1.0 if ev.activity else 0.0
    intent = max(ev.trade, ev.solicit, ev.live, ev.extort, ev.hidden)
    return [
        ev.code,
        minor,
        1.0 if minor >= 0.7 else 0.0,
        ev.sexual,
        ev.exploitation,
        safe,
        1.0 if ev.benign_sense else 0.0,
        1.0 if ev.adult_context else 0.0,
        1.0 if ev.minor_age else 0.0,
        1.0 if ev.infant_age else 0.0,
        1.0 if ev.adult_age else 0.0,
        young,
        minor * ev.sexual,
        minor * ev.exploitation,
        ev.code * (1.0 - safe),
        minor * ev.sexual * safe,
        (1.0 if ev.adult_age else 0.0) * ev.sexual,
        minor * ev.sexual * adult,
        ev.sexual * ev.exploitation,
        ev.trade,
        ev.channel,
        ev.solicit,
        ev.live,
        ev.extort,
        ev.payment,
        ev.hidden,
        ev.abbrev,
        ev.school,
        ev.media,
        activity,
        minor * intent,
        minor * intent * activity,
        ev.abbrev * max(ev.channel, ev.media, ev.trade, minor),
    ]


def ngrams(text: str, tokens: Sequence[Token]) -> list[str]:
    """Character 2–4-grams over the padded normalised text, plus word tokens. Training uses these;
    inference sums the same features in C (``LinearModel.score_text``)."""
    s = f" {text[:MAX_FEATURE_CHARS]} "
    L = len(s)
    grams = [s[i : i + n] for n in range(NGRAM_MIN, NGRAM_MAX + 1) for i in range(L - n + 1)]
    grams.extend("w=" + t.text for t in tokens[:MAX_WORD_TOKENS])
    return grams


assert set(_SLOTS) | {"grade", "age", "plain_sense"} == set(CATEGORIES), "a category has no slot"
assert set(INTENT_CATEGORIES) <= set(_SLOTS)
_NO_DENSE = tuple(dense_features(Evidence(*NO_EVIDENCE)))
