"""In-process token-bucket rate limiting for sign-in/sign-up and writes.

One bucket per key (client address + username for sign-in, viewer id for writes) holds up to
``burst`` tokens and refills at ``per_s`` tokens a second; a request takes one token or is
refused with the seconds until the next one (the API answers 429 with ``Retry-After``).
In-process on purpose: the server runs one worker (see ``app.serve``), so a dict is the
whole truth; several workers or hosts would need a shared store (Redis) instead.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from src.config import RATE_LIMIT_KEYS


class RateLimited(Exception):
    """A request over its budget; ``retry_after`` is whole seconds until a token is free."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what}; try again in {retry_after} s")
        self.retry_after = retry_after


class TokenBucket:
    """Thread-safe token buckets keyed by string, at most ``max_keys`` kept (LRU evicted).

    In: ``burst`` (bucket size), ``per_s`` (refill rate), ``what`` (named in the error),
    ``enabled`` (False: never refuses; the server's ``--no-rate-limits`` for load tests).
    An evicted key starts again with a full bucket, which only ever errs towards allowing.
    """

    def __init__(self, burst: float, per_s: float, what: str = "requests",
                 max_keys: int = RATE_LIMIT_KEYS, enabled: bool = True) -> None:
        if burst < 1 or per_s <= 0:
            raise ValueError("burst must be >= 1 and per_s > 0")
        self.burst, self.per_s, self.what, self.max_keys = float(burst), float(per_s), what, max_keys
        self.enabled = enabled
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        """Spend one token of ``key``'s bucket, or raise :class:`RateLimited`."""
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.per_s)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                self._buckets.move_to_end(key)
                raise RateLimited(self.what, max(1, math.ceil((1.0 - tokens) / self.per_s)))
            self._buckets[key] = (tokens - 1.0, now)
            self._buckets.move_to_end(key)
            while len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
