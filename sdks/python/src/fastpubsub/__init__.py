"""FastPubSub asyncio client (WebSocket edge, contract v0.1).

>>> client = await fastpubsub.connect("http://127.0.0.1:7700", token=token)
>>> sub = await client.subscribe("demo", "chat.#")
>>> await client.publish("demo", "chat.room1", b"hello")
>>> async for msg in sub: ...
>>> await client.close()
"""

from .admin import TenantGrant, TokenRefreshed, create_token, refresh_token, revoke_token, token_id
from .client import Client, ClientStats, connect
from .endpoint import Edge, EdgeProbe, discover_edges, parse_edge, probe_edge, select_fastest_edge
from .errors import (
    AbortedError,
    BadArgumentError,
    ClientError,
    ClientTimeoutError,
    ClosedError,
    ConnectFailedError,
    DiscoveryFailedError,
    ErrorCode,
    ForbiddenError,
    HttpError,
    NoEdgeError,
    ProtocolError,
    QueueFullError,
    ServerError,
    TokenProviderError,
    UnauthorizedError,
)
from .options import ClientState, PingOptions, QueuePolicy, ReconnectOptions, TokenInfo, TokenProvider, TokenReason
from .subscription import Message, OverflowPolicy, Subscription, SubscriptionStats
from .wire import MAX_PAYLOAD, DeliveryMode

__version__ = "0.1.0"

__all__ = [
    "MAX_PAYLOAD",
    "AbortedError",
    "BadArgumentError",
    "Client",
    "ClientError",
    "ClientState",
    "ClientStats",
    "ClientTimeoutError",
    "ClosedError",
    "ConnectFailedError",
    "DeliveryMode",
    "DiscoveryFailedError",
    "Edge",
    "EdgeProbe",
    "ErrorCode",
    "ForbiddenError",
    "HttpError",
    "Message",
    "NoEdgeError",
    "OverflowPolicy",
    "PingOptions",
    "ProtocolError",
    "QueueFullError",
    "QueuePolicy",
    "ReconnectOptions",
    "ServerError",
    "Subscription",
    "SubscriptionStats",
    "TenantGrant",
    "TokenInfo",
    "TokenProvider",
    "TokenProviderError",
    "TokenReason",
    "TokenRefreshed",
    "UnauthorizedError",
    "connect",
    "create_token",
    "discover_edges",
    "parse_edge",
    "probe_edge",
    "refresh_token",
    "revoke_token",
    "select_fastest_edge",
    "token_id",
]
