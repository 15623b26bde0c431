# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""The linear model's n-gram sum in C: every distinct 2–4-gram of a padded text and every word
token, looked up in the model's vocabulary, summed once each.

The Python reference (``features.ngrams`` and ``LinearModel.probs``) built a substring and a set
entry per n-gram and looked each up in a dict: about 40 µs a filename of the benchmark's 100k. Here
an n-gram of characters from the Basic Multilingual Plane is packed into one 64-bit key (16 bits
a character; NUL never occurs in a key, so shorter n-grams cannot collide with longer ones) and
looked up in an open-addressing table; the few n-grams outside the BMP, and the word tokens, go
through dicts. A test checks it against the reference on any text (hypothesis).
"""

from libc.stdint cimport int32_t, int64_t, uint64_t
from libc.math cimport exp, sqrt
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memset

import numpy as np

cdef uint64_t _EMPTY = 0


cdef struct Slot:
    uint64_t key
    int64_t val  # key and index side by side: one cache line per probe (a 2 MB table)
cdef int _LOCAL_SLOTS = 4096


cdef inline uint64_t _mix(uint64_t key) noexcept nogil:
    key ^= key >> 31
    key *= <uint64_t>0x9E3779B97F4A7C15
    key ^= key >> 29
    return key


cdef inline bint _pack(str s, Py_ssize_t start, int n, uint64_t* out):
    """Pack s[start:start+n] into one key; false if a character is NUL or outside the BMP."""
    cdef uint64_t key = 0
    cdef Py_UCS4 c
    cdef int k
    for k in range(n):
        c = s[start + k]
        if c == 0 or c > 0xFFFF:
            return False
        key |= (<uint64_t>c) << (16 * k)
    out[0] = key
    return True


cdef class NgramScorer:
    """Sums the weights of a text's distinct vocabulary n-grams, as ``LinearModel.probs`` does."""

    cdef Slot* _slots
    cdef uint64_t _mask
    cdef int _shift
    cdef dict _other  # character n-grams that do not pack (outside the BMP) -> index
    cdef dict _words  # word token (without the "w=" prefix) -> index
    cdef double[::1] _re
    cdef double[::1] _im
    cdef double[::1] _pull
    cdef int _nmin
    cdef int _nmax
    cdef double _bias_re, _bias_im, _temperature
    cdef double[::1] _dense_re
    cdef double[::1] _dense_im
    cdef bint _linear
    cdef list _names
    cdef Py_ssize_t _max_chars
    cdef Py_ssize_t _max_words

    def __init__(self, dict vocab, re, im, pull, int nmin=2, int nmax=4):
        """``vocab`` maps n-gram to index; ``re``/``im`` are the two weight differences per index;
        ``pull`` each n-gram's pull towards csa (for the model reason)."""
        if not 1 <= nmin <= nmax <= 4:
            raise ValueError("n-gram lengths must lie within 1..4")
        cdef Py_ssize_t n = len(vocab)
        self._re = np.ascontiguousarray(re, dtype=np.float64)
        self._im = np.ascontiguousarray(im, dtype=np.float64)
        self._pull = np.ascontiguousarray(pull, dtype=np.float64)
        if not (self._re.shape[0] == self._im.shape[0] == self._pull.shape[0] == n):
            raise ValueError("one weight per n-gram is needed")
        self._nmin, self._nmax = nmin, nmax
        cdef Py_ssize_t size = 16
        while size < n + n // 2 + 16:
            size *= 2
        self._shift = 64
        cdef Py_ssize_t s = size
        while s > 1:
            s //= 2
            self._shift -= 1
        self._mask = size - 1
        free(self._slots)
        self._slots = <Slot*>calloc(size, sizeof(Slot))
        if self._slots == NULL:
            raise MemoryError()
        self._other = {}
        self._words = {}
        cdef uint64_t key
        cdef Py_ssize_t j
        cdef str g
        for g, j in vocab.items():
            if not 0 <= j < n:
                raise ValueError(f"n-gram index {j} outside 0..{n - 1}")
            if g.startswith("w="):
                self._words.setdefault(g[2:], j)
            if nmin <= len(g) <= nmax:
                if _pack(g, 0, len(g), &key):
                    self._insert(key, <int32_t>j)
                else:
                    self._other.setdefault(g, j)

    def set_linear(self, double bias_re, double bias_im, dense_re, dense_im, double temperature):
        """The rest of the model for ``probs``: the bias and dense-feature weights (each less the
        third label's, as the n-gram weights), and the softmax temperature."""
        self._dense_re = np.ascontiguousarray(dense_re, dtype=np.float64)
        self._dense_im = np.ascontiguousarray(dense_im, dtype=np.float64)
        if self._dense_re.shape[0] != self._dense_im.shape[0]:
            raise ValueError("one weight per dense feature is needed")
        if not temperature > 0:
            raise ValueError("the temperature must be positive")
        self._bias_re, self._bias_im, self._temperature = bias_re, bias_im, temperature
        self._linear = True

    def set_text_features(self, list names, Py_ssize_t max_chars, Py_ssize_t max_words):
        """What ``score_text`` needs: the n-grams in index order (for the reason), and how much
        of a text and how many of its tokens are features (as ``features.ngrams`` takes them)."""
        if len(names) != self._pull.shape[0]:
            raise ValueError("one name per n-gram is needed")
        if max_chars < 0 or max_words < 0:
            raise ValueError("the feature limits cannot be negative")
        self._names, self._max_chars, self._max_words = names, max_chars, max_words

    def score_text(self, str text, tokens, dense, int k=3):
        """(probabilities, the top n-grams as (n-gram, pull / sqrt(distinct n-grams))) for a
        normalised text and its tokens (objects with ``.text``): ``LinearModel.score_text``
        without its Python steps (7 -> 5 µs a filename)."""
        if self._names is None:
            raise ValueError("set_text_features first")
        cdef str padded = " " + text[: self._max_chars] + " "
        cdef Py_ssize_t m = len(tokens), i
        if m > self._max_words:
            m = self._max_words
        cdef list words = [tokens[i].text for i in range(m)]
        p, n, top = self.probs(padded, words, dense, k)
        if not top:
            return p, []
        cdef double inv = 1.0 / sqrt(<double>n)
        return p, [(self._names[j], self._pull[j] * inv) for j in top]

    def probs(self, str padded, words, dense, int k=3):
        """(probabilities of the three labels, number of distinct vocabulary n-grams, the top
        n-grams as ``score`` gives them): ``LinearModel.probs`` computed the same way, operation
        for operation, so the numbers are the same."""
        if not self._linear:
            raise ValueError("set_linear first")
        sre, sim, n, top = self.score(padded, words, k)
        cdef Py_ssize_t nd = len(dense), j
        if nd != self._dense_re.shape[0]:
            raise ValueError(f"{self._dense_re.shape[0]} dense features are needed, got {nd}")
        cdef double zr = self._bias_re, zi = self._bias_im, x, r
        cdef Py_ssize_t count = n
        if count:
            r = sqrt(<double>count)
            zr += <double>sre / r
            zi += <double>sim / r
        for j in range(nd):
            x = dense[j]
            if x:
                zr += self._dense_re[j] * x
                zi += self._dense_im[j] * x
        cdef double t = self._temperature
        cdef double top_l = zr
        if zi > top_l:
            top_l = zi
        if 0.0 > top_l:
            top_l = 0.0
        cdef double e0 = exp((zr - top_l) / t), e1 = exp((zi - top_l) / t), e2 = exp((0.0 - top_l) / t)
        cdef double total = e0 + e1 + e2
        return [e0 / total, e1 / total, e2 / total], n, top

    cdef void _insert(self, uint64_t key, int32_t j) noexcept:
        cdef uint64_t slot = _mix(key) >> self._shift
        while self._slots[slot].key != _EMPTY:
            if self._slots[slot].key == key:
                return
            slot = (slot + 1) & self._mask
        self._slots[slot].key = key
        self._slots[slot].val = j

    cdef inline int32_t _lookup(self, uint64_t key) noexcept:
        cdef uint64_t slot = _mix(key) >> self._shift
        cdef uint64_t k
        while True:
            k = self._slots[slot].key
            if k == key:
                return <int32_t>self._slots[slot].val
            if k == _EMPTY:
                return -1
            slot = (slot + 1) & self._mask

    def __dealloc__(self):
        free(self._slots)

    def score(self, str padded, words, int k=3):
        """(sum of re, sum of im, number of distinct vocabulary n-grams, the k indices with the
        largest positive pull, largest first, ties to the larger index) for the n-grams of
        ``padded`` and the word tokens ``words``."""
        cdef Py_ssize_t L = len(padded)
        cdef Py_ssize_t cap = 0
        cdef int n
        for n in range(self._nmin, self._nmax + 1):
            if L >= n:
                cap += L - n + 1
        cap += len(words)
        cdef Py_ssize_t slots = 64
        while slots < 2 * cap:
            slots *= 2
        cdef int32_t local[4096]
        cdef int32_t* seen = local
        if slots > _LOCAL_SLOTS:
            seen = <int32_t*>malloc(slots * sizeof(int32_t))
            if seen == NULL:
                raise MemoryError()
        memset(seen, 0xFF, slots * sizeof(int32_t))
        cdef uint64_t smask = slots - 1
        cdef double sre = 0.0, sim = 0.0
        cdef Py_ssize_t count = 0
        cdef int32_t top[8]
        cdef int kk = k if 0 <= k <= 8 else 8
        cdef int ntop = 0
        cdef Py_ssize_t i
        cdef uint64_t key
        cdef int32_t j
        try:
            for n in range(self._nmin, self._nmax + 1):
                for i in range(L - n + 1):
                    if _pack(padded, i, n, &key):
                        j = self._lookup(key)
                    else:
                        j = self._other.get(padded[i : i + n], -1)
                    if j >= 0 and _add(seen, smask, j):
                        sre += self._re[j]
                        sim += self._im[j]
                        count += 1
                        ntop = self._keep_top(top, ntop, kk, j)
            for w in words:
                j = self._words.get(w, -1)
                if j >= 0 and _add(seen, smask, j):
                    sre += self._re[j]
                    sim += self._im[j]
                    count += 1
                    ntop = self._keep_top(top, ntop, kk, j)
        finally:
            if seen != local:
                free(seen)
        return sre, sim, count, [top[i] for i in range(ntop)]

    cdef inline int _keep_top(self, int32_t* top, int ntop, int k, int32_t j) noexcept:
        """Insert j into the best-first list of at most k indices with a positive pull."""
        cdef double p = self._pull[j]
        if p <= 0.0 or k == 0:
            return ntop
        cdef int pos = ntop
        while pos > 0 and _better(p, j, self._pull[top[pos - 1]], top[pos - 1]):
            pos -= 1
        if pos >= k:
            return ntop
        cdef int last = ntop if ntop < k else k - 1
        while last > pos:
            top[last] = top[last - 1]
            last -= 1
        top[pos] = j
        return ntop + 1 if ntop < k else k


cdef inline bint _better(double p, int32_t j, double q, int32_t i) noexcept:
    return p > q or (p == q and j > i)


cdef inline bint _add(int32_t* seen, uint64_t mask, int32_t j) noexcept:
    """Add j to the per-call set; false if it was there already."""
    cdef uint64_t slot = _mix(<uint64_t>j + 1) & mask
    while True:
        if seen[slot] == j:
            return False
        if seen[slot] < 0:
            seen[slot] = j
            return True
        slot = (slot + 1) & mask
