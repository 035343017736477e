"""Subscriptions: a bounded buffer per subscription with visible drop counts, consumed with
``async for`` (or :meth:`Subscription.next`)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from .errors import BadArgumentError, ClientError, ClientTimeoutError

OverflowPolicy = Literal["drop-oldest", "drop-newest"]


class Message(NamedTuple):
    """One received message (immutable)."""

    tenant: str
    #: The concrete channel the message was published to.
    channel: str
    payload: bytes
    #: The patterns this client holds that matched (contract §6: one frame lists them all).
    patterns: tuple[str, ...]


@dataclass(slots=True)
class SubscriptionStats:
    #: Messages that reached this subscription.
    received: int = 0
    #: Messages discarded because the buffer was full.
    dropped: int = 0
    #: Messages waiting in the buffer.
    buffered: int = 0


class Subscription:
    """One subscription to ``pattern`` in ``tenant``. Iterate it to receive :class:`Message`\\ s;
    leaving an ``async for`` loop early does not unsubscribe (call :meth:`unsubscribe`)."""

    def __init__(
        self,
        tenant: str,
        pattern: str,
        buffer_size: int,
        overflow: OverflowPolicy,
        on_unsubscribe: Callable[[Subscription], Awaitable[None]],
    ) -> None:
        if buffer_size < 1:
            raise BadArgumentError(f"buffer_size must be ≥ 1, got {buffer_size}")
        self.tenant = tenant
        self.pattern = pattern
        self.stats = SubscriptionStats()
        self._buffer: deque[Message] = deque()
        self._size = buffer_size
        self._overflow = overflow
        self._on_unsubscribe = on_unsubscribe
        self._wakeup: asyncio.Future[None] | None = None
        self._ended = False
        self._error: ClientError | None = None

    # ---- called by the client ---------------------------------------------------------------

    def _push(self, message: Message) -> None:
        if self._ended:
            return
        self.stats.received += 1
        if len(self._buffer) >= self._size:
            self.stats.dropped += 1
            if self._overflow == "drop-newest":
                return
            self._buffer.popleft()
        self._buffer.append(message)
        self.stats.buffered = len(self._buffer)
        self._wake()

    def _end(self, error: ClientError | None = None) -> None:
        """Ends the subscription without UNSUB (the client did that, or the client closed)."""
        if self._ended:
            return
        self._ended = True
        self._error = error
        self._wake()

    def _wake(self) -> None:
        w = self._wakeup
        if w is not None and not w.done():
            w.set_result(None)

    # ---- application API ---------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self._ended

    @property
    def error(self) -> ClientError | None:
        """Why the subscription ended, if not by :meth:`unsubscribe` or ``close()``."""
        return self._error

    async def unsubscribe(self) -> None:
        """Stops delivery: ends iteration and sends UNSUB unless another subscription of this
        client holds the same pattern."""
        if not self._ended:
            self._end()
            await self._on_unsubscribe(self)

    def next_nowait(self) -> Message | None:
        """A buffered message, or None when the buffer is empty."""
        return self._pop() if self._buffer else None

    def _pop(self) -> Message:
        message = self._buffer.popleft()
        self.stats.buffered = len(self._buffer)
        return message

    async def next(self, timeout: float | None = None) -> Message:
        """The next message. Raises ``StopAsyncIteration`` once the subscription ended without
        an error, the error that ended it otherwise, or :class:`ClientTimeoutError`."""
        if self._buffer:
            return self._pop()
        if timeout is None:
            return await self._next()
        try:
            async with asyncio.timeout(timeout):
                return await self._next()
        except TimeoutError:
            raise ClientTimeoutError(f"no message within {timeout} s") from None

    async def _next(self) -> Message:
        while True:
            message = self.next_nowait()
            if message is not None:
                return message
            if self._ended:
                if self._error is not None:
                    raise self._error
                raise StopAsyncIteration
            if self._wakeup is not None and not self._wakeup.done():
                raise BadArgumentError("next() called while another next() is waiting")
            self._wakeup = asyncio.get_running_loop().create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        return await self.next()

    def __repr__(self) -> str:
        return f"Subscription({self.tenant!r}, {self.pattern!r}, ended={self._ended})"
