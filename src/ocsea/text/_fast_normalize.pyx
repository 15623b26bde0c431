# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The normaliser's stages (``normalize._stages``) in C, with the span map, for text that folding
turns into ASCII and Thai: look-alike letters, full-width, enclosed and accented letters included.

Every stage does what its regular expression and replacement do in ``normalize.py``, and keeps
the map as ``normalize._MapSub`` does: a piece replaced by one of the same length keeps its
characters' spans, any other replacement takes the span of the whole piece. Characters outside
ASCII and Thai are folded by the Python function the stages use (cached), as are mixed
letter-and-digit Latin tokens. Text that still holds other characters after folding (other
scripts, emoji, letters that only case folding maps) returns None, and the caller runs the Python
stages, which stay the reference: tests check both give the same on any text.

On the benchmark's unique filenames, normalising with the map went from 32 µs (the Python stages,
then replaying the ones that moved characters) to 5 µs; none of them is left to Python (of 3,000
lines of everyday Thai social media text with emoji, 7 % are).
"""

from cpython.unicode cimport PyUnicode_FromKindAndData, PyUnicode_4BYTE_KIND
from libc.stdint cimport int32_t, uint32_t
from libc.stdlib cimport free, malloc, realloc

_latin_splitter = None
_char_folder = None
_case_fixer = None


def set_latin_splitter(fn):
    """The function that splits a mixed Latin token (``normalize._split_until_stable``)."""
    global _latin_splitter
    _latin_splitter = fn


def set_case_fixer(fn):
    """The function that lower-cases a random-case Latin word (``normalize._case_fixed``)."""
    global _case_fixer
    _case_fixer = fn


def set_char_folder(fn):
    """The function that folds one character outside ASCII and Thai (``normalize._fold_char``)."""
    global _char_folder
    _char_folder = fn


cdef struct Buf:
    uint32_t* c
    int32_t* st
    int32_t* en
    Py_ssize_t n
    Py_ssize_t cap


cdef void _free(Buf* b) noexcept:
    free(b.c)
    free(b.st)
    free(b.en)
    b.c = NULL
    b.st = NULL
    b.en = NULL


cdef int _init(Buf* b, Py_ssize_t cap) except -1:
    if cap < 16:
        cap = 16
    b.c = <uint32_t*>malloc(cap * sizeof(uint32_t))
    b.st = <int32_t*>malloc(cap * sizeof(int32_t))
    b.en = <int32_t*>malloc(cap * sizeof(int32_t))
    b.n = 0
    b.cap = cap
    if b.c == NULL or b.st == NULL or b.en == NULL:
        _free(b)
        raise MemoryError()
    return 0


cdef int _grow(Buf* b, Py_ssize_t need) except -1:
    cdef Py_ssize_t cap = b.cap
    while cap < need:
        cap *= 2
    cdef uint32_t* c = <uint32_t*>realloc(b.c, cap * sizeof(uint32_t))
    if c == NULL:
        raise MemoryError()
    b.c = c
    cdef int32_t* st = <int32_t*>realloc(b.st, cap * sizeof(int32_t))
    if st == NULL:
        raise MemoryError()
    b.st = st
    cdef int32_t* en = <int32_t*>realloc(b.en, cap * sizeof(int32_t))
    if en == NULL:
        raise MemoryError()
    b.en = en
    b.cap = cap
    return 0


cdef inline int _push(Buf* b, uint32_t c, int32_t s, int32_t e) except -1:
    if b.n >= b.cap:
        _grow(b, b.n + 1)
    b.c[b.n] = c
    b.st[b.n] = s
    b.en[b.n] = e
    b.n += 1
    return 0


cdef inline int _copy(Buf* d, Buf* s, Py_ssize_t a, Py_ssize_t b) except -1:
    """Append s[a:b] with its spans."""
    cdef Py_ssize_t i
    for i in range(a, b):
        _push(d, s.c[i], s.st[i], s.en[i])
    return 0


cdef inline int _replace(Buf* d, Buf* s, Py_ssize_t a, Py_ssize_t b, uint32_t* r, Py_ssize_t rn) except -1:
    """Append r in place of s[a:b], mapped as ``_MapSub`` maps a replacement (b > a)."""
    cdef Py_ssize_t i
    cdef bint same = rn == b - a
    if same:
        for i in range(rn):
            if r[i] != s.c[a + i]:
                break
        else:
            return _copy(d, s, a, b)
        for i in range(rn):
            _push(d, r[i], s.st[a + i], s.en[a + i])
        return 0
    for i in range(rn):
        _push(d, r[i], s.st[a], s.en[b - 1])
    return 0


cdef int _replace_str(Buf* d, Buf* s, Py_ssize_t a, Py_ssize_t b, str r) except -1:
    """``_replace`` with a replacement a Python function gave."""
    cdef Py_ssize_t k, rn = len(r)
    cdef Py_UCS4 ch
    cdef uint32_t local[32]
    cdef uint32_t* buf = &local[0]
    if rn > 32:
        buf = <uint32_t*>malloc(rn * sizeof(uint32_t))
        if buf == NULL:
            raise MemoryError()
    try:
        for k in range(rn):
            ch = r[k]
            buf[k] = <uint32_t>ch
        return _replace(d, s, a, b, buf, rn)
    finally:
        if buf != &local[0]:
            free(buf)


cdef inline void _next(Buf* a, Buf* b) noexcept:
    """After a stage wrote b from a: b becomes the input of the next stage, a its empty output."""
    cdef Buf t = a[0]
    a[0] = b[0]
    b[0] = t
    b.n = 0


# Character classes of normalize.py, for the characters this module handles.

cdef inline bint _is_control(uint32_t c) noexcept:
    return (
        c <= 0x08 or c == 0x0B or c == 0x0C or 0x0E <= c <= 0x1F or 0x7F <= c <= 0x9F
        or c == 0xAD or c == 0x34F or c == 0x61C or c == 0x115F or c == 0x1160
        or c == 0x17B4 or c == 0x17B5 or c == 0x180E or 0x200B <= c <= 0x200F
        or 0x202A <= c <= 0x202E or 0x2060 <= c <= 0x206F or c == 0x3164
        or 0xFE00 <= c <= 0xFE0F or c == 0xFEFF or c == 0xFFA0
    )


cdef inline bint _is_space(uint32_t c) noexcept:
    return (
        c == 0x09 or c == 0x0A or c == 0x0D or c == 0xA0 or c == 0x1680
        or 0x2000 <= c <= 0x200A or c == 0x2028 or c == 0x2029 or c == 0x202F
        or c == 0x205F or c == 0x3000
    )


cdef inline bint _thai(uint32_t c) noexcept:
    return 0x0E00 <= c <= 0x0E7F


cdef inline bint _lower(uint32_t c) noexcept:
    return 0x61 <= c <= 0x7A


cdef inline bint _upper(uint32_t c) noexcept:
    return 0x41 <= c <= 0x5A


cdef inline bint _digit(uint32_t c) noexcept:
    return 0x30 <= c <= 0x39


cdef inline bint _lower_or_digit(uint32_t c) noexcept:
    return _lower(c) or _digit(c)


cdef inline bint _consonant(uint32_t c) noexcept:
    return 0x0E01 <= c <= 0x0E2E


cdef inline bint _combining(uint32_t c) noexcept:
    return c == 0x0E31 or 0x0E34 <= c <= 0x0E3A or 0x0E47 <= c <= 0x0E4E


cdef inline bint _repeatable(uint32_t c) noexcept:
    # [a-zก-ฮ\u0e30\u0e32\u0e33\u0e40-\u0e46] of _REPEAT_RX
    return _lower(c) or _consonant(c) or c == 0x0E30 or c == 0x0E32 or c == 0x0E33 or 0x0E40 <= c <= 0x0E46


cdef inline bint _latin_token_char(uint32_t c) noexcept:
    # [a-z0-9@$!|] of _LATIN_TOKEN_RX
    return _lower(c) or _digit(c) or c == 0x40 or c == 0x24 or c == 0x21 or c == 0x7C


cdef inline bint _join_punct(uint32_t c) noexcept:
    # [.\-_*~] of _THAI_JOIN_RX
    return c == 0x2E or c == 0x2D or c == 0x5F or c == 0x2A or c == 0x7E


cdef inline bint _word_ascii(uint32_t c) noexcept:
    return _lower(c) or _upper(c) or _digit(c) or c == 0x5F


cdef inline uint32_t _fold_thai(uint32_t c) noexcept:
    # The Thai entries of normalize._HOMOGLYPHS: obsolete look-alike consonants and digits.
    if c == 0x0E03:
        return 0x0E02
    if c == 0x0E05:
        return 0x0E04
    if 0x0E50 <= c <= 0x0E59:
        return 0x30 + (c - 0x0E50)
    return c


# The stages. Each reads s and writes d; the caller swaps them.

cdef int _drop_controls_and_spaces(Buf* d, Buf* s) except -1:
    # _CONTROL_RX -> "" then _SPACE_RX -> " " (one character each, so the map stays)
    cdef Py_ssize_t i
    cdef uint32_t c
    for i in range(s.n):
        c = s.c[i]
        if _is_control(c):
            continue
        _push(d, 0x20 if _is_space(c) else c, s.st[i], s.en[i])
    return 0


cdef int _fold(Buf* d, Buf* s) except -1:
    # _FOLDABLE_RX -> _fold_non_ascii, one character at a time: Thai look-alikes and digits here,
    # other characters outside ASCII by the Python function (NFKC, marks, look-alikes; cached)
    cdef Py_ssize_t i
    cdef uint32_t c
    for i in range(s.n):
        c = s.c[i]
        if c < 0x80:
            _push(d, c, s.st[i], s.en[i])
        elif _thai(c):
            _push(d, _fold_thai(c), s.st[i], s.en[i])
        else:
            _replace_str(d, s, i, i + 1, _char_folder(chr(c)))
    return 0


cdef inline bint _letter(uint32_t c) noexcept:
    return _lower(c) or _upper(c)


cdef int _fix_case(Buf* s) except -1:
    # _LATIN_WORD_RX -> _fix_case, in place: a word of Latin letters where the camel stage would
    # split goes through the Python function, which keeps its length (it lower-cases or not)
    cdef Py_ssize_t i = 0, j, k
    cdef bint camel
    cdef str word
    while i < s.n:
        if not _letter(s.c[i]):
            i += 1
            continue
        j = i + 1
        camel = False
        while j < s.n and _letter(s.c[j]):
            if (_lower(s.c[j - 1]) and _upper(s.c[j])) or (
                j + 1 < s.n and _upper(s.c[j - 1]) and _upper(s.c[j]) and _lower(s.c[j + 1])
            ):
                camel = True
            j += 1
        if camel:
            word = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, &s.c[i], j - i)
            word = _case_fixer(word)
            for k in range(j - i):
                s.c[i + k] = <uint32_t>ord(word[k])
        i = j
    return 0


cdef int _camel(Buf* d, Buf* s) except -1:
    # _CAMEL_RX -> " ": (?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z]), an insertion before s[i]
    cdef Py_ssize_t i
    for i in range(s.n):
        if i > 0 and (
            (_lower(s.c[i - 1]) and _upper(s.c[i]))
            or (_upper(s.c[i - 1]) and _upper(s.c[i]) and i + 1 < s.n and _lower(s.c[i + 1]))
        ):
            _push(d, 0x20, s.st[i], s.st[i])
        _push(d, s.c[i], s.st[i], s.en[i])
    return 0


cdef int _thai_marks(Buf* d, Buf* s) except -1:
    # _SARA_E_DOUBLE_RX "เเ" -> "แ", then (as a second pass) _THAI_MARK_REPEAT_RX: a run of one
    # combining mark -> the mark
    cdef Buf t
    _init(&t, s.n)
    cdef Py_ssize_t i = 0, j
    cdef uint32_t r
    try:
        while i < s.n:
            if s.c[i] == 0x0E40 and i + 1 < s.n and s.c[i + 1] == 0x0E40:
                _push(&t, 0x0E41, s.st[i], s.en[i + 1])
                i += 2
            else:
                _push(&t, s.c[i], s.st[i], s.en[i])
                i += 1
        i = 0
        while i < t.n:
            j = i + 1
            if _combining(t.c[i]):
                while j < t.n and t.c[j] == t.c[i]:
                    j += 1
            if j - i >= 2:
                r = t.c[i]
                _replace(d, &t, i, j, &r, 1)
            else:
                _push(d, t.c[i], t.st[i], t.en[i])
            i = j
    finally:
        _free(&t)
    return 0


cdef int _collapse_repeats(Buf* d, Buf* s) except -1:
    # _REPEAT_RX -> _collapse_repeat: three or more of one character -> one ("xxx" for x)
    cdef Py_ssize_t i = 0, j
    cdef uint32_t xxx[3]
    xxx[0] = xxx[1] = xxx[2] = 0x78
    while i < s.n:
        j = i + 1
        if _repeatable(s.c[i]):
            while j < s.n and s.c[j] == s.c[i]:
                j += 1
        if j - i >= 3:
            if s.c[i] == 0x78:
                _replace(d, s, i, j, xxx, 3)
            else:
                _replace(d, s, i, j, &s.c[i], 1)
        else:
            _copy(d, s, i, j)
        i = j
    return 0


cdef int _latin_tokens(Buf* d, Buf* s) except -1:
    # _LATIN_TOKEN_RX -> _latin_token: tokens of letters only or digits only stay, the others go
    # through the Python splitter
    cdef Py_ssize_t i = 0, j
    cdef bint alpha, digits
    cdef str tok
    while i < s.n:
        if not _latin_token_char(s.c[i]):
            _push(d, s.c[i], s.st[i], s.en[i])
            i += 1
            continue
        j = i
        alpha = digits = True
        while j < s.n and _latin_token_char(s.c[j]):
            alpha = alpha and _lower(s.c[j])
            digits = digits and _digit(s.c[j])
            j += 1
        if alpha or digits:
            _copy(d, s, i, j)
        else:
            tok = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, &s.c[i], j - i)
            _replace_str(d, s, i, j, _latin_splitter(tok))
        i = j
    return 0


cdef bint _after_fragment(Buf* s, Py_ssize_t end, bint word_sep) noexcept:
    # normalize._thai_join: the Thai run that ends at ``end`` is one _THAI_FRAGMENT_RX, and not
    # a whole syllable when the separator after it holds "_" or "-" (``word_sep``)
    cdef Py_ssize_t start = end, k
    while start > 0 and end - start <= 5 and _thai(s.c[start - 1]):
        start -= 1
    if end - start > 5 or end == start:
        return False
    k = start
    if 0x0E40 <= s.c[k] <= 0x0E44:
        k += 1
        if k == end:
            return True  # a leading vowel alone
    if k >= end or not _consonant(s.c[k]):
        return False
    k += 1
    if end - k > 3:
        return False
    cdef bint tone = False
    while k < end:
        if not (_combining(s.c[k]) or s.c[k] == 0x0E30 or s.c[k] == 0x0E32 or s.c[k] == 0x0E33 or s.c[k] == 0x0E45):
            return False
        tone = tone or 0x0E48 <= s.c[k] <= 0x0E4B
        k += 1
    # normalize._THAI_SYLLABLE_RX: a leading vowel, a consonant and a tone mark are a syllable;
    # and the last letter of a word spread out with spaces ends a word
    if word_sep and start > 0 and s.c[start - 1] == 0x20:
        return False
    return not (word_sep and tone and 0x0E40 <= s.c[start] <= 0x0E44)


cdef int _thai_join(Buf* d, Buf* s) except -1:
    # _THAI_JOIN_RX -> _thai_join: (?<=[THAI])[.\-_*~]+(?=[THAI0-9]) goes after one Thai letter
    # with its marks, and stays after a whole word
    cdef Py_ssize_t i = 0, j
    cdef bint word_sep
    while i < s.n:
        if _join_punct(s.c[i]) and i > 0 and _thai(s.c[i - 1]):
            j = i
            word_sep = False
            while j < s.n and _join_punct(s.c[j]):
                word_sep = word_sep or s.c[j] == 0x5F or s.c[j] == 0x2D
                j += 1
            if j < s.n and (_thai(s.c[j]) or _digit(s.c[j])) and _after_fragment(s, i, word_sep):
                i = j
                continue
            _copy(d, s, i, j)
            i = j
            continue
        _push(d, s.c[i], s.st[i], s.en[i])
        i += 1
    return 0


cdef int _join_match(Buf* d, Buf* s, Py_ssize_t a, Py_ssize_t b) except -1:
    # _join_spread: the piece without " ._-*~", mapped to the whole piece
    cdef Py_ssize_t k, rn = 0
    cdef uint32_t* r = <uint32_t*>malloc((b - a + 1) * sizeof(uint32_t))
    if r == NULL:
        raise MemoryError()
    try:
        for k in range(a, b):
            if not (s.c[k] == 0x20 or s.c[k] == 0x2E or _join_punct(s.c[k])):
                r[rn] = s.c[k]
                rn += 1
        _replace(d, s, a, b, r, rn)
    finally:
        free(r)
    return 0


cdef Py_ssize_t _single_letters(Buf* s, Py_ssize_t i, uint32_t sep, Py_ssize_t* reps) noexcept:
    # (?:<sep>[a-z](?![a-z0-9]))* after s[i], greedy: where it ends, and how many it took
    cdef Py_ssize_t j = i + 1
    while (
        j + 1 < s.n and s.c[j] == sep and _lower(s.c[j + 1])
        and not (j + 2 < s.n and _lower_or_digit(s.c[j + 2]))
    ):
        j += 2
        reps[0] += 1
    return j


cdef Py_ssize_t _dotted_end(Buf* s, Py_ssize_t i) noexcept:
    # _LATIN_DOTTED_RX at i: (?<![a-z0-9.])[a-z](?:\.[a-z](?![a-z0-9])){1,}(?:\.(?![a-z0-9]))?
    if not _lower(s.c[i]) or (i > 0 and (_lower_or_digit(s.c[i - 1]) or s.c[i - 1] == 0x2E)):
        return -1
    cdef Py_ssize_t reps = 0
    cdef Py_ssize_t j = _single_letters(s, i, 0x2E, &reps)
    if reps == 0:
        return -1
    if j < s.n and s.c[j] == 0x2E and not (j + 1 < s.n and _lower_or_digit(s.c[j + 1])):
        j += 1
    return j


cdef Py_ssize_t _joined_end(Buf* s, Py_ssize_t i) noexcept:
    # _LATIN_JOINED_RX at i:
    # (?<![a-z0-9_\-])[a-z]([_\-])[a-z](?![a-z0-9])(?:\1[a-z](?![a-z0-9]))+ ; -1 if none
    if not _lower(s.c[i]) or i + 1 >= s.n:
        return -1
    if i > 0 and (_lower_or_digit(s.c[i - 1]) or s.c[i - 1] == 0x5F or s.c[i - 1] == 0x2D):
        return -1
    cdef uint32_t sep = s.c[i + 1]
    if sep != 0x5F and sep != 0x2D:
        return -1
    cdef Py_ssize_t reps = 0
    cdef Py_ssize_t j = _single_letters(s, i, sep, &reps)
    return j if reps >= 2 else -1


cdef inline bint _leet_digit(uint32_t c) noexcept:
    return c == 0x30 or c == 0x31 or c == 0x33 or c == 0x34 or c == 0x35 or c == 0x37


cdef inline uint32_t _unleet(uint32_t c) noexcept:
    if c == 0x30:
        return 0x6F
    if c == 0x31:
        return 0x69
    if c == 0x33:
        return 0x65
    if c == 0x34:
        return 0x61
    if c == 0x35:
        return 0x73
    if c == 0x37:
        return 0x74
    return c


cdef Py_ssize_t _leet_spread_end(Buf* s, Py_ssize_t i) noexcept:
    # _LEET_SPREAD_RX at i:
    # (?<![a-z0-9])[a-z] [a-z013457](?: [a-z013457](?![a-z0-9+]))+ ; -1 if none
    if not _lower(s.c[i]) or (i > 0 and _lower_or_digit(s.c[i - 1])) or i + 2 >= s.n:
        return -1
    cdef uint32_t sep = 0x20
    if s.c[i + 1] != sep:
        return -1
    if not (_lower(s.c[i + 2]) or _leet_digit(s.c[i + 2])):
        return -1
    cdef Py_ssize_t j = i + 3, reps = 0
    while (
        j + 1 < s.n and s.c[j] == sep and (_lower(s.c[j + 1]) or _leet_digit(s.c[j + 1]))
        and not (j + 2 < s.n and (_lower_or_digit(s.c[j + 2]) or s.c[j + 2] == 0x2B))
    ):
        j += 2
        reps += 1
    return j if reps >= 1 else -1


cdef bint _leet_spread_ok(Buf* s, Py_ssize_t a, Py_ssize_t b) noexcept:
    # _join_leet_spread's test: a digit, two letters or more, no two digits in a row
    cdef Py_ssize_t k, letters = 0, digits = 0
    cdef bint prev = False
    for k in range(a, b, 2):
        if _digit(s.c[k]):
            if prev:
                return False
            digits += 1
            prev = True
        else:
            letters += 1
            prev = False
    return digits > 0 and letters >= 2


cdef int _join_leet(Buf* d, Buf* s) except -1:
    # _LEET_SPREAD_RX -> _join_leet_spread: every other character, de-leeted, mapped to the
    # whole piece; a piece that fails the test is copied as it is and scanning goes on after it
    cdef Py_ssize_t i = 0, e, k, rn
    cdef uint32_t* r
    while i < s.n:
        e = _leet_spread_end(s, i)
        if e < 0:
            _push(d, s.c[i], s.st[i], s.en[i])
            i += 1
        elif not _leet_spread_ok(s, i, e):
            _copy(d, s, i, e)
            i = e
        else:
            r = <uint32_t*>malloc((e - i + 1) * sizeof(uint32_t))
            if r == NULL:
                raise MemoryError()
            try:
                rn = 0
                for k in range(i, e, 2):
                    r[rn] = _unleet(s.c[k])
                    rn += 1
                _replace(d, s, i, e, r, rn)
            finally:
                free(r)
            i = e
    return 0


cdef int _leet_stage(Buf* b, Buf* a) except -1:
    # The leetspeak stage where a digit it could join is present (as ``_stages`` gates it);
    # the result is left in a, as after any stage and ``_next``
    cdef Py_ssize_t i
    for i in range(a.n):
        if _leet_digit(a.c[i]):
            _join_leet(b, a)
            _next(a, b)
            return 0
    return 0


cdef Py_ssize_t _spread_end(Buf* s, Py_ssize_t i) noexcept:
    # _LATIN_SPREAD_RX at i: (?<![a-z0-9])[a-z](?: [a-z](?![a-z0-9])){2,} ; -1 if none
    if not _lower(s.c[i]) or (i > 0 and _lower_or_digit(s.c[i - 1])):
        return -1
    cdef Py_ssize_t reps = 0
    cdef Py_ssize_t j = _single_letters(s, i, 0x20, &reps)
    return j if reps >= 2 else -1


cdef Py_ssize_t _fragment_end(Buf* s, Py_ssize_t i) noexcept:
    # _THAI_FRAGMENT at i: (?:[\u0e40-\u0e44]?[CONSONANT][COMBINING\u0e30\u0e32\u0e33\u0e45]?
    # |[\u0e40-\u0e44\u0e30\u0e32\u0e33]) ; -1 if none
    if i >= s.n:
        return -1
    if s.c[i] == 0x0E30 or s.c[i] == 0x0E32 or s.c[i] == 0x0E33:
        return i + 1
    if 0x0E40 <= s.c[i] <= 0x0E44:
        if i + 1 >= s.n or not _consonant(s.c[i + 1]):
            return i + 1  # a leading vowel standing alone
        i += 1
    if not _consonant(s.c[i]):
        return -1
    i += 1
    if i < s.n and (
        _combining(s.c[i]) or s.c[i] == 0x0E30 or s.c[i] == 0x0E32 or s.c[i] == 0x0E33
        or s.c[i] == 0x0E45
    ):
        i += 1
    return i


cdef Py_ssize_t _thai_spread_end(Buf* s, Py_ssize_t i) noexcept:
    # _THAI_SPREAD_RX at i: (?<![THAI])FRAG(?: FRAG(?![THAI])){2,} ; -1 if none
    if i > 0 and _thai(s.c[i - 1]):
        return -1
    cdef Py_ssize_t j = _fragment_end(s, i), k, reps = 0
    if j < 0:
        return -1
    while j < s.n and s.c[j] == 0x20:
        k = _fragment_end(s, j + 1)
        if k < 0 or (k < s.n and _thai(s.c[k])):
            break
        j = k
        reps += 1
    return j if reps >= 2 else -1


cdef int _join(Buf* d, Buf* s, int which) except -1:
    # Joins spread-out letters: which = 0 dotted Latin, 1 spaced Latin, 2 spaced Thai, 3 Latin
    # joined by one underscore or hyphen
    cdef Py_ssize_t i = 0, e
    while i < s.n:
        if which == 0:
            e = _dotted_end(s, i)
        elif which == 3:
            e = _joined_end(s, i)
        elif which == 1:
            e = _spread_end(s, i)
        else:
            e = _thai_spread_end(s, i)
        if e < 0:
            _push(d, s.c[i], s.st[i], s.en[i])
            i += 1
        else:
            _join_match(d, s, i, e)
            i = e
    return 0


cdef int _separators(Buf* s) except -1:
    # _SEPARATOR_RX -> " ": (?<![0-9])\+|\+(?=[a-z0-9_THAI])|[^\w+\u0e00-\u0e7f]|_ (one
    # character each, in place, looking ahead at the original next character)
    cdef Py_ssize_t i
    cdef uint32_t c
    for i in range(s.n):
        c = s.c[i]
        if c == 0x2B:
            if i == 0 or not _digit(s.c[i - 1]) or (
                i + 1 < s.n and (_word_ascii(s.c[i + 1]) or _thai(s.c[i + 1]))
            ):
                c = 0x20
        elif c == 0x5F or (not _thai(c) and not _word_ascii(c)):
            c = 0x20
        s.c[i] = c
    return 0


cdef int _collapse_spaces(Buf* d, Buf* s) except -1:
    # _MULTISPACE_RX: two or more spaces -> one
    cdef Py_ssize_t i = 0, j
    while i < s.n:
        j = i + 1
        if s.c[i] == 0x20:
            while j < s.n and s.c[j] == 0x20:
                j += 1
        if j - i >= 2:
            _replace(d, s, i, j, &s.c[i], 1)
        else:
            _push(d, s.c[i], s.st[i], s.en[i])
        i = j
    return 0


def normalize_with_map(str text):
    """(normalised text, starts, ends) as ``normalize.normalize_with_map`` gives them, or None
    for text with characters this module leaves to the Python stages."""
    if _latin_splitter is None or _char_folder is None or _case_fixer is None:
        raise RuntimeError("ocsea.text.normalize sets this module's Python functions: import it")
    cdef Py_ssize_t n = len(text), i, lo, hi, before
    cdef Buf a, b
    cdef uint32_t c
    cdef Py_UCS4 ch
    cdef bint ascii_only = True, has_dot = False
    _init(&a, n + 8)
    try:
        _init(&b, n + 8)
    except MemoryError:
        _free(&a)
        raise
    try:
        for i in range(n):
            ch = text[i]
            _push(&a, <uint32_t>ch, <int32_t>i, <int32_t>(i + 1))
        _drop_controls_and_spaces(&b, &a)
        _next(&a, &b)
        for i in range(a.n):
            if a.c[i] >= 0x80:
                ascii_only = False
                break
        if not ascii_only:
            _fold(&b, &a)
            _next(&a, &b)
            for i in range(a.n):
                # What folding leaves outside ASCII and plain Thai goes through a case-folding
                # stage in Python: such text is left to the Python stages.
                if a.c[i] >= 0x80 and (not _thai(a.c[i]) or _fold_thai(a.c[i]) != a.c[i]):
                    return None
        _fix_case(&a)
        _camel(&b, &a)
        _next(&a, &b)
        if not ascii_only:
            _thai_marks(&b, &a)
            _next(&a, &b)
        for i in range(a.n):
            if _upper(a.c[i]):
                a.c[i] += 0x20
        _collapse_repeats(&b, &a)
        _next(&a, &b)
        _latin_tokens(&b, &a)
        _next(&a, &b)
        if not ascii_only:
            _thai_join(&b, &a)
            _next(&a, &b)
        for i in range(a.n):
            if a.c[i] == 0x2E:
                has_dot = True
                break
        if has_dot:
            _join(&b, &a, 0)
            _next(&a, &b)
        for i in range(a.n):
            if a.c[i] == 0x5F or a.c[i] == 0x2D:
                _join(&b, &a, 3)
                _next(&a, &b)
                break
        _separators(&a)
        _leet_stage(&b, &a)
        # Letters spread out within a word are joined before runs of spaces merge, so that
        # the gaps between words stay ("P R E T E E N   X X X" is two words).
        _join(&b, &a, 1)
        _next(&a, &b)
        _collapse_spaces(&b, &a)
        _next(&a, &b)
        while True:
            # Joining and collapsing until nothing changes; a change always shortens the text.
            before = a.n
            _leet_stage(&b, &a)
            _join(&b, &a, 1)
            _next(&a, &b)
            if not ascii_only:
                _join(&b, &a, 2)
                _next(&a, &b)
                _thai_marks(&b, &a)
                _next(&a, &b)
            _collapse_repeats(&b, &a)
            _next(&a, &b)
            if a.n == before:
                break
        lo = 0
        hi = a.n
        while lo < hi and a.c[lo] == 0x20:
            lo += 1
        while hi > lo and a.c[hi - 1] == 0x20:
            hi -= 1
        out = PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, &a.c[lo], hi - lo)
        starts = tuple([a.st[i] for i in range(lo, hi)])
        ends = tuple([a.en[i] for i in range(lo, hi)])
        return out, starts, ends
    finally:
        _free(&a)
        _free(&b)
