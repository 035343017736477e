"""The client against a real relay: echo, payload sizes, wildcards, unsubscribe, validation,
server errors, delivery modes, stats, edges, token REST helpers."""

from __future__ import annotations

import asyncio
import time

import pytest

import fastpubsub
from relay import Relay


async def test_echo_byte_exact_payloads(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(relay.url, token=token) as client:
        sub = await client.subscribe("demo", "chat.#")
        payloads = [b"", b"\x00", bytes(range(256)) * 255 + bytes(range(255))]
        assert len(payloads[2]) == 65535
        for p in payloads:
            await client.publish("demo", "chat.room1", p)
        for p in payloads:
            msg = await sub.next(timeout=5)
            assert (msg.tenant, msg.channel, msg.payload, msg.patterns) == ("demo", "chat.room1", p, ("chat.#",))
        assert client.stats.published == 3
        assert sub.stats.received == 3
    assert client.state == "closed"


async def test_wildcards_and_the_matched_pattern_list(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(relay.url, token=token) as client:
        deep = await client.subscribe("demo", "a.#")
        one = await client.subscribe("demo", "a.b.*")
        await client.publish("demo", "a.b.c", b"1")
        await client.publish("demo", "a.b", b"2")
        await client.publish("demo", "a.b.c.d", b"3")
        first = await deep.next(timeout=5)
        assert first.payload == b"1" and sorted(first.patterns) == ["a.#", "a.b.*"]
        assert (await one.next(timeout=5)).payload == b"1"
        assert [(await deep.next(timeout=5)).payload for _ in range(2)] == [b"2", b"3"]
        with pytest.raises(fastpubsub.ClientTimeoutError):
            await one.next(timeout=0.3)  # a.b and a.b.c.d do not match a.b.*


async def test_unsubscribe_stops_delivery(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(relay.url, token=token) as client:
        sub = await client.subscribe("demo", "x.#")
        probe = await client.subscribe("demo", "y.#")
        await sub.unsubscribe()
        await client.publish("demo", "x.1", b"gone")
        await client.publish("demo", "y.1", b"after")
        assert (await probe.next(timeout=5)).payload == b"after"  # UNSUB was processed before this
        with pytest.raises(StopAsyncIteration):
            await sub.next(timeout=1)
        assert sub.stats.received == 0


async def test_unsubscribe_then_subscribe_again_at_once_keeps_delivering(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(relay.url, token=token) as client:
        for round_ in range(3):
            sub = await client.subscribe("demo", "again.#")
            await client.publish("demo", "again.x", bytes([round_]))
            assert (await sub.next(timeout=5)).payload == bytes([round_])
            await sub.unsubscribe()


async def test_bad_input_is_refused_before_sending(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(relay.url, token=token) as client:
        cases = [
            client.publish("demo", "chat.*", b"x"),
            client.publish("demo", "chat.#", b"x"),
            client.publish("", "chat", b"x"),
            client.publish("demo", "chat", bytes(65536)),
            client.publish("demo", "chat", b"x", delivery="everyone"),  # type: ignore[arg-type]
            client.subscribe("demo", "   "),
            client.subscribe("", "a.#"),
            client.subscribe("demo", "a.#.b"),
        ]
        for case in cases:
            with pytest.raises(fastpubsub.BadArgumentError) as info:
                await case
            assert info.value.code == "bad_argument"
        assert client.stats.published == 0
        assert client.state == "connected"


async def test_forbidden_publish_and_subscribe_get_server_errors_and_the_connection_lives_on(relay: Relay) -> None:
    token = await relay.token(pub=["chat.#"], sub=["chat.#"])
    errors: list[fastpubsub.ClientError] = []
    async with fastpubsub.connect(relay.url, token=token, on_error=errors.append) as client:
        with pytest.raises(fastpubsub.ServerError) as info:
            await client.subscribe("demo", "secret.#")
        assert info.value.server_code == "permission_denied"
        sub = await client.subscribe("demo", "chat.#")
        await client.publish("demo", "secret.x", b"no")
        await client.publish("demo", "chat.x", b"yes")
        assert (await sub.next(timeout=5)).payload == b"yes"
        assert [e.server_code for e in errors] == ["permission_denied"]
        assert isinstance(errors[0], fastpubsub.ServerError) and errors[0].code == "server"


async def test_deliver_one_reaches_exactly_one_subscriber(relay: Relay) -> None:
    token = await relay.token()
    clients = [await fastpubsub.connect(relay.url, token=token) for _ in range(3)]
    try:
        subs = [await c.subscribe("demo", "work.#") for c in clients]
        for mode in ("one-low-latency", "one-random"):
            for i in range(30):
                await clients[0].publish("demo", "work.item", f"{mode}{i}".encode(), delivery=mode)
        await clients[0].publish("demo", "work.end", b"end")  # broadcast: a marker on every subscriber
        seen: list[bytes] = []
        for sub in subs:
            while (msg := await sub.next(timeout=5)).payload != b"end":
                seen.append(msg.payload)
        assert sorted(seen) == sorted(f"{m}{i}".encode() for m in ("one-low-latency", "one-random") for i in range(30))
    finally:
        for c in clients:
            await c.close()


async def test_slow_consumer_drops_are_counted(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(relay.url, token=token) as client:
        sub = await client.subscribe("demo", "fast.#", buffer_size=10)
        marker = await client.subscribe("demo", "mark")
        for i in range(100):
            await client.publish("demo", "fast.x", i.to_bytes(2, "big"))
        await client.publish("demo", "mark", b"")
        await marker.next(timeout=5)
        assert (sub.stats.received, sub.stats.dropped, sub.stats.buffered) == (100, 90, 10)
        assert [int.from_bytes((await sub.next()).payload, "big") for _ in range(10)] == list(range(90, 100))


async def test_rtt_is_measured(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(relay.url, token=token, ping=fastpubsub.PingOptions(interval=0.1, timeout=5)) as client:
        for _ in range(100):
            if client.rtt_ms is not None:
                break
            await asyncio.sleep(0.05)
        assert client.rtt_ms is not None and 0 < client.rtt_ms < 2000


async def test_bad_token_is_unauthorized(relay: Relay) -> None:
    with pytest.raises(fastpubsub.UnauthorizedError) as info:
        await fastpubsub.connect(relay.url, token="AT_0000_1111")
    assert info.value.code == "unauthorized" and info.value.status == 401


async def test_fastest_edge_skips_dead_ones(relay: Relay) -> None:
    token = await relay.token()
    dead = "http://127.0.0.1:9"  # discard port: nothing listens
    async with fastpubsub.connect([dead, relay.url], token=token) as client:
        assert client.edge is not None and client.edge.http_url == relay.url
    with pytest.raises(fastpubsub.NoEdgeError):
        await fastpubsub.connect([dead, "http://127.0.0.1:7"], token=token)


async def test_discovery_url_lists_the_edges(relay: Relay) -> None:
    token = await relay.token()
    async with fastpubsub.connect(discovery=f"{relay.url}/v1/edges", token=token) as client:
        assert client.edge is not None and client.edge.http_url == relay.url
    with pytest.raises(fastpubsub.DiscoveryFailedError) as info:
        await fastpubsub.connect(discovery=f"{relay.url}/no-such-document", token=token)
    assert info.value.status == 404
    with pytest.raises(fastpubsub.BadArgumentError):
        await fastpubsub.connect(relay.url, discovery=f"{relay.url}/v1/edges", token=token)


async def test_token_rest_helpers(relay: Relay) -> None:
    token = await relay.token()
    assert token.startswith("AT_") and fastpubsub.token_id(token) == token[3:].split("_")[0]
    refreshed = await fastpubsub.refresh_token(relay.url, relay.master_token, token=token, expires_at=time.time() + 3600)
    assert refreshed.message and refreshed.new_expires_at
    with pytest.raises(fastpubsub.UnauthorizedError):
        await fastpubsub.create_token(
            relay.url, "wrong-master-token-wrong-master-token",
            grants=[fastpubsub.TenantGrant(["demo"], ["#"], ["#"])], expires_at=time.time() + 60,
        )
    with pytest.raises(fastpubsub.HttpError) as info:
        await fastpubsub.create_token(
            relay.url, relay.master_token, grants=[fastpubsub.TenantGrant(["demo"], ["#"], ["#"])], expires_at=time.time() + 25 * 3600,
        )
    assert info.value.status == 400
    assert await fastpubsub.revoke_token(relay.url, relay.master_token, token=token)
    with pytest.raises(fastpubsub.UnauthorizedError):
        await fastpubsub.connect(relay.url, token=token)


async def test_close_leaves_no_task_behind(relay: Relay) -> None:
    before = asyncio.all_tasks()

    async def provider(reason: fastpubsub.TokenReason) -> fastpubsub.TokenInfo:
        return fastpubsub.TokenInfo(await relay.token(), time.time() + 600)

    client = await fastpubsub.connect([relay.url, relay.url], token_provider=provider, ping=fastpubsub.PingOptions(interval=0.05))
    sub = await client.subscribe("demo", "leak.#")
    await client.publish("demo", "leak.x", b"1")
    await sub.next(timeout=5)
    assert len(asyncio.all_tasks() - before) >= 3  # reader, ping, token refresh
    await client.close()
    await asyncio.sleep(0)
    assert asyncio.all_tasks() - before == set()


async def test_a_raising_listener_does_not_break_the_client(relay: Relay, caplog: pytest.LogCaptureFixture) -> None:
    def bad_listener(state: fastpubsub.ClientState) -> None:
        raise RuntimeError(f"listener bug at {state}")

    async with fastpubsub.connect(relay.url, token=await relay.token(), on_state=bad_listener) as client:
        sub = await client.subscribe("demo", "l.#")
        await client.publish("demo", "l.x", b"ok")
        assert (await sub.next(timeout=5)).payload == b"ok"
    assert "listener bug at connected" in caplog.text
