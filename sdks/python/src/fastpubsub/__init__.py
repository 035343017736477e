"""FastPubSub asyncio client (WebSocket edge, contract v0.1)."""

__version__ = "0.1.0"
