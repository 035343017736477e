"""Unit tests of the parts that need no relay: de-duplication, backoff, queues, buffers, edges."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import get_args

import pytest

import fastpubsub
from fastpubsub.dedupe import OverlapFilter
from fastpubsub.options import PublishQueue, backoff_delay
from fastpubsub.subscription import Message, Subscription

K1 = ("a.#", "t", "a.b", b"x")
K2 = ("a.#", "t", "a.b", b"y")


def test_overlap_filter_passes_each_message_once_across_three_connections() -> None:
    f: OverlapFilter[str] = OverlapFilter()
    for c in ("old", "mid", "new"):
        f.track(c)
    assert f.active
    assert [f.accept(c, K1) for c in ("old", "mid", "new")] == [True, False, False]
    assert [f.accept(c, K2) for c in ("new", "old", "mid")] == [True, False, False]


def test_overlap_filter_keeps_a_publisher_s_real_repeats() -> None:
    f: OverlapFilter[str] = OverlapFilter()
    f.track("a")
    f.track("b")
    # The same bytes published twice: each connection carries both copies.
    assert [f.accept("a", K1), f.accept("a", K1), f.accept("b", K1), f.accept("b", K1)] == [True, True, False, False]


def test_overlap_filter_forgets_old_keys_and_everything_with_one_connection_left() -> None:
    now = [0.0]
    f: OverlapFilter[str] = OverlapFilter(horizon=10, clock=lambda: now[0])
    f.track("a")
    f.track("b")
    assert f.accept("a", K1)
    now[0] = 11
    assert f.accept("b", K1)  # forgotten after the horizon
    f.forget("a")
    assert f.active, "a's counts hold for the grace period"
    now[0] = 13
    assert not f.active


def test_overlap_filter_drops_what_the_closed_connection_delivered_just_before_closing() -> None:
    now = [0.0]
    f: OverlapFilter[str] = OverlapFilter(clock=lambda: now[0])
    f.track("old")
    f.track("new")
    assert f.accept("old", K1)
    f.forget("old")  # closes before "new" delivered K1
    now[0] = 0.5
    assert f.active
    assert not f.accept("new", K1), "the same copy arriving on the new connection right after"
    assert f.accept("new", K1), "a second K1 is a new message"
    now[0] = 2.0
    assert not f.active, "after the grace period the single connection pays nothing"
    f.track("new")
    f.track("newer")
    assert f.accept("newer", K1), "nothing from before the grace period is held back"


def test_backoff_is_full_jitter_capped() -> None:
    assert backoff_delay(1, 0.25, 10, lambda: 1.0) == 0.25
    assert backoff_delay(3, 0.25, 10, lambda: 1.0) == 1.0
    assert backoff_delay(30, 0.25, 10, lambda: 1.0) == 10
    assert backoff_delay(5, 0.25, 10, lambda: 0.0) == 0
    samples = {round(backoff_delay(4, 0.25, 10), 6) for _ in range(50)}
    assert len(samples) > 10 and all(0 <= s <= 2 for s in samples)


def test_publish_queue_policies_count_drops() -> None:
    q = PublishQueue(2, "drop-oldest")
    for f in (b"1", b"2", b"3"):
        q.push(f)
    assert (list(q.items), q.dropped) == ([b"2", b"3"], 1)
    q = PublishQueue(2, "drop-newest")
    for f in (b"1", b"2", b"3"):
        q.push(f)
    assert (list(q.items), q.dropped) == ([b"1", b"2"], 1)
    q = PublishQueue(1, "error")
    q.push(b"1")
    with pytest.raises(fastpubsub.QueueFullError):
        q.push(b"2")


async def test_subscription_buffer_drops_oldest_and_ends() -> None:
    async def nothing(_: Subscription) -> None:
        return None

    sub = Subscription("t", "a.#", 2, "drop-oldest", nothing)
    for i in range(5):
        sub._push(Message("t", "a.b", bytes([i]), ("a.#",)))
    assert (sub.stats.received, sub.stats.dropped, sub.stats.buffered) == (5, 3, 2)
    assert [m.payload async for m in _take(sub, 2)] == [b"\x03", b"\x04"]
    with pytest.raises(fastpubsub.ClientTimeoutError):
        await sub.next(timeout=0.05)
    waiter = asyncio.create_task(sub.next())
    await asyncio.sleep(0)
    await sub.unsubscribe()
    with pytest.raises(StopAsyncIteration):
        await waiter


async def _take(sub: Subscription, n: int) -> AsyncIterator[Message]:
    for _ in range(n):
        yield await sub.next()


@pytest.mark.parametrize(
    ("given", "http", "ws"),
    [
        ("http://127.0.0.1:7700", "http://127.0.0.1:7700", "ws://127.0.0.1:7700/ws"),
        ("https://edge.example", "https://edge.example", "wss://edge.example/ws"),
        ("edge.example:8443", "https://edge.example:8443", "wss://edge.example:8443/ws"),
        ("ws://127.0.0.1:1/custom?x=1", "http://127.0.0.1:1", "ws://127.0.0.1:1/custom?x=1"),
    ],
)
def test_parse_edge(given: str, http: str, ws: str) -> None:
    edge = fastpubsub.parse_edge(given)
    assert (edge.http_url, edge.ws_url) == (http, ws)


@pytest.mark.parametrize("bad", ["", "ftp://x", "http://"])
def test_parse_edge_rejects(bad: str) -> None:
    with pytest.raises(fastpubsub.BadArgumentError):
        fastpubsub.parse_edge(bad)


async def test_connect_needs_a_token_or_provider() -> None:
    with pytest.raises(fastpubsub.BadArgumentError):
        await fastpubsub.connect("http://127.0.0.1:9")


def test_every_error_code_has_its_class() -> None:
    from fastpubsub.errors import ERROR_CLASSES

    assert sorted(ERROR_CLASSES) == sorted(
        ["bad_argument", "queue_full", "closed", "aborted", "timeout", "no_edge", "discovery_failed", "connect_failed",
         "unauthorized", "forbidden", "protocol", "token_provider", "http", "server"]
    )
    assert all(issubclass(c, fastpubsub.ClientError) for c in ERROR_CLASSES.values())
    assert sorted(ERROR_CLASSES) == sorted(get_args(fastpubsub.ErrorCode)), "one class per ErrorCode"
    assert all(c.code == code for code, c in ERROR_CLASSES.items())
    assert ERROR_CLASSES["unauthorized"] is fastpubsub.UnauthorizedError
    assert issubclass(fastpubsub.ClientTimeoutError, TimeoutError)
    assert issubclass(fastpubsub.BadArgumentError, ValueError)


def test_an_error_code_cannot_get_a_second_class() -> None:
    with pytest.raises(TypeError, match="already belongs to UnauthorizedError"):

        class AnotherUnauthorized(fastpubsub.ClientError, code="unauthorized"):
            pass
