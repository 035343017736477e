"""Errors the SDK raises.

Every error is a :class:`ClientError` with a stable ``code`` shared by every FastPubSub SDK
(the TypeScript SDK's ``ClientErrorCode``). Each code has its own subclass, so callers can catch
either the family (``except ClientError``) or one case (``except UnauthorizedError``). An ``ERR:``
line from the edge is a :class:`ServerError` whose ``server_code`` is the wire code
(``permission_denied``, ``payload_too_large``, ``token_expired``, ...).
"""

from __future__ import annotations

import builtins
from typing import ClassVar, Literal

ErrorCode = Literal[
    "bad_argument",
    "queue_full",
    "closed",
    "aborted",
    "timeout",
    "no_edge",
    "discovery_failed",
    "connect_failed",
    "unauthorized",
    "forbidden",
    "protocol",
    "token_provider",
    "http",
    "server",
]


#: code → the error class for it, filled in as each subclass below is defined (one place per code).
ERROR_CLASSES: dict[str, type[ClientError]] = {}


class ClientError(Exception):
    """Base of every SDK error; ``code`` is the stable error code."""

    code: ClassVar[ErrorCode]

    def __init_subclass__(cls, *, code: ErrorCode, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if code in ERROR_CLASSES:
            raise builtins.TypeError(f"error code {code!r} already belongs to {ERROR_CLASSES[code].__name__}")
        cls.code = code
        ERROR_CLASSES[code] = cls

    def __init__(
        self,
        message: str,
        *,
        server_code: str | None = None,
        detail: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: For ``code == "server"``: the wire code of the ``ERR:`` line.
        self.server_code = server_code
        #: The rest of an ``ERR:`` line, an HTTP body, ...
        self.detail = detail
        #: HTTP status when known (401, 403, other REST failures).
        self.status = status

    def __repr__(self) -> str:
        extra = f", server_code={self.server_code!r}" if self.server_code is not None else ""
        return f"{type(self).__name__}(code={self.code!r}{extra}, {self.message!r})"


# One class per code (statically declared so type checkers and ``except`` clauses know them).
class BadArgumentError(ClientError, ValueError, code="bad_argument"):
    """Invalid tenant, channel, pattern, payload or option given to the SDK."""


class QueueFullError(ClientError, code="queue_full"):
    """The outgoing queue is full."""


class ClosedError(ClientError, code="closed"):
    """The client or subscription is closed."""


class AbortedError(ClientError, code="aborted"):
    """The operation was cancelled."""


class ClientTimeoutError(ClientError, builtins.TimeoutError, code="timeout"):
    """A bounded wait expired."""


class NoEdgeError(ClientError, code="no_edge"):
    """No candidate edge answered ``GET /ping`` with ``pong``."""


class DiscoveryFailedError(ClientError, code="discovery_failed"):
    """The discovery URL gave no usable edge list."""


class ConnectFailedError(ClientError, code="connect_failed"):
    """The connection could not be opened, or it was lost."""


class UnauthorizedError(ClientError, code="unauthorized"):
    """The edge answered 401: a bad, expired or revoked token (or master token)."""


class ForbiddenError(ClientError, code="forbidden"):
    """The edge answered 403."""


class ProtocolError(ClientError, code="protocol"):
    """The edge broke the contract (wrong subprotocol, malformed reply)."""


class TokenProviderError(ClientError, code="token_provider"):
    """The token provider raised or returned no token."""


class HttpError(ClientError, code="http"):
    """A REST call answered a non-2xx status."""


class ServerError(ClientError, code="server"):
    """An ``ERR:`` line from the edge; ``server_code`` holds the wire code."""
