"""Token refresh: asks the token provider for a new token before a known expiry (margin 30 s
by default, at most half the remaining lifetime), on ``ERR:token_expired`` and on a 401 when
reconnecting, one call at a time."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

from .errors import ClientError, TokenProviderError
from .options import TokenInfo, TokenProvider, TokenReason, epoch_seconds


class TokenHost(Protocol):
    @property
    def closed(self) -> bool: ...
    def emit_error(self, error: ClientError) -> None: ...
    def on_new_token(self) -> None: ...


class TokenKeeper:
    def __init__(
        self, host: TokenHost, token: str | None, provider: TokenProvider | None, expires_at: float | None, margin: float
    ) -> None:
        self.host = host
        self.token = token
        self.provider = provider
        self.expires_at = expires_at
        self.margin = margin
        #: The provider just gave this token and no connection has opened with it yet.
        self.untested = False
        self.task: asyncio.Task[None] | None = None
        self.refreshing: asyncio.Future[None] | None = None

    def stop(self) -> None:
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
        if self.refreshing is not None and not self.refreshing.done():
            self.refreshing.set_exception(TokenProviderError("client closed"))
            self.refreshing.exception()  # retrieved: nobody else may be waiting

    async def refresh(self, reason: TokenReason) -> None:
        provider = self.provider
        if provider is None:
            raise TokenProviderError("no token_provider to refresh the token")
        if self.refreshing is not None:
            return await asyncio.shield(self.refreshing)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.refreshing = done
        try:
            got = await provider(reason)
            info = got if isinstance(got, TokenInfo) else TokenInfo(got)
            if not isinstance(info.token, str) or info.token == "":
                raise TokenProviderError("the token_provider returned no token")
            self.token = info.token
            self.expires_at = epoch_seconds(info.expires_at)
            self.untested = True
            self.schedule()
            done.set_result(None)
        except BaseException as err:
            error = err if isinstance(err, ClientError) else TokenProviderError(f"token_provider failed: {err!r}")
            if not self.host.closed and not isinstance(err, asyncio.CancelledError):
                self.host.emit_error(error)
            if not done.done():
                done.set_exception(error)
                done.exception()
            raise error from None
        finally:
            self.refreshing = None

    def schedule(self) -> None:
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()
        if self.expires_at is None or self.provider is None or self.host.closed:
            return
        remaining = self.expires_at - time.time()
        margin = min(self.margin, max(0.0, remaining / 2))
        self.task = asyncio.create_task(self._refresh_later(max(0.0, remaining - margin), remaining > margin))

    async def _refresh_later(self, delay: float, before_expiry: bool) -> None:
        await asyncio.sleep(delay)
        for _ in range(1000):  # bounded: one try every 2 s for about half an hour
            if self.host.closed:
                return
            try:
                await self.refresh_then_migrate("expiring" if before_expiry else "expired")
                return
            except ClientError:
                await asyncio.sleep(2)  # the current connection keeps working (contract §10.4)

    async def refresh_then_migrate(self, reason: TokenReason) -> None:
        await self.refresh(reason)
        self.host.on_new_token()
