"""The conformance driver, driven over its stdin/stdout protocol against a real relay."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

from relay import REPO, Relay

DRIVER = Path(__file__).resolve().parents[1] / "driver"


class DriverProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.events: list[dict[str, Any]] = []
        self.next_id = 0

    async def read(self, timeout: float = 10) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        assert line, "driver closed stdout"
        obj: dict[str, Any] = json.loads(line)
        return obj

    async def call(self, op: str, **fields: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps({"id": ident, "op": op, **fields}) + "\n").encode())
        await self.proc.stdin.drain()
        while True:
            obj = await self.read(30)
            if "event" in obj:
                self.events.append(obj)
            elif obj.get("id") == ident:
                return obj

    async def event(self, kind: str, timeout: float = 10) -> dict[str, Any]:
        for i, e in enumerate(self.events):
            if e["event"] == kind:
                return self.events.pop(i)
        while True:
            obj = await self.read(timeout)
            if obj.get("event") == kind:
                return obj
            self.events.append(obj)


async def start_driver() -> DriverProcess:
    proc = await asyncio.create_subprocess_exec(
        str(DRIVER), cwd=REPO, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 24
    )
    d = DriverProcess(proc)
    ready = await d.read()
    assert ready == {"event": "ready", "sdk": "python", "transports": ["websocket"]}
    return d


async def test_driver_speaks_the_protocol(relay: Relay) -> None:
    token = await relay.token(pub=["chat.#"], sub=["chat.#"])
    d = await start_driver()
    try:
        assert (await d.call("connect", endpoint=relay.url, token=token)) == {"id": 1, "ok": True, "edge": relay.url}
        assert (await d.call("subscribe", sub="s", tenant="demo", pattern="chat.#"))["ok"]
        big = bytes(65535)
        assert (await d.call("publish", tenant="demo", channel="chat.a", payload=base64.b64encode(big).decode()))["ok"]
        msg = await d.event("message")
        assert (msg["sub"], msg["channel"], msg["patterns"]) == ("s", "chat.a", ["chat.#"])
        assert base64.b64decode(msg["payload"]) == big
        bad = await d.call("publish", tenant="demo", channel="chat.*", payload="")
        assert bad["error"]["code"] == "bad_argument"
        denied = await d.call("subscribe", sub="x", tenant="demo", pattern="secret.#")
        assert denied["error"]["code"] == "server" and denied["error"]["serverCode"] == "permission_denied"
        assert (await d.call("nope"))["error"]["code"] == "bad_argument"
        stats = await d.call("stats")
        assert stats["published"] == 1 and stats["reconnects"] == 0
        assert (await d.call("stats", sub="s")) == {"id": d.next_id, "ok": True, "received": 1, "dropped": 0}
        tp = await d.call("throughput", tenant="demo", channel="chat.tp", count=2000, size=256, timeoutMs=20000)
        assert tp["received"] == 2000 and tp["messagesPerSecond"] > 0
        assert (await d.call("close"))["ok"]
        assert (await d.event("closed"))["error"] is None
        assert (await d.call("exit"))["ok"]
        assert await asyncio.wait_for(d.proc.wait(), 10) == 0
    finally:
        if d.proc.returncode is None:
            d.proc.kill()
            await d.proc.wait()
