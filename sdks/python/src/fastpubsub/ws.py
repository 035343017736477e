"""The WebSocket edge link (contract v0.1): subprotocol ``llps.v1,at.<token>``, binary publish
and delivery frames, text SUB/UNSUB/PING. One :class:`WsLink` is one connection; the client
above it does reconnects, de-duplication and queues."""

from __future__ import annotations

import asyncio
from typing import Protocol

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.typing import Subprotocol

from . import wire
from .endpoint import Edge
from .errors import (
    ClientError,
    ClientTimeoutError,
    ConnectFailedError,
    ForbiddenError,
    ProtocolError,
    UnauthorizedError,
)

SUBPROTOCOL = "llps.v1"
#: Largest frame accepted from the edge: a 65,535-byte payload plus names and patterns.
MAX_FRAME = 1 << 20


class LinkEvents(Protocol):
    """What a link reports, in the order the edge sent it."""

    def on_delivery(self, delivery: wire.Delivery) -> None: ...
    def on_subscribed(self, tenant: str, pattern: str) -> None: ...
    def on_pong(self) -> None: ...
    def on_server_error(self, code: str, detail: str | None) -> None: ...
    def on_reconnect_requested(self) -> None: ...
    def on_close(self, error: ClientError | None) -> None: ...


def _handshake_error(err: Exception, url: str) -> ClientError:
    if isinstance(err, InvalidStatus):
        status = err.response.status_code
        if status == 401:
            return UnauthorizedError(f"edge {url} refused the token (401)", status=status)
        if status == 403:
            return ForbiddenError(f"edge {url} denied the connection (403)", status=status)
        return ConnectFailedError(f"edge {url} answered HTTP {status}", status=status)
    if isinstance(err, (InvalidHandshake, InvalidURI)):
        return ProtocolError(f"WebSocket handshake with {url} failed: {err}")
    if isinstance(err, TimeoutError):
        return ClientTimeoutError(f"opening {url} timed out")
    return ConnectFailedError(f"cannot open {url}: {err or type(err).__name__}")


class WsLink:
    def __init__(self, ws: ClientConnection, events: LinkEvents) -> None:
        self._ws = ws
        self._events = events
        self._closing = False
        self._finished = False
        self._reader = asyncio.create_task(self._read(), name="fastpubsub-ws-reader")

    @classmethod
    async def open(cls, edge: Edge, token: str, events: LinkEvents, timeout: float) -> WsLink:
        try:
            ws = await ws_connect(
                edge.ws_url,
                subprotocols=[Subprotocol(SUBPROTOCOL), Subprotocol(f"at.{token}")],
                compression=None,
                open_timeout=timeout,
                ping_interval=None,  # the client's own PING/PONG measures RTT and detects loss
                close_timeout=2,
                max_size=MAX_FRAME,
                proxy=None,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as err:
            raise _handshake_error(err, edge.ws_url) from None
        if ws.subprotocol != SUBPROTOCOL:
            await ws.close()
            raise ProtocolError(f"edge {edge.ws_url} answered subprotocol {ws.subprotocol!r}, expected {SUBPROTOCOL}")
        return cls(ws, events)

    async def _read(self) -> None:
        error: ClientError | None = None
        events = self._events
        try:
            async for data in self._ws:
                if isinstance(data, str):
                    self._on_text(data)
                    continue
                try:
                    delivery = wire.decode_delivery(data)
                except wire.WireError:
                    continue  # contract §3: the client drops a malformed frame
                events.on_delivery(delivery)
            if not self._closing:
                code = self._ws.close_code
                detail = f"{code} {self._ws.close_reason or ''}".strip() if code is not None else "no close frame"
                error = ConnectFailedError(f"connection closed by the edge ({detail})")
        except ConnectionClosed as err:
            if not self._closing:
                error = ConnectFailedError(f"connection lost: {err}")
        except asyncio.CancelledError:
            pass
        finally:
            self._finish(error)

    def _on_text(self, text: str) -> None:
        t = wire.parse_server_text(text)
        events = self._events
        if t.kind == "OK":
            if t.op == "SUB" and t.tenant is not None and t.pattern is not None:
                events.on_subscribed(t.tenant, t.pattern)
        elif t.kind == "PONG":
            events.on_pong()
        elif t.kind == "ERR":
            events.on_server_error(t.code or "", t.detail)
        elif t.kind == "RECONNECT":
            events.on_reconnect_requested()
        # contract §4: other server text is ignored

    def _finish(self, error: ClientError | None) -> None:
        if self._finished:
            return
        self._finished = True
        self._events.on_close(error)

    @property
    def buffered_amount(self) -> int:
        """Bytes written but not yet handed to the kernel."""
        transport = self._ws.transport
        return 0 if transport is None or transport.is_closing() else transport.get_write_buffer_size()

    async def send_text(self, text: str) -> None:
        """Sends a command; a closed link drops it (the reconnect re-sends what matters)."""
        if self._closing:
            return
        try:
            await self._ws.send(text)
        except ConnectionClosed:
            pass

    async def send_frame(self, frame: bytes) -> None:
        """Sends a publish frame; raises :class:`ConnectFailedError` if the link is gone, so the
        client can queue it instead."""
        if self._closing:
            raise ConnectFailedError("connection closing")
        try:
            await self._ws.send(frame)
        except ConnectionClosed as err:
            raise ConnectFailedError(f"connection lost: {err}") from None

    async def close(self) -> None:
        if not self._closing:
            self._closing = True
            try:
                await asyncio.wait_for(self._ws.close(1000, "client close"), 3)
            except (TimeoutError, ConnectionClosed, OSError):
                pass
        if self._reader is not asyncio.current_task():
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        self._finish(None)
