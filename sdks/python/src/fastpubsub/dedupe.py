"""Duplicate suppression while two connections overlap (contract v0.1 §6 make-before-break).

Each live connection counts the (pattern, tenant, channel, payload) keys it delivered that no
other connection has matched yet. A key arriving on one connection that another connection
already delivered is the same message seen twice: it is dropped and consumes the other's
count. Unlike "drop every repeat within 5 s", a publisher sending the same bytes twice still
gets both delivered (each connection sees both copies). Active only while more than one
connection is live, so the single-connection path pays nothing."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from typing import Generic, TypeVar

C = TypeVar("C", bound=Hashable)
Key = tuple[str, str, str, bytes]


class OverlapFilter(Generic[C]):
    def __init__(self) -> None:
        self._seen: dict[C, Counter[Key]] = {}

    def track(self, conn: C) -> None:
        self._seen.setdefault(conn, Counter())

    def forget(self, conn: C) -> None:
        self._seen.pop(conn, None)
        if len(self._seen) < 2:
            self._seen.clear()

    @property
    def active(self) -> bool:
        return len(self._seen) >= 2

    def accept(self, conn: C, key: Key) -> bool:
        """True if this delivery is new and should reach the app."""
        for other, counts in self._seen.items():
            if other is conn:
                continue
            n = counts.get(key, 0)
            if n > 0:
                if n == 1:
                    del counts[key]
                else:
                    counts[key] = n - 1
                return False
        mine = self._seen.get(conn)
        if mine is not None:
            mine[key] += 1
        return True
