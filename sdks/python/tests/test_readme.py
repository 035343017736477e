"""The README's examples, extracted and run as written against a real relay."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from mypy import api

from relay import Relay

README = Path(__file__).resolve().parents[1] / "README.md"


def example(name: str) -> str:
    m = re.search(rf"<!-- example:{re.escape(name)} -->\n```python\n(.*?)```", README.read_text(), re.S)
    if m is None:
        raise AssertionError(f"README.md has no example:{name} block")
    return m.group(1)


async def run(code: str, path: Path, env: dict[str, str]) -> str:
    path.write_text(code)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(path), env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_example_runs_as_written(relay: Relay, tmp_path: Path) -> None:
    token = await relay.token(pub=["chat.#"], sub=["chat.#"])
    out = await run(example("python"), tmp_path / "example.py", {"FASTPUBSUB_URL": relay.url, "FASTPUBSUB_TOKEN": token})
    assert out == "chat.room1 hello ('chat.#',)\n"


async def test_provider_example_runs_as_written(relay: Relay, tmp_path: Path) -> None:
    env = {"FASTPUBSUB_URL": relay.url, "FASTPUBSUB_MASTER_TOKEN": relay.master_token}
    out = await run(example("python-provider"), tmp_path / "provider.py", env)
    assert out == "chat.lobby hi 1\n"


def test_examples_are_typed() -> None:
    for name in ("python", "python-provider"):
        stdout, stderr, status = api.run(["--strict", "-c", example(name)])
        assert status == 0, stdout + stderr
