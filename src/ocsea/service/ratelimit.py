"""API rate limits that hold across service instances: one token bucket per API key in the
database, drawn on in leases.

Every instance and worker on one database draws from the same bucket, so the sum of what all of
them accept stays within the limit (issue 20). A request does not cost a database round trip:
an instance takes a lease of up to ``lease`` tokens at a time and spends it locally; a lease
unspent after ``lease_ttl`` seconds is dropped, never returned, so the sum can only fall short of
the limit, never exceed it. At the default 2,000 requests/s a lease of 100 is 20 small
transactions a second per busy key.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from ocsea.ingest.stream import insert_for
from ocsea.store.db import rate_buckets


class SharedRateLimiter:
    def __init__(
        self,
        engine: Engine,
        per_second: float,
        burst: int,
        lease: int | None = None,
        lease_ttl: float = 1.0,
    ) -> None:
        if per_second <= 0 or burst < 1:
            raise ValueError("the rate must be > 0 and the burst at least 1")
        self.engine, self.rate, self.burst = engine, float(per_second), int(burst)
        # a twentieth of a second's worth, at most a tenth of the burst: few round trips, and
        # little held back from the other instances
        self.lease = lease or max(1, min(self.burst // 10, int(self.rate / 20)))
        self.lease_ttl = lease_ttl
        self._local: dict[str, tuple[int, float]] = {}  # key -> (tokens left, leased at)
        self._lock = threading.Lock()
        self._leasing: dict[str, threading.Lock] = {}
        self._refreshing: set[str] = set()

    def _spend(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            left, at = self._local.get(key, (0, 0.0))
            if left > 0 and now - at < self.lease_ttl:
                self._local[key] = (left - 1, at)
                low = left - 1 < self.lease // 2 or now - at > self.lease_ttl / 2
                if low and key not in self._refreshing:
                    # The next lease is taken in the background before this one runs out, so a
                    # request waits for the database only when the bucket runs dry.
                    self._refreshing.add(key)
                    threading.Thread(target=self._refresh, args=(key,), daemon=True).start()
                return True
        return False

    def _refresh(self, key: str) -> None:
        try:
            got = self._take(key)
        except Exception:  # the next request that finds no tokens leases in the foreground
            got = 0
        with self._lock:
            self._refreshing.discard(key)
            if got > 0:
                left, at = self._local.get(key, (0, 0.0))
                if time.monotonic() - at >= self.lease_ttl:
                    left = 0  # what is left of an old lease lapses with it
                # Tokens taken from the shared bucket are spent at most once whenever they are
                # spent, so the sum over instances never exceeds the bucket.
                self._local[key] = (left + got, time.monotonic())

    def allow(self, key: str) -> bool:
        key = key[:100]
        if self._spend(key):
            return True
        with self._lock:
            leasing = self._leasing.setdefault(key, threading.Lock())
        # One lease at a time per key and process: when a lease runs out, the requests in flight
        # wait for one transaction instead of each queueing for the database's write lock.
        with leasing:
            if self._spend(key):  # another thread leased while this one waited
                return True
            got = self._take(key)
            if got <= 0:
                return False
            with self._lock:
                self._local[key] = (got - 1, time.monotonic())
        return True

    def _take(self, key: str) -> int:
        """Up to ``lease`` whole tokens from the shared bucket (refilled for the time since it was
        last drawn on), in one transaction that other instances wait for."""
        now = time.time()
        with self.engine.begin() as conn:
            ins = insert_for(conn)
            # a write first: SQLite takes its write lock here, so the read below is not stale
            conn.execute(
                ins(rate_buckets)
                .values(key=key, tokens=float(self.burst), updated=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            q = select(rate_buckets.c.tokens, rate_buckets.c.updated).where(
                rate_buckets.c.key == key
            )
            if conn.dialect.name == "postgresql":
                q = q.with_for_update()
            tokens, updated = conn.execute(q).one()
            # another machine's clock may be behind: time never runs backwards for the bucket
            tokens = min(float(self.burst), tokens + max(0.0, now - updated) * self.rate)
            got = min(self.lease, int(tokens))
            conn.execute(
                update(rate_buckets)
                .where(rate_buckets.c.key == key)
                .values(tokens=tokens - got, updated=max(now, updated))
            )
        return got


__all__ = ["SharedRateLimiter"]
