from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relay import Relay  # noqa: E402

StartRelay = Callable[..., Awaitable[Relay]]


@pytest.fixture
async def start_relay(tmp_path: Path) -> AsyncIterator[StartRelay]:
    """Starts relays on loopback; every one is stopped at the end, also when the test fails."""
    relays: list[Relay] = []

    async def start(data_dir: Path | None = None, master_token: str | None = None, extra: list[str] | None = None) -> Relay:
        relay = Relay(data_dir or tmp_path / f"relay{len(relays)}", master_token)
        relays.append(relay)
        return await relay.start(extra=extra)

    yield start
    for relay in relays:
        await relay.stop(timeout=5)


@pytest.fixture
async def relay(start_relay: StartRelay) -> Relay:
    return await start_relay()
