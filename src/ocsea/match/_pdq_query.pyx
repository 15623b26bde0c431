# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The probe, gather and verify loop of ``PdqIndex.query`` in C.

A query is bound by memory latency, not arithmetic: at 1 M hashes it reads ~1,300 bucket offsets,
~2,000 bucket entries and ~2,000 hashes, each a cache miss at a random place. NumPy's gathers wait
for these one at a time (the hash gather alone took 160 µs a query, 80 ns a candidate); here every
phase prefetches ``_AHEAD`` items in advance, so that many misses are in flight at once.

Duplicates (a hash within the radius of several chunks is found through each) are dropped in one
of two ways, with the same result. Usually without a set: a hit is kept only when found through
the first chunk whose radius it is within, a chunk bound to find it (pigeonhole), so each hit is
kept exactly once. Where buckets are crowded (dense clusters of near-duplicates: ~12,000
candidates for 1,000 hits at 1 M hashes) a set drops repeated positions before their hashes are
read (1 M hashes, 1,000 hits a query: 250 → 147 µs; with few candidates a bucket it cost 10 %).

Results are those of ``PdqIndex.brute_force``: (id, distance) by distance, then by position.
"""

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc
from libc.string cimport memcpy, memset

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(object op)

import numpy as np

cdef extern from *:
    """
    #include <stdint.h>
    #if defined(__GNUC__) || defined(__clang__)
    #define OCSEA_PREFETCH(p) __builtin_prefetch((const void *)(p))
    #else
    #define OCSEA_PREFETCH(p) ((void)(p))
    #endif
    /* Portable bit counts (the build sets no -mpopcnt): bytes of counts, summed once. */
    static inline uint64_t ocsea_byte_counts(uint64_t x) {
        x = x - ((x >> 1) & 0x5555555555555555ULL);
        x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
        return (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;  /* each byte <= 8 */
    }
    static inline int ocsea_popcount(uint64_t x) {
        return (int)((ocsea_byte_counts(x) * 0x0101010101010101ULL) >> 56);
    }
    static inline int ocsea_distance(const uint64_t *a, const uint64_t *b) {
        uint64_t s = ocsea_byte_counts(a[0] ^ b[0]) + ocsea_byte_counts(a[1] ^ b[1])
                   + ocsea_byte_counts(a[2] ^ b[2]) + ocsea_byte_counts(a[3] ^ b[3]);
        return (int)((s * 0x0101010101010101ULL) >> 56);  /* each byte <= 32 */
    }
    """
    void OCSEA_PREFETCH(const void *p) noexcept nogil
    int ocsea_popcount(uint64_t x) noexcept nogil
    int ocsea_distance(const uint64_t* a, const uint64_t* b) noexcept nogil

cdef enum:
    _AHEAD = 16  # items prefetched ahead in each phase
    _POS_BITS = 56  # a candidate is (chunk << 56 | position)
    _MAX_CHUNKS = 256

cdef uint64_t _POS_MASK = (<uint64_t>1 << _POS_BITS) - 1


cdef struct Probe:
    int64_t table  # where its chunk's bucket offsets start in the offsets array
    int64_t order  # where its chunk's bucket entries start in the order array (chunk × n)
    uint64_t mask  # the bits it flips in the query's chunk value
    int64_t chunk


cdef struct Chunk:
    int word  # the 64-bit word the chunk starts in
    int off  # its first bit in that word, from the most significant
    int size
    int radius  # probed within this many bits; -1: not probed


cdef inline uint64_t _chunk_value(const uint64_t* x, const Chunk* ch) noexcept nogil:
    """Bits [start, start + size) of a 256-bit value as four big-endian words (at most two)."""
    cdef int hi, lo
    if ch.off + ch.size <= 64:
        return (x[ch.word] >> (64 - ch.off - ch.size)) & ((<uint64_t>1 << ch.size) - 1)
    hi = 64 - ch.off
    lo = ch.size - hi
    return ((x[ch.word] & ((<uint64_t>1 << hi) - 1)) << lo) | (x[ch.word + 1] >> (64 - lo))


cdef inline void _insertion_sort(uint64_t* keys, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i, j
    cdef uint64_t k
    for i in range(1, n):
        k = keys[i]
        j = i - 1
        while j >= 0 and keys[j] > k:
            keys[j + 1] = keys[j]
            j -= 1
        keys[j + 1] = k


cdef int _sort(uint64_t* keys, Py_ssize_t n, int key_bits) noexcept nogil:
    """Ascending keys of ``key_bits`` bits: insertion sort for the few hits of most queries, a
    radix sort (8 bits a pass) for many; -1 if out of memory. (1,001 hits a query: glibc's qsort
    took 15 % of the query.)"""
    cdef Py_ssize_t i, total
    cdef Py_ssize_t count[256]
    cdef int shift, d
    cdef uint64_t* tmp
    cdef uint64_t* src = keys
    cdef uint64_t* dst
    if n <= 48:
        _insertion_sort(keys, n)
        return 0
    tmp = <uint64_t*>malloc(n * sizeof(uint64_t))
    if tmp == NULL:
        return -1
    dst = tmp
    for shift in range(0, key_bits, 8):
        memset(count, 0, sizeof(count))
        for i in range(n):
            count[(src[i] >> shift) & 255] += 1
        total = 0
        for d in range(256):
            total, count[d] = total + count[d], total
        for i in range(n):
            d = (src[i] >> shift) & 255
            dst[count[d]] = src[i]
            count[d] += 1
        src, dst = dst, src
    if src != keys:
        memcpy(keys, src, n * sizeof(uint64_t))
    free(tmp)
    return 0


cdef Py_ssize_t _unique(uint64_t* cand, Py_ssize_t total) noexcept nogil:
    """Drops repeated positions from tagged candidates in place (first one kept), through an
    open-addressing set; returns how many are left, -1 if out of memory."""
    cdef Py_ssize_t i, k = 0
    cdef int bits = 4
    cdef uint64_t pos, h, slot_mask
    cdef uint64_t* slots
    while (<Py_ssize_t>1 << bits) < 2 * total:
        bits += 1
    slot_mask = (<uint64_t>1 << bits) - 1
    slots = <uint64_t*>calloc(slot_mask + 1, sizeof(uint64_t))  # 0: empty, else position + 1
    if slots == NULL:
        return -1
    for i in range(total):
        pos = cand[i] & _POS_MASK
        h = (pos * <uint64_t>0x9E3779B97F4A7C15) >> (64 - bits)
        while slots[h] != 0 and slots[h] != pos + 1:
            h = (h + 1) & slot_mask
        if slots[h] == 0:
            slots[h] = pos + 1
            cand[k] = cand[i]  # k <= i
            k += 1
    free(slots)
    return k


cdef class Searcher:
    """The arrays of one ``PdqIndex`` and its probes for one distance, answering queries.

    Holds pointers into the index's arrays (memory-mapped ones included) and keeps the arrays
    alive; never writes to them. Safe to share between threads: a query allocates its own
    buffers, and runs without the GIL."""

    cdef object _arrays
    cdef const uint64_t* _words
    cdef const int64_t* _ids
    cdef const char* _order
    cdef const char* _offsets
    cdef int _order_size  # bytes an entry: 4 (uint32) or 8 (uint64)
    cdef int _offset_size  # 4 (int32) or 8 (int64)
    cdef Py_ssize_t _n
    cdef int _m
    cdef int _max_distance
    cdef int _pos_bits  # bits of a position (a hit is distance << _pos_bits | position)
    cdef public double crowded
    cdef Chunk _chunks[_MAX_CHUNKS]
    cdef Probe* _probes
    cdef readonly Py_ssize_t n_probes

    def __cinit__(self):
        self._probes = NULL

    def __dealloc__(self):
        free(self._probes)

    def __init__(self, words, ids, order, offsets, offset_base, sizes, radii, masks, chunk,
                 int max_distance, double crowded=3.0):
        """``words`` (n, 4) uint64, ``ids`` int64, ``order`` uint32/uint64, ``offsets``
        int32/int64, ``offset_base`` int64 per chunk: the arrays of ``PdqIndex``; ``sizes`` and
        ``radii`` per chunk; ``masks`` and ``chunk`` per probe. Candidates are de-duplicated by
        a set when there are more than ``crowded`` a non-empty bucket (else by chunk); the
        results are the same either way."""
        cdef Py_ssize_t p, n = words.shape[0]
        cdef int c, start = 0
        if len(sizes) > _MAX_CHUNKS or len(sizes) != len(radii):
            raise ValueError(f"at most {_MAX_CHUNKS} chunks, one radius each")
        if ids.shape[0] != n or order.shape[0] != n * len(sizes):
            raise ValueError("index arrays differ in length")
        self._arrays = (words, ids, order, offsets)
        self._n = n
        self._m = len(sizes)
        self._max_distance = max_distance
        self._pos_bits = max(1, int(n).bit_length())
        self.crowded = crowded
        self._words = <const uint64_t*>_address(words, np.uint64, 2)
        self._ids = <const int64_t*>_address(ids, np.int64, 1)
        self._order_size = _width(order, np.uint32, np.uint64)
        self._order = <const char*>_address(order, order.dtype, 1)
        self._offset_size = _width(offsets, np.int32, np.int64)
        self._offsets = <const char*>_address(offsets, offsets.dtype, 1)
        for c in range(self._m):
            self._chunks[c].word = start // 64
            self._chunks[c].off = start % 64
            self._chunks[c].size = sizes[c]
            self._chunks[c].radius = radii[c]
            start += sizes[c]
        cdef const int64_t[::1] mk = np.ascontiguousarray(masks, dtype=np.int64)
        cdef const int64_t[::1] ck = np.ascontiguousarray(chunk, dtype=np.int64)
        cdef const int64_t[::1] tb = np.ascontiguousarray(offset_base, dtype=np.int64)
        self.n_probes = mk.shape[0]
        self._probes = <Probe*>malloc(max(1, self.n_probes) * sizeof(Probe))
        if self._probes == NULL:
            raise MemoryError()
        for p in range(self.n_probes):
            c = <int>ck[p]
            self._probes[p].table = tb[c]
            self._probes[p].order = <int64_t>c * n
            self._probes[p].mask = <uint64_t>mk[p]
            self._probes[p].chunk = c

    cdef inline int64_t _offset(self, int64_t i) noexcept nogil:
        if self._offset_size == 8:
            return (<const int64_t*>self._offsets)[i]
        return (<const int32_t*>self._offsets)[i]

    cdef inline uint64_t _entry(self, int64_t i) noexcept nogil:
        if self._order_size == 8:
            return (<const uint64_t*>self._order)[i]
        return (<const uint32_t*>self._order)[i]

    cdef int _first_chunk(self, const uint64_t* x) noexcept nogil:
        """The first chunk within whose radius the differing bits ``x`` are."""
        cdef int c
        for c in range(self._m):
            if ocsea_popcount(_chunk_value(x, &self._chunks[c])) <= self._chunks[c].radius:
                return c
        return -1

    cdef Py_ssize_t _buckets(self, const uint64_t* q, int64_t* start, int64_t* length,
                             int64_t* chunk, Py_ssize_t* total) noexcept nogil:
        """Phase 1: every probe's bucket (start in the order array, length, chunk), empty ones
        left out; returns how many, and their total length in ``total``."""
        cdef uint64_t value[_MAX_CHUNKS]
        cdef int c
        cdef Py_ssize_t p, nb = 0, P = self.n_probes
        cdef int64_t s, e
        cdef const Probe* pr
        for c in range(self._m):
            value[c] = _chunk_value(q, &self._chunks[c])
        # First every bucket's place in the offsets (into ``start``), then read them, prefetched.
        for p in range(P):
            pr = &self._probes[p]
            start[p] = pr.table + <int64_t>(pr.mask ^ value[pr.chunk])
        total[0] = 0
        for p in range(P):
            if p + _AHEAD < P:
                OCSEA_PREFETCH(self._offsets + start[p + _AHEAD] * self._offset_size)
            s = self._offset(start[p])
            e = self._offset(start[p] + 1)
            if e > s:  # nb <= p: ``start[p]`` was read above, and later ones are not touched
                start[nb] = self._probes[p].order + s
                length[nb] = e - s
                chunk[nb] = self._probes[p].chunk
                total[0] += e - s
                nb += 1
        return nb

    cdef void _gather(self, const int64_t* start, const int64_t* length, const int64_t* chunk,
                      Py_ssize_t nb, uint64_t* cand) noexcept nogil:
        """Phase 2: the positions in every bucket, each tagged with the chunk that found it."""
        cdef Py_ssize_t b, k = 0
        cdef int64_t j
        cdef uint64_t tag
        for b in range(nb):
            if b + _AHEAD < nb:
                OCSEA_PREFETCH(self._order + start[b + _AHEAD] * self._order_size)
            tag = <uint64_t>chunk[b] << _POS_BITS
            for j in range(start[b], start[b] + length[b]):
                cand[k] = tag | self._entry(j)
                k += 1

    cdef Py_ssize_t _verify(self, const uint64_t* q, uint64_t* cand, Py_ssize_t total,
                            bint by_chunk) noexcept nogil:
        """Phase 3: the full distance of every candidate; hits (distance << position bits |
        position) are written over the front of ``cand`` and counted. ``by_chunk``: candidates
        may repeat, and a hit is kept only through the first chunk that finds it."""
        cdef Py_ssize_t i, nh = 0
        cdef uint64_t pos
        cdef uint64_t x[4]
        cdef const uint64_t* w
        cdef int d
        for i in range(total):
            if i + _AHEAD < total:
                OCSEA_PREFETCH(self._words + 4 * (cand[i + _AHEAD] & _POS_MASK))
            pos = cand[i] & _POS_MASK
            w = self._words + 4 * pos
            d = ocsea_distance(w, q)
            if d > self._max_distance:
                continue
            if by_chunk:
                x[0], x[1], x[2], x[3] = w[0] ^ q[0], w[1] ^ q[1], w[2] ^ q[2], w[3] ^ q[3]
                if self._first_chunk(x) != <int>(cand[i] >> _POS_BITS):
                    continue
            cand[nh] = (<uint64_t>d << self._pos_bits) | pos  # nh <= i: already read
            nh += 1
        return nh

    cdef Py_ssize_t _search(self, const uint64_t* q, uint64_t** hits) noexcept nogil:
        """Hits of one query, sorted, in a buffer the caller frees; -1 if out of memory."""
        cdef Py_ssize_t P = self.n_probes, nb, total = 0, nh
        cdef int64_t* buf = <int64_t*>malloc(3 * max(1, P) * sizeof(int64_t))
        cdef uint64_t* cand
        cdef bint crowded
        hits[0] = NULL
        if buf == NULL:
            return -1
        nb = self._buckets(q, buf, buf + P, buf + 2 * P, &total)
        cand = <uint64_t*>malloc(max(1, total) * sizeof(uint64_t))
        if cand == NULL:
            free(buf)
            return -1
        self._gather(buf, buf + P, buf + 2 * P, nb, cand)
        free(buf)
        hits[0] = cand
        # Crowded buckets (dense clusters) repeat their hashes in many chunks: a set drops the
        # repeats before their words are read.
        crowded = total > self.crowded * nb
        if crowded:
            total = _unique(cand, total)
            if total < 0:
                return -1
        nh = self._verify(q, cand, total, not crowded)
        if _sort(cand, nh, self._pos_bits + 6) < 0:
            return -1
        return nh

    cdef list _query_words(self, const uint64_t* q):
        cdef uint64_t* hits
        cdef Py_ssize_t i, nh
        cdef uint64_t key, pos_mask = (<uint64_t>1 << self._pos_bits) - 1
        cdef list out
        cdef tuple hit
        with nogil:
            nh = self._search(q, &hits)
        if nh < 0:
            free(hits)
            raise MemoryError()
        try:
            out = [None] * nh
            for i in range(nh):
                key = hits[i]
                hit = (self._ids[key & pos_mask], <int>(key >> self._pos_bits))
                # Two ints can make no reference cycle: the collector need not walk the hit.
                # With ~1,000 hits a query (dense clusters) and the answers kept, the
                # collector's passes over them took a tenth of the query.
                PyObject_GC_UnTrack(hit)
                out[i] = hit
        finally:
            free(hits)
        return out

    def query(self, const unsigned char[::1] raw):
        """(id, distance) of every hash within the distance of one 32-byte hash."""
        if raw.shape[0] != 32:
            raise ValueError("a PDQ hash is 32 bytes")
        cdef uint64_t q[4]
        _read_words(&raw[0], q)
        return self._query_words(q)

    def candidates(self, const unsigned char[::1] raw):
        """How many bucket entries one 32-byte hash's probes read (repeats counted): the work a
        query does, for benchmarks and tests."""
        if raw.shape[0] != 32:
            raise ValueError("a PDQ hash is 32 bytes")
        cdef uint64_t q[4]
        cdef Py_ssize_t P = self.n_probes, total = 0
        cdef int64_t* buf = <int64_t*>malloc(3 * max(1, P) * sizeof(int64_t))
        if buf == NULL:
            raise MemoryError()
        _read_words(&raw[0], q)
        self._buckets(q, buf, buf + P, buf + 2 * P, &total)
        free(buf)
        return total

    def query_many(self, const unsigned char[::1] raw):
        """``query`` for each 32-byte hash of the concatenated ``raw``."""
        if raw.shape[0] % 32:
            raise ValueError("PDQ hashes are 32 bytes each")
        cdef uint64_t q[4]
        cdef Py_ssize_t k
        cdef list out = []
        for k in range(raw.shape[0] // 32):
            _read_words(&raw[32 * k], q)
            out.append(self._query_words(q))
        return out


cdef inline void _read_words(const unsigned char* b, uint64_t* q) noexcept nogil:
    """32 bytes → four big-endian 64-bit words, as ``bytes_to_words`` reads a hash."""
    cdef int k, j
    cdef uint64_t v
    for k in range(4):
        v = 0
        for j in range(8):
            v = (v << 8) | b[8 * k + j]
        q[k] = v


cdef int _width(arr, small, wide) except -1:
    if arr.dtype == small:
        return 4
    if arr.dtype == wide:
        return 8
    raise ValueError(f"unexpected index array type {arr.dtype}")


cdef const void* _address(arr, dtype, int ndim) except? NULL:
    """The address of a C-contiguous array's data (read-only memory maps included)."""
    if arr.dtype != dtype or arr.ndim != ndim or not arr.flags.c_contiguous:
        raise ValueError("index arrays must be C-contiguous, of their own types")
    if arr.size == 0:
        return NULL
    cdef const unsigned char[::1] view = arr.reshape(-1).view(np.uint8)
    return &view[0]
