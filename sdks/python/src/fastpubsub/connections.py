"""Connection lifecycle behind the client: open, resubscribe, switch (make-before-break),
reconnect with full-jitter backoff, overlap de-duplication, PING/PONG and token refresh."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from . import wire
from .conn import Conn, Entry, Key
from .dedupe import OverlapFilter
from .endpoint import Edge, discover_edges, select_fastest_edge
from .errors import (
    ClientError,
    ClientTimeoutError,
    ClosedError,
    ConnectFailedError,
    ServerError,
    UnauthorizedError,
)
from .options import ClientState, PingOptions, ReconnectOptions, TokenProvider, backoff_delay
from .subscription import Message, Subscription
from .tokens import TokenKeeper
from .ws import WsLink

if TYPE_CHECKING:
    from .client import Client


class ConnectionManager:
    def __init__(
        self,
        client: Client,
        candidates: list[Edge],
        *,
        discovery_url: str | None,
        token: str | None,
        token_provider: TokenProvider | None,
        token_expires_at: float | None,
        token_refresh_margin: float,
        reconnect: ReconnectOptions,
        ping: PingOptions | None,
        open_timeout: float,
        resubscribe_timeout: float,
    ) -> None:
        self.client = client
        self.candidates = candidates
        self.discovery_url = discovery_url
        self.state: ClientState = "connecting"
        self.rtt_ms: float | None = None
        self.edge: Edge | None = None
        self.entries: dict[Key, Entry] = {}
        self.conns: set[Conn] = set()
        self.active: Conn | None = None
        self.overlap: OverlapFilter[Conn] = OverlapFilter(horizon=max(10.0, 2 * reconnect.overlap))
        self.tokens = TokenKeeper(self, token, token_provider, token_expires_at, token_refresh_margin)
        self.reconnect = reconnect
        self.ping = ping
        self.open_timeout = open_timeout
        self.resubscribe_timeout = resubscribe_timeout
        self.ever_connected = False
        #: An edge that failed or sent RECONNECT: the next selection prefers the others.
        self.avoid_edge: Edge | None = None
        self.last_tried: Edge | None = None
        self.loop_task: asyncio.Task[None] | None = None
        self.background: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.background.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self.background.discard(task)
        if not task.cancelled():
            task.exception()  # errors were reported through on_error; do not warn again

    def active_link(self) -> WsLink | None:
        conn = self.active
        return conn.link if conn is not None and conn.alive else None

    @property
    def buffered_amount(self) -> int:
        link = self.active_link()
        return 0 if link is None else link.buffered_amount

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    def emit_error(self, error: ClientError) -> None:
        self.client._emit_error(error)

    def on_new_token(self) -> None:
        """Put a new token to use, make-before-break, if a connection is up."""
        if self.active is not None:
            self.start_loop()

    def set_state(self, state: ClientState) -> None:
        if self.state == state or self.closed:
            return
        self.state = state
        self.client._emit_state(state)

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """First connection: one attempt, plus one after a token refresh on 401."""
        self.client._emit_state("connecting")
        try:
            if self.tokens.token is None:
                await self.tokens.refresh("initial")
            else:
                self.tokens.schedule()
            try:
                conn = await self.open_and_subscribe(False)
            except UnauthorizedError:
                if self.tokens.provider is None:
                    raise
                await self.tokens.refresh("unauthorized")
                conn = await self.open_and_subscribe(False)
            self.switch_to(conn)
        except BaseException as err:
            error = err if isinstance(err, ClientError) else ConnectFailedError(f"connect failed: {err!r}")
            await self.shutdown(error)
            if isinstance(err, asyncio.CancelledError):
                raise
            raise error from None

    async def shutdown(self, error: ClientError | None) -> None:
        if self.closed:
            return
        self.set_state("closed")
        current = asyncio.current_task()
        self.tokens.stop()
        if self.loop_task is not None and self.loop_task is not current:
            self.loop_task.cancel()
        for conn in list(self.conns):
            self.drop_conn(conn)
        closed = ClosedError("client closed")
        for entry in self.entries.values():
            entry.release_waiters(closed)
            for sub in entry.subs:
                sub._end(error)
        self.entries.clear()
        self.client._emit_closed(error)
        pending = [t for t in self.background if t is not current]
        if pending:
            await asyncio.wait(pending, timeout=5)

    async def pick_edge(self, reselect: bool) -> Edge:
        """The edge for the next connection: the current one, unless it failed or asked us to
        leave (RECONNECT), in which case the fastest of the others by ``GET /ping``."""
        if self.discovery_url is not None and (not self.candidates or reselect):
            self.candidates = await discover_edges(self.discovery_url)
        if len(self.candidates) == 1:
            return self.candidates[0]
        avoid = self.avoid_edge
        if not reselect and avoid is None and self.edge is not None:
            return self.edge
        others = [e for e in self.candidates if e != avoid] or self.candidates
        return (await select_fastest_edge(others)).edge

    async def open_and_subscribe(self, reselect: bool) -> Conn:
        """Opens a connection, sends every SUB and returns once every OK:SUB arrived."""
        edge = await self.pick_edge(reselect)
        self.last_tried = edge
        if self.tokens.token is None:
            await self.tokens.refresh("initial")
        assert self.tokens.token is not None
        conn = Conn(edge, self)
        link = await WsLink.open(edge, self.tokens.token, conn, self.open_timeout)
        conn.link = link
        if self.closed:
            await link.close()
            raise ClosedError("client closed")
        self.tokens.untested = False
        self.conns.add(conn)
        if len(self.conns) >= 2:
            for c in self.conns:
                self.overlap.track(c)
        keys = list(self.entries)
        conn.awaiting.update(keys)
        if keys:
            conn.all_confirmed = asyncio.get_running_loop().create_future()
        for tenant, pattern in keys:
            await link.send_text(wire.format_sub(tenant, pattern))
        if conn.all_confirmed is not None:
            try:
                async with asyncio.timeout(self.resubscribe_timeout):
                    await conn.all_confirmed
            except TimeoutError:
                self.drop_conn(conn)
                raise ClientTimeoutError(
                    f"no OK:SUB for {len(conn.awaiting)} subscription(s) within {self.resubscribe_timeout} s"
                ) from None
            except BaseException:
                self.drop_conn(conn)
                raise
        return conn

    def switch_to(self, conn: Conn) -> None:
        if self.state == "closed" or not conn.alive:
            self.drop_conn(conn)
            if not self.closed:
                raise ConnectFailedError("connection closed before it became active")
            return
        old = self.active
        self.avoid_edge = None
        conn.role = "active"
        self.active = conn
        self.edge = conn.edge
        if self.ever_connected:
            self.client.stats.reconnects += 1
        self.ever_connected = True
        if old is not None and old.alive:
            old.role = "draining"
            if old.ping_task is not None:
                old.ping_task.cancel()
            old.drain_timer = asyncio.get_running_loop().call_later(self.reconnect.overlap, self.drop_conn, old)
        for key, entry in self.entries.items():
            if key in conn.confirmed:
                entry.release_waiters()
        self.set_state("connected")
        self.client._start_drain()
        if self.ping is not None:
            conn.ping_task = self.spawn(self.ping_loop(conn, self.ping))

    def drop_conn(self, conn: Conn) -> None:
        if not conn.alive:
            return
        conn.alive = False
        if conn.ping_task is not None and conn.ping_task is not asyncio.current_task():
            conn.ping_task.cancel()
        if conn.drain_timer is not None:
            conn.drain_timer.cancel()
        self.conns.discard(conn)
        self.overlap.forget(conn)
        if conn.all_confirmed is not None and not conn.all_confirmed.done():
            conn.all_confirmed.set_exception(ConnectFailedError("connection closed before every OK:SUB arrived"))
        if conn.link is not None:
            self.spawn(conn.link.close())

    def on_conn_closed(self, conn: Conn, error: ClientError | None) -> None:
        was_active = conn is self.active and conn.alive
        self.drop_conn(conn)
        if not was_active or self.closed:
            return
        self.active = None
        if not self.reconnect.enabled:
            self.spawn(self.shutdown(error or ConnectFailedError("connection closed")))
            return
        self.set_state("reconnecting")
        self.start_loop()

    def start_loop(self) -> None:
        """Make-before-break: a new connection while the active one (if any) keeps working."""
        if self.state == "closed" or self.loop_task is not None:
            return
        self.loop_task = asyncio.create_task(self.reconnect_loop())

    async def reconnect_loop(self) -> None:
        r = self.reconnect
        attempt = 0
        try:
            while not self.closed:
                try:
                    conn = await self.open_and_subscribe(attempt > 0)
                    self.switch_to(conn)
                    return
                except Exception as exc:  # noqa: BLE001 - any failure is one failed attempt
                    if self.closed:
                        return
                    err = exc if isinstance(exc, ClientError) else ConnectFailedError(f"reconnect attempt failed: {exc!r}")
                    self.avoid_edge = self.last_tried
                    if isinstance(err, UnauthorizedError) and not await self.recover_from_401(err):
                        return
                    attempt += 1
                    if r.max_attempts is not None and attempt >= r.max_attempts:
                        if self.active is None:
                            await self.shutdown(err)
                        return
                    await asyncio.sleep(backoff_delay(attempt, r.base_delay, r.max_delay))
        finally:
            self.loop_task = None

    async def recover_from_401(self, err: UnauthorizedError) -> bool:
        """A 401 while reconnecting: the token is revoked or expired. Without a provider, or
        when the provider's fresh token is refused too, that is terminal (no endless retry)."""
        if self.tokens.provider is None or self.tokens.untested:
            self.spawn(self.shutdown(err))
            return False
        try:
            await self.tokens.refresh("unauthorized")
        except ClientError:
            pass  # reported through on_error; keep backing off
        return True

    # ---- frames from the edge ----------------------------------------------------------------

    def on_delivery(self, conn: Conn, d: wire.Delivery) -> None:
        if not conn.alive:
            return
        check = self.overlap.active
        matched: list[Entry] = []
        for pattern in d.patterns:
            entry = self.entries.get((d.tenant, pattern))
            if entry is None:
                continue  # unsubscribed meanwhile
            if check and not self.overlap.accept(conn, (pattern, d.tenant, d.channel, d.payload)):
                self.client.stats.duplicates_dropped += 1
                continue
            matched.append(entry)
        if not matched:
            return
        message = Message(d.tenant, d.channel, d.payload, tuple(e.pattern for e in matched))
        for entry in matched:
            for sub in entry.subs:
                sub._push(message)

    def on_subscribed(self, conn: Conn, key: Key) -> None:
        entry = self.entries.get(key)
        if entry is None:
            return
        conn.confirmed.add(key)
        if key in conn.awaiting:
            conn.awaiting.discard(key)
            if not conn.awaiting and conn.all_confirmed is not None and not conn.all_confirmed.done():
                conn.all_confirmed.set_result(None)
        if conn is self.active:
            entry.release_waiters()

    def on_server_error(self, conn: Conn, code: str, detail: str | None) -> None:
        # Contract §10.1: a denied SUB is `ERR:permission_denied:SUB:{tenant}:{pattern}`.
        if code == "permission_denied" and detail is not None and detail.startswith("SUB:"):
            tenant, _, pattern = detail[4:].partition(":")
            entry = self.entries.get((tenant, pattern))
            if entry is not None:
                self.fail_entry(entry, ServerError(f"subscription {tenant}:{pattern} denied", server_code=code, detail=detail))
                return
        if code == "token_expired" and conn is self.active and self.tokens.provider is not None:
            self.spawn(self.tokens.refresh_then_migrate("expired"))
        suffix = "" if detail is None else f": {detail}"
        self.client._emit_error(ServerError(f"edge error: {code}{suffix}", server_code=code, detail=detail))

    def fail_entry(self, entry: Entry, error: ClientError) -> None:
        key = (entry.tenant, entry.pattern)
        self.entries.pop(key, None)
        entry.release_waiters(error)
        for sub in entry.subs:
            sub._end(error)
        for c in self.conns:
            c.confirmed.discard(key)
            if key in c.awaiting:
                c.awaiting.discard(key)
                if not c.awaiting and c.all_confirmed is not None and not c.all_confirmed.done():
                    c.all_confirmed.set_result(None)

    async def ping_loop(self, conn: Conn, ping: PingOptions) -> None:
        delay = 0.0
        while conn.alive and conn is self.active and conn.link is not None:
            await asyncio.sleep(delay)
            delay = ping.interval
            conn.pong = asyncio.get_running_loop().create_future()
            sent = time.perf_counter()
            await conn.link.send_text(wire.PING)
            try:
                async with asyncio.timeout(ping.timeout):
                    await conn.pong
            except TimeoutError:
                if conn.alive:
                    self.on_conn_closed(conn, ClientTimeoutError(f"no PONG within {ping.timeout} s"))
                return
            if conn is self.active:
                self.rtt_ms = (time.perf_counter() - sent) * 1000

    # ---- subscriptions ----------------------------------------------------------------------

    async def add_subscription(self, sub: Subscription) -> asyncio.Future[None] | None:
        """Registers ``sub``; returns a future resolved at OK:SUB, or None if already confirmed."""
        key = (sub.tenant, sub.pattern)
        entry = self.entries.get(key)
        fresh = entry is None
        if entry is None:
            entry = Entry(sub.tenant, sub.pattern)
            self.entries[key] = entry
        entry.subs.add(sub)
        if fresh:
            for c in list(self.conns):
                if c.role == "draining" or c.link is None:
                    continue
                if c.role == "pending":
                    c.awaiting.add(key)
                await c.link.send_text(wire.format_sub(sub.tenant, sub.pattern))
        if self.active is not None and key in self.active.confirmed:
            return None
        if sub.ended:
            raise sub.error or ClosedError("subscription ended")
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry.waiters.add(waiter)
        return waiter

    async def remove_subscription(self, sub: Subscription) -> None:
        key = (sub.tenant, sub.pattern)
        entry = self.entries.get(key)
        if entry is None or sub not in entry.subs:
            return
        entry.subs.discard(sub)
        if entry.subs:
            return
        del self.entries[key]
        entry.release_waiters(ClosedError("unsubscribed"))
        for c in list(self.conns):
            c.confirmed.discard(key)
            if key in c.awaiting:
                c.awaiting.discard(key)
                if not c.awaiting and c.all_confirmed is not None and not c.all_confirmed.done():
                    c.all_confirmed.set_result(None)
            if c.role != "draining" and c.link is not None:
                # Awaited, not spawned: a SUB of the same pattern right after must follow it.
                await c.link.send_text(wire.format_unsub(sub.tenant, sub.pattern))
