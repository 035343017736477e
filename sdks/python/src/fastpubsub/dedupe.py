"""Duplicate suppression while connections overlap (contract v0.1 §6 make-before-break).

While more than one connection is live, every (pattern, tenant, channel, payload) key counts
how many times each connection delivered it, and how many copies reached the app. A delivery
is new only when its connection has now seen the key more often than the app has: so each
message reaches the app once however many connections carry it (two or three overlap when
token refreshes follow each other quickly), while a publisher sending the same bytes twice
still gets both delivered (each connection sees both copies). Keys are forgotten ``horizon``
seconds after first sight (copies on other connections arrive within the overlap window) and
all at once ``grace`` seconds after only one connection is left, so the single-connection path
pays nothing. That grace period (2 s, as the other SDKs) is for what the closed connection
delivered just before closing: the same copies may still be on their way through the one left,
and forgetting them at once would deliver them twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

C = TypeVar("C", bound=Hashable)
Key = tuple[str, str, str, bytes]


class _Seen:
    __slots__ = ("first", "delivered", "per_conn")

    def __init__(self, first: float) -> None:
        self.first = first
        self.delivered = 0
        self.per_conn: dict[object, int] = {}


#: Seconds a closed connection's deliveries still hold back the same copies on the one left.
CLOSED_GRACE = 2.0


class OverlapFilter(Generic[C]):
    def __init__(
        self, horizon: float = 15.0, clock: Callable[[], float] = time.monotonic, grace: float = CLOSED_GRACE
    ) -> None:
        self._conns: set[C] = set()
        #: Insertion order is first-sight order, so expired keys are at the front.
        self._keys: dict[Key, _Seen] = {}
        self._horizon = horizon
        self._clock = clock
        self._grace = grace
        #: While fewer than two connections are live: when the last closed one's counts expire.
        self._grace_until: float | None = None

    def track(self, conn: C) -> None:
        self._conns.add(conn)

    def forget(self, conn: C) -> None:
        if conn not in self._conns:
            return
        self._conns.discard(conn)
        if len(self._conns) < 2:
            self._grace_until = self._clock() + self._grace

    @property
    def active(self) -> bool:
        if len(self._conns) >= 2:
            return True
        if self._grace_until is None:
            return False
        if self._clock() < self._grace_until:
            return True
        self._grace_until = None
        self._conns.clear()
        self._keys.clear()
        return False

    def accept(self, conn: C, key: Key) -> bool:
        """True if this delivery is new and should reach the app."""
        now = self._clock()
        keys = self._keys
        while keys:
            oldest = next(iter(keys))
            if now - keys[oldest].first < self._horizon:
                break
            del keys[oldest]
        seen = keys.get(key)
        if seen is None:
            seen = keys[key] = _Seen(now)
        n = seen.per_conn.get(conn, 0) + 1
        seen.per_conn[conn] = n
        if n > seen.delivered:
            seen.delivered = n
            return True
        return False
