"""What the client knows about each connection and each (tenant, pattern) it holds."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from . import wire
from .endpoint import Edge
from .errors import ClientError
from .subscription import Subscription
from .ws import WsLink

if TYPE_CHECKING:
    from .connections import ConnectionManager

Key = tuple[str, str]


@dataclass(eq=False)
class Entry:
    """One (tenant, pattern) the client holds, shared by every Subscription object on it."""

    tenant: str
    pattern: str
    subs: set[Subscription] = field(default_factory=set)
    #: subscribe() calls waiting for OK:SUB on the active connection.
    waiters: set[asyncio.Future[None]] = field(default_factory=set)

    def release_waiters(self, error: ClientError | None = None) -> None:
        for w in self.waiters:
            if not w.done():
                if error is None:
                    w.set_result(None)
                else:
                    w.set_exception(error)
        self.waiters.clear()


class Conn:
    """One connection and what the client knows about it."""

    def __init__(self, edge: Edge, manager: ConnectionManager) -> None:
        self.edge = edge
        self.m = manager
        self.link: WsLink | None = None
        self.alive = True
        self.role: Literal["pending", "active", "draining"] = "pending"
        self.confirmed: set[Key] = set()
        self.awaiting: set[Key] = set()
        self.all_confirmed: asyncio.Future[None] | None = None
        self.pong: asyncio.Future[None] | None = None
        self.ping_task: asyncio.Task[None] | None = None
        self.drain_timer: asyncio.TimerHandle | None = None

    # LinkEvents, forwarded to the manager with this connection.
    def on_delivery(self, delivery: wire.Delivery) -> None:
        self.m.on_delivery(self, delivery)

    def on_subscribed(self, tenant: str, pattern: str) -> None:
        self.m.on_subscribed(self, (tenant, pattern))

    def on_pong(self) -> None:
        if self.pong is not None and not self.pong.done():
            self.pong.set_result(None)

    def on_server_error(self, code: str, detail: str | None) -> None:
        self.m.on_server_error(self, code, detail)

    def on_reconnect_requested(self) -> None:
        if self is self.m.active:
            self.m.avoid_edge = self.edge
            self.m.start_loop()

    def on_close(self, error: ClientError | None) -> None:
        self.m.on_conn_closed(self, error)
