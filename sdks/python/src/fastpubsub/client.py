"""The client: connection lifecycle, make-before-break reconnect (contract v0.1 §6), duplicate
suppression during the overlap, token refresh, the publish queue and the subscription table.
Connection handling lives in :mod:`fastpubsub.connections`; this module is the public API."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Generator, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar

from . import wire
from .connections import ConnectionManager
from .endpoint import Edge, parse_edge
from .errors import BadArgumentError, ClientError, ClientTimeoutError, ClosedError, ConnectFailedError
from .options import (
    ClientState,
    PingOptions,
    PublishQueue,
    QueuePolicy,
    ReconnectOptions,
    TokenProvider,
    epoch_seconds,
)
from .subscription import OverflowPolicy, Subscription

_log = logging.getLogger("fastpubsub")
T = TypeVar("T")

_HEADER_CACHE_LIMIT = 4096
_YIELD_EVERY = 64


@dataclass(slots=True)
class ClientStats:
    #: Messages handed to a connection.
    published: int = 0
    #: Messages waiting in the publish queue (no connection).
    queued: int = 0
    #: Messages the publish queue dropped by its policy.
    queue_dropped: int = 0
    #: Deliveries dropped as duplicates during a make-before-break overlap.
    duplicates_dropped: int = 0
    #: Connections that became active after the first.
    reconnects: int = 0


def _call_listener(listener: Callable[[T], None], value: T) -> None:
    """An application callback that raises must not break the connection state machine."""
    try:
        listener(value)
    except Exception:
        _log.exception("fastpubsub: a listener raised")


class Client:
    """A FastPubSub client. Create it with :func:`connect`."""

    def __init__(
        self,
        candidates: list[Edge],
        *,
        discovery_url: str | None,
        token: str | None,
        token_provider: TokenProvider | None,
        token_expires_at: datetime | float | None,
        token_refresh_margin: float,
        reconnect: ReconnectOptions,
        ping: PingOptions | None,
        publish_queue_size: int,
        publish_queue_policy: QueuePolicy,
        subscription_buffer: int,
        open_timeout: float,
        resubscribe_timeout: float,
        on_state: Callable[[ClientState], None] | None,
        on_error: Callable[[ClientError], None] | None,
        on_closed: Callable[[ClientError | None], None] | None,
    ) -> None:
        if token is None and token_provider is None:
            raise BadArgumentError("connect() needs a token or a token_provider")
        if subscription_buffer < 1:
            raise BadArgumentError("subscription_buffer must be ≥ 1")
        self.stats = ClientStats()
        self._queue = PublishQueue(publish_queue_size, publish_queue_policy)
        self._subscription_buffer = subscription_buffer
        self._headers: dict[tuple[str, str, str], bytes] = {}
        self._since_yield = 0
        self._not_draining = asyncio.Event()
        self._not_draining.set()
        self._closed_future: asyncio.Future[ClientError | None] = asyncio.get_running_loop().create_future()
        self._mgr = ConnectionManager(
            self,
            candidates,
            discovery_url=discovery_url,
            token=token,
            token_provider=token_provider,
            token_expires_at=epoch_seconds(token_expires_at),
            token_refresh_margin=token_refresh_margin,
            reconnect=reconnect,
            ping=ping,
            open_timeout=open_timeout,
            resubscribe_timeout=resubscribe_timeout,
        )
        self._on_state = on_state
        self._on_error = on_error
        self._on_closed = on_closed

    # ---- state ---------------------------------------------------------------------------

    @property
    def state(self) -> ClientState:
        return self._mgr.state

    @property
    def rtt_ms(self) -> float | None:
        """The last PING/PONG round trip in milliseconds (None before the first PONG)."""
        return self._mgr.rtt_ms

    @property
    def edge(self) -> Edge | None:
        """The edge in use (or last used)."""
        return self._mgr.edge

    @property
    def buffered_amount(self) -> int:
        """Bytes the active connection holds unsent (0 when disconnected)."""
        return self._mgr.buffered_amount

    async def wait_closed(self) -> ClientError | None:
        """Waits until the client ends: None after close(), else the fatal error."""
        return await asyncio.shield(self._closed_future)

    # ---- events from the connection manager -------------------------------------------------

    def _emit_state(self, state: ClientState) -> None:
        if self._on_state is not None:
            _call_listener(self._on_state, state)

    def _emit_error(self, error: ClientError) -> None:
        if self._on_error is not None:
            _call_listener(self._on_error, error)

    def _emit_closed(self, error: ClientError | None) -> None:
        self.stats.queued = 0
        self._queue.items.clear()
        if not self._closed_future.done():
            self._closed_future.set_result(error)
        if self._on_closed is not None:
            _call_listener(self._on_closed, error)

    def _start_drain(self) -> None:
        """A connection became active: send what was queued, before any newer publish."""
        if self._queue.items and self._not_draining.is_set():
            self._not_draining.clear()
            self._mgr.spawn(self._drain_queue())

    async def _drain_queue(self) -> None:
        try:
            while self._queue.items:
                link = self._mgr.active_link()
                if link is None:
                    return
                frame = self._queue.items.popleft()
                try:
                    await link.send_frame(frame)
                except ConnectFailedError:
                    self._queue.items.appendleft(frame)
                    return
                self.stats.published += 1
                self.stats.queued = len(self._queue.items)
        finally:
            self.stats.queued = len(self._queue.items)
            self._not_draining.set()

    # ---- application API -------------------------------------------------------------------

    async def publish(
        self, tenant: str, channel: str, payload: bytes | bytearray | memoryview | str, *, delivery: wire.DeliveryMode = "broadcast"
    ) -> None:
        """Publishes one message. Returns once it is written to the connection, or queued while
        disconnected (bounded; see ``stats.queue_dropped``). Raises :class:`BadArgumentError`
        for a bad tenant, channel (no wildcards), delivery or a payload over 65,535 bytes."""
        if self._mgr.closed:
            raise ClosedError("client closed")
        header = self._headers.get((tenant, channel, delivery))
        if header is None:
            header = self._header(tenant, channel, delivery)
        data = payload.encode() if isinstance(payload, str) else bytes(payload)
        if len(data) > wire.MAX_PAYLOAD:
            raise BadArgumentError(f"payload is {len(data)} bytes, more than {wire.MAX_PAYLOAD}")
        frame = header + data
        self._since_yield += 1
        if self._since_yield >= _YIELD_EVERY:
            # A socket that takes every write never makes send() wait: let the reader, pings
            # and timers run so a tight publish loop cannot starve them.
            self._since_yield = 0
            await asyncio.sleep(0)
        if not self._not_draining.is_set():
            await self._not_draining.wait()
        link = self._mgr.active_link()
        if link is not None:
            try:
                await link.send_frame(frame)
                self.stats.published += 1
                return
            except ConnectFailedError:
                pass  # lost while sending: keep it for the next connection
        if self._mgr.closed:
            raise ClosedError("client closed")
        self._queue.push(frame)
        self.stats.queued = len(self._queue.items)
        self.stats.queue_dropped = self._queue.dropped

    def _header(self, tenant: str, channel: str, delivery: str) -> bytes:
        try:
            wire.validate_tenant(tenant)
            wire.validate_channel(channel)
        except wire.WireError as err:
            raise BadArgumentError(str(err)) from None
        if delivery not in wire.MODE_NUMBERS:
            raise BadArgumentError(f"unknown delivery {delivery!r} (broadcast, one-low-latency, one-random)")
        header = wire.publish_header(tenant, channel, delivery)  # type: ignore[arg-type]
        if len(self._headers) >= _HEADER_CACHE_LIMIT:
            self._headers.clear()
        self._headers[(tenant, channel, delivery)] = header
        return header

    async def subscribe(
        self,
        tenant: str,
        pattern: str,
        *,
        buffer_size: int | None = None,
        overflow: OverflowPolicy = "drop-oldest",
        timeout: float | None = None,
    ) -> Subscription:
        """Subscribes and returns once the edge confirmed it (``OK:SUB``). Raises
        :class:`ServerError` (``server_code='permission_denied'``) if the token does not allow
        the pattern, :class:`BadArgumentError` for a bad tenant or pattern."""
        if self._mgr.closed:
            raise ClosedError("client closed")
        try:
            wire.validate_tenant(tenant)
            wire.validate_pattern(pattern)
        except wire.WireError as err:
            raise BadArgumentError(str(err)) from None
        if overflow not in ("drop-oldest", "drop-newest"):
            raise BadArgumentError("overflow must be drop-oldest or drop-newest")
        sub = Subscription(tenant, pattern, buffer_size or self._subscription_buffer, overflow, self._mgr.remove_subscription)
        waiter = await self._mgr.add_subscription(sub)
        if waiter is None:
            return sub
        try:
            async with asyncio.timeout(timeout):
                await waiter
        except TimeoutError:
            await sub.unsubscribe()
            raise ClientTimeoutError(f"no OK:SUB for {tenant}:{pattern} within {timeout} s") from None
        except BaseException:
            await sub.unsubscribe()
            raise
        return sub

    async def flush(self, timeout: float | None = 10.0) -> None:
        """Waits until everything published so far has left the client (queue empty, socket
        drained). Bounded by ``timeout`` seconds (ClientTimeoutError)."""
        try:
            async with asyncio.timeout(timeout):
                while True:
                    if self._mgr.closed:
                        raise ClosedError("client closed")
                    if not self._queue.items and self._mgr.active_link() is not None and self.buffered_amount == 0:
                        return
                    await asyncio.sleep(0.005)
        except TimeoutError:
            raise ClientTimeoutError(f"flush did not finish within {timeout} s") from None

    async def close(self) -> None:
        """Closes every connection and ends every subscription. Idempotent."""
        await self._mgr.shutdown(None)

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


def _edges(endpoint: str | Sequence[str] | None, discovery: str | None) -> list[Edge]:
    if (endpoint is None) == (discovery is None):
        raise BadArgumentError("connect() needs exactly one of endpoint (an edge or a list of edges) or discovery")
    if endpoint is None:
        return []
    if isinstance(endpoint, str):
        return [parse_edge(endpoint)]
    edges = [parse_edge(e) for e in endpoint]
    if not edges:
        raise BadArgumentError("the list of edges is empty")
    return edges



class _Connecting:
    """What :func:`connect` returns: await it for the client, or use it as ``async with``."""

    def __init__(self, make: Callable[[], Coroutine[Any, Any, Client]]) -> None:
        self._make = make
        self._client: Client | None = None

    def __await__(self) -> Generator[Any, None, Client]:
        return self._make().__await__()

    async def __aenter__(self) -> Client:
        self._client = await self._make()
        return self._client

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._client is not None:
            await self._client.close()


def connect(
    endpoint: str | Sequence[str] | None = None,
    *,
    discovery: str | None = None,
    token: str | None = None,
    token_provider: TokenProvider | None = None,
    token_expires_at: datetime | float | None = None,
    token_refresh_margin: float = 30.0,
    reconnect: ReconnectOptions | None = None,
    ping: PingOptions | None = PingOptions(),
    publish_queue_size: int = 1000,
    publish_queue_policy: QueuePolicy = "drop-oldest",
    subscription_buffer: int = 1024,
    open_timeout: float = 10.0,
    resubscribe_timeout: float = 10.0,
    on_state: Callable[[ClientState], None] | None = None,
    on_error: Callable[[ClientError], None] | None = None,
    on_closed: Callable[[ClientError | None], None] | None = None,
) -> _Connecting:
    """Connects to one edge (``"http://127.0.0.1:7700"``, ``"https://host"``, ``"wss://host/ws"``
    or a bare ``host[:port]``) or to the fastest of a list of edges (``GET /ping``, in parallel,
    3 s timeout), or of the edges a ``discovery`` URL lists (``{"edges": [...]}``, e.g. a relay's
    ``/v1/edges``). Needs ``token`` or ``token_provider`` (an async callable taking the reason and
    returning a token or a :class:`TokenInfo` with its expiry). Returns once the first connection
    is open; raises :class:`UnauthorizedError` for a 401, :class:`NoEdgeError`, ... Use
    ``client = await connect(...)`` or ``async with connect(...) as client``."""

    async def make() -> Client:
        client = Client(
            _edges(endpoint, discovery),
            discovery_url=discovery,
            token=token,
            token_provider=token_provider,
            token_expires_at=token_expires_at,
            token_refresh_margin=token_refresh_margin,
            reconnect=reconnect or ReconnectOptions(),
            ping=ping,
            publish_queue_size=publish_queue_size,
            publish_queue_policy=publish_queue_policy,
            subscription_buffer=subscription_buffer,
            open_timeout=open_timeout,
            resubscribe_timeout=resubscribe_timeout,
            on_state=on_state,
            on_error=on_error,
            on_closed=on_closed,
        )
        await client._mgr.start()
        return client

    return _Connecting(make)
