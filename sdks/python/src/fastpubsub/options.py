"""Connect options and their defaults, in one place. Times are in seconds."""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from .errors import BadArgumentError, QueueFullError

ClientState = Literal["connecting", "connected", "reconnecting", "closed"]
#: Why the SDK asks the token provider for a token.
TokenReason = Literal["initial", "expiring", "expired", "unauthorized"]
QueuePolicy = Literal["drop-oldest", "drop-newest", "error"]


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A token and, if known, its expiry (a datetime or epoch seconds)."""

    token: str
    expires_at: datetime | float | None = None


TokenProvider = Callable[[TokenReason], Awaitable["str | TokenInfo"]]


@dataclass(frozen=True, slots=True)
class ReconnectOptions:
    #: Reconnect after a loss.
    enabled: bool = True
    #: Attempt n waits uniform(0, min(max_delay, base_delay · 2ⁿ⁻¹)): full jitter.
    base_delay: float = 0.25
    max_delay: float = 10.0
    #: Give up (the client closes with the last error) after this many failed attempts.
    max_attempts: int | None = None
    #: How long an old connection is still read after a switch (contract §6).
    overlap: float = 5.0

    def __post_init__(self) -> None:
        for name in ("base_delay", "max_delay", "overlap"):
            if getattr(self, name) < 0:
                raise BadArgumentError(f"reconnect.{name} must be ≥ 0")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise BadArgumentError("reconnect.max_attempts must be ≥ 1 or None")


@dataclass(frozen=True, slots=True)
class PingOptions:
    #: PING every ``interval`` seconds on the active connection.
    interval: float = 5.0
    #: A connection without PONG for this long counts as lost (contract §4).
    timeout: float = 10.0

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.timeout <= 0:
            raise BadArgumentError("ping.interval and ping.timeout must be > 0")


def backoff_delay(attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random) -> float:
    """Full-jitter backoff: uniform in [0, min(cap, base · 2^(attempt−1))]."""
    return float(rand() * min(cap, base * 2.0 ** min(30, max(0, attempt - 1))))


def epoch_seconds(value: datetime | float | None) -> float | None:
    if value is None:
        return None
    return value.timestamp() if isinstance(value, datetime) else float(value)


class PublishQueue:
    """Publish frames held while no connection is active; bounded, drops counted."""

    def __init__(self, max_messages: int, policy: QueuePolicy) -> None:
        if max_messages < 0:
            raise BadArgumentError("publish_queue_size must be ≥ 0")
        if policy not in ("drop-oldest", "drop-newest", "error"):
            raise BadArgumentError("publish_queue_policy must be drop-oldest, drop-newest or error")
        self.max = max_messages
        self.policy = policy
        self.dropped = 0
        self.items: deque[bytes] = deque()

    def push(self, frame: bytes) -> None:
        if len(self.items) >= self.max:
            if self.policy == "error":
                raise QueueFullError(f"publish queue is full ({self.max} messages) while disconnected")
            self.dropped += 1
            if self.policy == "drop-newest" or self.max == 0:
                return
            self.items.popleft()
        self.items.append(frame)
