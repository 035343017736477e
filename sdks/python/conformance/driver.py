"""Conformance driver for the Python SDK (spec/conformance/driver-protocol.md).

Reads commands as JSON lines on stdin, writes replies and events as JSON lines on stdout. Uses
only the public API of ``fastpubsub``. Commands run concurrently; each gets exactly one reply."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import fastpubsub

SDK = "python"


def emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def error_json(err: BaseException) -> dict[str, Any]:
    if isinstance(err, fastpubsub.ClientError):
        return {"code": err.code, "serverCode": err.server_code, "message": err.message}
    return {"code": "bad_argument", "serverCode": None, "message": f"{type(err).__name__}: {err}"}


async def measure(
    client: fastpubsub.Client, tenant: str, channel: str, count: int, size: int, timeout: float, window: int = 2000
) -> tuple[int, float]:
    """Publishes ``count`` payloads of ``size`` bytes and counts them back on a fresh
    subscription. At most ``window`` messages are in flight, so the receiving side is never
    starved by the publishing loop (nothing is dropped for the SDK's own buffers)."""
    window = max(1, window)
    sub = await client.subscribe(tenant, channel, buffer_size=window * 2)
    payload = bytes(i & 0xFF for i in range(size))
    received = 0
    progress = asyncio.Event()

    async def consume() -> None:
        nonlocal received
        while received < count:
            msg = sub.next_nowait()
            if msg is None:
                msg = await sub.next()
            received += 1
            if received % 256 == 0 or received == count:
                progress.set()

    start = time.perf_counter()
    consumer = asyncio.create_task(consume())
    try:
        async with asyncio.timeout(timeout):
            for i in range(count):
                while i - received >= window:
                    progress.clear()
                    await progress.wait()
                await client.publish(tenant, channel, payload)
            await consumer
    except TimeoutError:
        pass
    finally:
        seconds = time.perf_counter() - start
        consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
        await sub.unsubscribe()
    return received, seconds


def need(cmd: dict[str, Any], name: str) -> Any:
    if name not in cmd:
        raise fastpubsub.BadArgumentError(f"missing field {name!r}")
    return cmd[name]


@dataclass
class SubState:
    sub: fastpubsub.Subscription
    consumer: asyncio.Task[None] | None = None


@dataclass
class ClientState:
    name: str
    client: fastpubsub.Client | None = None
    subs: dict[str, SubState] = field(default_factory=dict)


class Driver:
    def __init__(self) -> None:
        self.clients: dict[str, ClientState] = {}
        self.tasks: set[asyncio.Task[None]] = set()
        self.exiting = asyncio.Event()

    def state(self, cmd: dict[str, Any]) -> ClientState:
        name = str(cmd.get("client", "default"))
        return self.clients.setdefault(name, ClientState(name))

    def client(self, cmd: dict[str, Any]) -> fastpubsub.Client:
        st = self.state(cmd)
        if st.client is None:
            raise fastpubsub.ClosedError(f"client {st.name!r} is not connected")
        return st.client

    def sub(self, cmd: dict[str, Any]) -> SubState:
        st = self.state(cmd)
        name = str(need(cmd, "sub"))
        if name not in st.subs:
            raise fastpubsub.BadArgumentError(f"no subscription {name!r} on client {st.name!r}")
        return st.subs[name]

    async def run_command(self, cmd: dict[str, Any]) -> None:
        ident = cmd.get("id")
        try:
            op = cmd.get("op")
            handler = getattr(self, f"op_{op}", None) if isinstance(op, str) else None
            if handler is None:
                raise fastpubsub.BadArgumentError(f"unknown op {op!r}")
            result: dict[str, Any] = await handler(cmd)
            emit({"id": ident, "ok": True, **result})
        except Exception as err:  # every command gets exactly one reply
            emit({"id": ident, "ok": False, "error": error_json(err)})

    # ---- ops ---------------------------------------------------------------------------------

    async def op_connect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        st = self.state(cmd)
        name = st.name
        if cmd.get("transport", "websocket") != "websocket":
            raise fastpubsub.BadArgumentError(f"transport {cmd.get('transport')!r} is not supported by this SDK")
        endpoint: str | list[str] = cmd["edges"] if "edges" in cmd else need(cmd, "endpoint")
        kwargs: dict[str, Any] = {}
        if "tokenProvider" in cmd:
            kwargs["token_provider"] = self.token_provider(name, cmd["tokenProvider"])
        else:
            kwargs["token"] = need(cmd, "token")
        if "reconnect" in cmd:
            r = cmd["reconnect"]
            kwargs["reconnect"] = fastpubsub.ReconnectOptions(
                base_delay=r.get("baseDelayMs", 250) / 1000, max_delay=r.get("maxDelayMs", 10000) / 1000
            )
        if "publishQueue" in cmd:
            kwargs["publish_queue_size"] = int(cmd["publishQueue"].get("maxMessages", 1000))
        if "ping" in cmd:
            p = cmd["ping"]
            kwargs["ping"] = fastpubsub.PingOptions(interval=p.get("intervalMs", 5000) / 1000, timeout=p.get("timeoutMs", 10000) / 1000)
        if "subscriptionBuffer" in cmd:
            kwargs["subscription_buffer"] = int(cmd["subscriptionBuffer"].get("size", 1024))
        client = await fastpubsub.connect(
            endpoint,
            on_state=lambda s: emit({"event": "state", "client": name, "state": s}),
            on_error=lambda e: emit({"event": "error", "client": name, "error": error_json(e)}),
            on_closed=lambda e: emit({"event": "closed", "client": name, "error": None if e is None else error_json(e)}),
            **kwargs,
        )
        st.client = client
        st.subs.clear()
        return {"edge": client.edge.http_url if client.edge is not None else None}

    def token_provider(self, name: str, spec: dict[str, Any]) -> fastpubsub.TokenProvider:
        grant = fastpubsub.TenantGrant([spec["tenant"]], list(spec.get("pub", [])), list(spec.get("sub", [])))
        ttl = float(spec.get("ttlSeconds", 3600))

        async def provide(reason: fastpubsub.TokenReason) -> fastpubsub.TokenInfo:
            emit({"event": "token_provided", "client": name})
            expires_at = time.time() + ttl
            token = await fastpubsub.create_token(spec["url"], spec["masterToken"], grants=[grant], expires_at=expires_at)
            return fastpubsub.TokenInfo(token, expires_at)

        return provide

    async def op_subscribe(self, cmd: dict[str, Any]) -> dict[str, Any]:
        client = self.client(cmd)
        st = self.state(cmd)
        name = str(need(cmd, "sub"))
        buffer_size = cmd.get("bufferSize")
        sub = await client.subscribe(need(cmd, "tenant"), need(cmd, "pattern"), buffer_size=None if buffer_size is None else int(buffer_size))
        old = st.subs.get(name)
        if old is not None:
            await old.sub.unsubscribe()
        state = SubState(sub)
        st.subs[name] = state
        if not cmd.get("paused", False):
            self.consume(st.name, name, state)
        return {}

    def consume(self, client_name: str, sub_name: str, state: SubState) -> None:
        async def run() -> None:
            try:
                async for msg in state.sub:
                    emit({
                        "event": "message", "client": client_name, "sub": sub_name, "tenant": msg.tenant,
                        "channel": msg.channel, "payload": base64.b64encode(msg.payload).decode(), "patterns": list(msg.patterns),
                    })
            except fastpubsub.ClientError:
                pass  # the subscription ended with an error; the client reports it (closed/error events)

        if state.consumer is None:
            state.consumer = asyncio.create_task(run())

    async def op_unsubscribe(self, cmd: dict[str, Any]) -> dict[str, Any]:
        state = self.sub(cmd)
        await state.sub.unsubscribe()
        return {}

    async def op_resume(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.consume(self.state(cmd).name, str(need(cmd, "sub")), self.sub(cmd))
        return {}

    async def op_publish(self, cmd: dict[str, Any]) -> dict[str, Any]:
        client = self.client(cmd)
        payload = base64.b64decode(cmd.get("payload", ""), validate=True)
        await client.publish(need(cmd, "tenant"), need(cmd, "channel"), payload, delivery=cmd.get("delivery", "broadcast"))
        return {}

    async def op_flush(self, cmd: dict[str, Any]) -> dict[str, Any]:
        await self.client(cmd).flush()
        return {}

    async def op_stats(self, cmd: dict[str, Any]) -> dict[str, Any]:
        if "sub" in cmd:
            s = self.sub(cmd).sub.stats
            return {"received": s.received, "dropped": s.dropped}
        c = self.client(cmd).stats
        return {"published": c.published, "queued": c.queued, "queueDropped": c.queue_dropped, "reconnects": c.reconnects}

    async def op_ping(self, cmd: dict[str, Any]) -> dict[str, Any]:
        return {"rttMs": self.client(cmd).rtt_ms}

    async def op_close(self, cmd: dict[str, Any]) -> dict[str, Any]:
        st = self.state(cmd)
        if st.client is not None:
            await st.client.close()
        await self.stop_consumers(st)
        return {}

    async def op_throughput(self, cmd: dict[str, Any]) -> dict[str, Any]:
        client = self.client(cmd)
        tenant, channel = str(need(cmd, "tenant")), str(need(cmd, "channel"))
        count, size = int(need(cmd, "count")), int(need(cmd, "size"))
        timeout = float(cmd.get("timeoutMs", 60000)) / 1000
        window = int(cmd.get("window", 2000))
        received, seconds = await measure(client, tenant, channel, count, size, timeout, window)
        return {"received": received, "seconds": seconds, "messagesPerSecond": received / seconds if seconds > 0 else 0}

    async def op_exit(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.exiting.set()
        return {}

    # ---- lifecycle -----------------------------------------------------------------------

    async def stop_consumers(self, st: ClientState) -> None:
        tasks = [s.consumer for s in st.subs.values() if s.consumer is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def shutdown(self) -> None:
        for st in self.clients.values():
            if st.client is not None:
                await st.client.close()
            await self.stop_consumers(st)

    async def main(self) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=1 << 24)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        emit({"event": "ready", "sdk": SDK, "transports": ["websocket"]})
        exit_wait = asyncio.create_task(self.exiting.wait())
        while not self.exiting.is_set():
            read = asyncio.create_task(reader.readline())
            await asyncio.wait({read, exit_wait}, return_when=asyncio.FIRST_COMPLETED)
            if not read.done():
                read.cancel()
                break
            line = read.result()
            if line == b"":
                break  # stdin closed: the runner is gone
            if not line.strip():
                continue
            try:
                cmd = json.loads(line)
                if not isinstance(cmd, dict):
                    raise ValueError("a command is a JSON object")
            except ValueError as err:
                emit({"id": None, "ok": False, "error": error_json(fastpubsub.BadArgumentError(f"bad command line: {err}"))})
                continue
            task = asyncio.create_task(self.run_command(cmd))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=2)
        for task in list(self.tasks):
            task.cancel()
        await self.shutdown()


if __name__ == "__main__":
    asyncio.run(Driver().main())
