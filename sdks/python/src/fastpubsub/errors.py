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


class ClientError(Exception):
    """Base of every SDK error; ``code`` is the stable error code."""

    code: ClassVar[ErrorCode]

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


class BadArgumentError(ClientError, ValueError):
    """Invalid tenant, channel, pattern, payload or option given to the SDK."""

    code = "bad_argument"


class QueueFullError(ClientError):
    code = "queue_full"


class ClosedError(ClientError):
    """The client or subscription is closed."""

    code = "closed"


class AbortedError(ClientError):
    code = "aborted"


class ClientTimeoutError(ClientError, builtins.TimeoutError):
    """A bounded wait expired."""

    code = "timeout"


class NoEdgeError(ClientError):
    """No candidate edge answered ``GET /ping`` with ``pong``."""

    code = "no_edge"


class DiscoveryFailedError(ClientError):
    code = "discovery_failed"


class ConnectFailedError(ClientError):
    """The connection could not be opened, or it was lost."""

    code = "connect_failed"


class UnauthorizedError(ClientError):
    """The edge answered 401: a bad, expired or revoked token (or master token)."""

    code = "unauthorized"


class ForbiddenError(ClientError):
    code = "forbidden"


class ProtocolError(ClientError):
    """The edge broke the contract (wrong subprotocol, malformed reply)."""

    code = "protocol"


class TokenProviderError(ClientError):
    code = "token_provider"


class HttpError(ClientError):
    """A REST call answered a non-2xx status."""

    code = "http"


class ServerError(ClientError):
    """An ``ERR:`` line from the edge; ``server_code`` holds the wire code."""

    code = "server"


ERROR_CLASSES: dict[str, type[ClientError]] = {
    cls.code: cls
    for cls in (
        BadArgumentError,
        QueueFullError,
        ClosedError,
        AbortedError,
        ClientTimeoutError,
        NoEdgeError,
        DiscoveryFailedError,
        ConnectFailedError,
        UnauthorizedError,
        ForbiddenError,
        ProtocolError,
        TokenProviderError,
        HttpError,
        ServerError,
    )
}
