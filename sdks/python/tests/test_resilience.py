"""Reconnects against real relays: restart, RECONNECT migration, token refresh, revocation."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import pytest

import fastpubsub
from conftest import StartRelay
from relay import Relay

FAST = fastpubsub.ReconnectOptions(base_delay=0.05, max_delay=0.5, overlap=1.0)


async def collect(sub: fastpubsub.Subscription, count: int, timeout: float = 15) -> list[bytes]:
    out: list[bytes] = []
    deadline = time.monotonic() + timeout
    while len(out) < count:
        out.append((await sub.next(timeout=max(0.01, deadline - time.monotonic()))).payload)
    return out


async def wait_for(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)


async def test_relay_restart_reconnects_restores_subscriptions_and_flushes_the_queue(relay: Relay) -> None:
    token = await relay.token()
    states: list[str] = []
    async with fastpubsub.connect(
        relay.url, token=token, reconnect=FAST, publish_queue_size=5, on_state=states.append,
        ping=fastpubsub.PingOptions(interval=0.5, timeout=2),
    ) as client:
        a = await client.subscribe("demo", "a.#")
        b = await client.subscribe("demo", "b.*")
        await relay.kill()  # a crash: no RECONNECT, the connection just drops
        await wait_for(lambda: client.state == "reconnecting", 5, "reconnecting state")
        for i in range(8):
            await client.publish("demo", "a.q", bytes([i]))  # queued while disconnected
        assert (client.stats.queued, client.stats.queue_dropped) == (5, 3)
        await relay.start(port=relay.port)
        await wait_for(lambda: client.state == "connected", 15, "reconnected")
        assert await collect(a, 5) == [bytes([i]) for i in range(3, 8)]  # drop-oldest kept the newest 5
        await client.publish("demo", "b.x", b"after")
        assert (await b.next(timeout=5)).payload == b"after"
        assert client.stats.reconnects == 1 and client.stats.queued == 0
        assert states[:3] == ["connecting", "connected", "reconnecting"] and states[-1] == "connected"


async def test_reconnect_from_a_draining_relay_migrates_without_loss_or_duplicates(start_relay: StartRelay, tmp_path: Path) -> None:
    config = tmp_path / "relay.json"
    config.write_text(json.dumps({"reconnectGraceMs": 4000, "shutdownGraceMs": 6000}))
    first = await start_relay(extra=["--config", str(config)])
    token = await first.token()
    # The second relay reads the same token store at start, so the token works on both.
    second = await start_relay(data_dir=first.data_dir, master_token=first.master_token)
    states: list[str] = []
    async with fastpubsub.connect([first.url, second.url], token=token, reconnect=FAST, on_state=states.append) as client:
        assert client.edge is not None
        draining, other = (first, second) if client.edge.http_url == first.url else (second, first)
        sub = await client.subscribe("demo", "seq.#")
        total = 300

        async def publish_all() -> None:
            for i in range(total):
                await client.publish("demo", "seq.n", i.to_bytes(4, "big"))
                await asyncio.sleep(0.005)

        publisher = asyncio.create_task(publish_all())
        await asyncio.sleep(0.3)
        stopping = asyncio.create_task(draining.stop())  # SIGTERM: the relay sends RECONNECT
        await publisher
        got = [int.from_bytes(p, "big") for p in await collect(sub, total)]
        assert sorted(got) == list(range(total)), "lost or duplicated messages"
        assert client.edge.http_url == other.url
        assert client.stats.reconnects == 1
        assert "reconnecting" not in states, f"make-before-break should never disconnect: {states}"
        await stopping


async def test_token_refreshed_by_the_provider_before_expiry_loses_nothing(relay: Relay) -> None:
    calls: list[str] = []

    async def provider(reason: fastpubsub.TokenReason) -> fastpubsub.TokenInfo:
        calls.append(reason)
        return fastpubsub.TokenInfo(await relay.token(ttl=3), time.time() + 3)

    states: list[str] = []
    # The default 5 s overlap with a refresh every 1.5 s keeps three connections live at once.
    slow_overlap = fastpubsub.ReconnectOptions(base_delay=0.05, max_delay=0.5)
    publisher = await fastpubsub.connect(relay.url, token=await relay.token())
    async with fastpubsub.connect(relay.url, token_provider=provider, reconnect=slow_overlap, on_state=states.append) as client:
        sub = await client.subscribe("demo", "t.#")
        total = 400
        for i in range(total):  # about 4 s: at least two refreshes (each at half the 3 s lifetime)
            await publisher.publish("demo", "t.n", i.to_bytes(4, "big"))
            await asyncio.sleep(0.01)
        got = [int.from_bytes(p, "big") for p in await collect(sub, total)]
        assert got == list(range(total))
        await asyncio.sleep(0.3)
        assert sub.next_nowait() is None, "a duplicate arrived"
        assert client.stats.duplicates_dropped > 0
        await publisher.close()
        assert calls[0] == "initial" and calls.count("expiring") >= 2, calls
        assert client.stats.reconnects >= 2
        assert "reconnecting" not in states


async def test_revoked_token_is_a_terminal_unauthorized_error(relay: Relay) -> None:
    token = await relay.token()
    client = await fastpubsub.connect(relay.url, token=token, reconnect=FAST)
    sub = await client.subscribe("demo", "r.#")
    await fastpubsub.revoke_token(relay.url, relay.master_token, token=token)
    error = await asyncio.wait_for(client.wait_closed(), 10)
    assert isinstance(error, fastpubsub.UnauthorizedError) and error.code == "unauthorized"
    assert client.state == "closed"
    assert isinstance(sub.error, fastpubsub.UnauthorizedError)


async def test_revoked_token_with_a_provider_yielding_it_again_is_terminal_too(relay: Relay) -> None:
    token = await relay.token()
    calls: list[str] = []

    async def stale_provider(reason: fastpubsub.TokenReason) -> str:
        calls.append(reason)
        return token

    client = await fastpubsub.connect(relay.url, token=token, token_provider=stale_provider, reconnect=FAST)
    await fastpubsub.revoke_token(relay.url, relay.master_token, token=token)
    error = await asyncio.wait_for(client.wait_closed(), 10)
    assert isinstance(error, fastpubsub.UnauthorizedError)
    assert calls == ["unauthorized"]


async def test_a_401_on_reconnect_takes_a_fresh_token_from_the_provider(relay: Relay) -> None:
    first = await relay.token()

    async def provider(reason: fastpubsub.TokenReason) -> str:
        return await relay.token()

    async with fastpubsub.connect(relay.url, token=first, token_provider=provider, reconnect=FAST) as client:
        sub = await client.subscribe("demo", "f.#")
        await fastpubsub.revoke_token(relay.url, relay.master_token, token=first)
        await wait_for(lambda: client.stats.reconnects == 1 and client.state == "connected", 10, "reconnect with a new token")
        await client.publish("demo", "f.x", b"fresh")
        assert (await sub.next(timeout=5)).payload == b"fresh"


async def test_a_stalled_relay_is_detected_by_ping_and_the_client_recovers(relay: Relay) -> None:
    token = await relay.token()
    states: list[str] = []
    ping = fastpubsub.PingOptions(interval=0.2, timeout=0.6)
    async with fastpubsub.connect(relay.url, token=token, reconnect=FAST, ping=ping, open_timeout=1, on_state=states.append) as client:
        sub = await client.subscribe("demo", "p.#")
        assert relay.proc is not None
        relay.proc.send_signal(signal.SIGSTOP)  # the process stops answering; sockets stay open
        try:
            await wait_for(lambda: client.state == "reconnecting", 5, "ping timeout")
        finally:
            relay.proc.send_signal(signal.SIGCONT)
        await wait_for(lambda: client.state == "connected", 15, "reconnected")
        await client.publish("demo", "p.x", b"back")
        assert (await sub.next(timeout=5)).payload == b"back"
        assert states.count("reconnecting") >= 1


async def test_max_attempts_ends_the_client_with_the_last_error(relay: Relay) -> None:
    token = await relay.token()
    gave_up = fastpubsub.ReconnectOptions(base_delay=0.05, max_delay=0.1, max_attempts=3)
    client = await fastpubsub.connect(relay.url, token=token, reconnect=gave_up)
    sub = await client.subscribe("demo", "m.#")
    await relay.kill()
    error = await asyncio.wait_for(client.wait_closed(), 10)
    assert isinstance(error, fastpubsub.ConnectFailedError) and error.code == "connect_failed"
    assert client.state == "closed" and sub.ended
    with pytest.raises(fastpubsub.ClosedError):
        await client.publish("demo", "m.x", b"late")


async def test_subscribe_while_disconnected_completes_after_the_reconnect(relay: Relay) -> None:
    token = await relay.token()
    ping = fastpubsub.PingOptions(interval=0.5, timeout=2)
    async with fastpubsub.connect(relay.url, token=token, reconnect=FAST, ping=ping, publish_queue_policy="error", publish_queue_size=1) as client:
        await relay.kill()
        await wait_for(lambda: client.state == "reconnecting", 5, "reconnecting state")
        pending = asyncio.create_task(client.subscribe("demo", "late.#"))
        await client.publish("demo", "late.x", b"queued")
        with pytest.raises(fastpubsub.QueueFullError):
            await client.publish("demo", "late.x", b"no room")
        await asyncio.sleep(0.2)
        assert not pending.done()
        await relay.start(port=relay.port)
        sub = await asyncio.wait_for(pending, 15)
        assert (await sub.next(timeout=5)).payload == b"queued"  # the queue drains after the SUB
        await client.flush(timeout=5)
        assert client.stats.queue_dropped == 0 and client.stats.published == 1
