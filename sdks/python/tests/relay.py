"""Starts real relays from this repository for the integration tests (loopback only)."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import signal
import time
from pathlib import Path

import fastpubsub

REPO = Path(__file__).resolve().parents[3]
CLI = REPO / "packages" / "cli" / "bin" / "fastpubsub.js"
_LISTENING = re.compile(r"fastpubsub relay listening on (http://127\.0\.0\.1:(\d+))")


class Relay:
    """One relay process. ``start()`` waits for its "listening" line; ``stop()`` sends SIGTERM
    (graceful: clients get RECONNECT) and waits, killing it after ``timeout``."""

    def __init__(self, data_dir: Path, master_token: str | None = None) -> None:
        self.data_dir = data_dir
        self.master_token = master_token or secrets.token_hex(20)
        self.port = 0
        self.url = ""
        self.proc: asyncio.subprocess.Process | None = None
        self.log: list[str] = []
        self._pump: asyncio.Task[None] | None = None

    async def start(self, port: int | None = None, extra: list[str] | None = None) -> Relay:
        if not CLI.is_file():
            raise FileNotFoundError(f"relay CLI missing: {CLI} (run npm ci and npm run build at the repo root)")
        listen = f"127.0.0.1:{self.port if port is None else port}"
        self.proc = await asyncio.create_subprocess_exec(
            "node", str(CLI), "relay", "--listen", listen, "--master-token", self.master_token,
            "--data-dir", str(self.data_dir), "--log-level", "warn", *(extra or []),
            cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "NODE_NO_WARNINGS": "1"},
        )
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                line = (await asyncio.wait_for(self.proc.stdout.readline(), deadline - time.monotonic())).decode()
            except TimeoutError:
                break
            if line == "":
                break
            self.log.append(line)
            m = _LISTENING.search(line)
            if m is not None:
                self.url, self.port = m.group(1), int(m.group(2))
                self._pump = asyncio.create_task(self._drain_output())
                return self
        await self.kill()
        raise RuntimeError("relay did not start:\n" + "".join(self.log[-20:]))

    async def _drain_output(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            self.log.append(line.decode())
            del self.log[:-200]

    async def stop(self, timeout: float = 20) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        if self._pump is not None:
            await asyncio.gather(self._pump, return_exceptions=True)
        self.proc = None

    async def kill(self) -> None:
        proc = self.proc
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        self.proc = None

    async def token(self, tenant: str = "demo", pub: list[str] | None = None, sub: list[str] | None = None, ttl: float = 600) -> str:
        grant = fastpubsub.TenantGrant([tenant], pub if pub is not None else ["#"], sub if sub is not None else ["#"])
        return await fastpubsub.create_token(self.url, self.master_token, grants=[grant], expires_at=time.time() + ttl)
