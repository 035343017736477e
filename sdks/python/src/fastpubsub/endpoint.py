"""Edges: turning what the app gives (a URL or a bare ``host[:port]``) into REST and WebSocket
URLs (contract v0.1 §8), and picking the fastest of several edges by ``GET /ping`` (§7)."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from .errors import BadArgumentError, DiscoveryFailedError, NoEdgeError

PING_TIMEOUT_S = 3.0  # contract §7
DISCOVERY_TIMEOUT_S = 5.0  # contract §8

_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Edge:
    #: REST base without a trailing slash: ``https://host[:port]``.
    http_url: str
    #: WebSocket URL: ``wss://host[:port]/ws`` unless the app gave a ws(s):// URL with its path.
    ws_url: str


def parse_edge(value: str, default_scheme: str = "https") -> Edge:
    """Parses ``https://host``, ``http://host:port``, ``wss://host/ws``, ``ws://host:port/`` or a
    bare ``host[:port]`` (which takes ``default_scheme``)."""
    s = value.strip()
    if s == "":
        raise BadArgumentError("empty edge URL")
    if _SCHEME.match(s) is None:
        s = f"{default_scheme}://{s}"
    try:
        url = urlsplit(s)
        url.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise BadArgumentError(f"invalid edge URL {value!r}") from None
    scheme = url.scheme.lower()
    if scheme not in ("http", "https", "ws", "wss") or url.netloc == "":
        raise BadArgumentError(f"unsupported edge URL {value!r} (http, https, ws or wss)")
    secure = scheme in ("https", "wss")
    host = url.netloc
    if scheme in ("ws", "wss"):
        path = (url.path or "/") + (f"?{url.query}" if url.query else "")
    else:
        path = "/ws"
    return Edge(f"{'https' if secure else 'http'}://{host}", f"{'wss' if secure else 'ws'}://{host}{path}")


@dataclass(frozen=True, slots=True)
class EdgeProbe:
    edge: Edge
    ok: bool
    rtt_ms: float | None = None
    error: str | None = None


async def probe_edge(edge: Edge, timeout: float = PING_TIMEOUT_S) -> EdgeProbe:
    """One ``GET /ping``: ok only for a 2xx whose trimmed body is exactly ``pong``."""
    start = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
            res = await http.get(f"{edge.http_url}/ping", headers={"cache-control": "no-store"})
    except httpx.TimeoutException:
        return EdgeProbe(edge, False, error=f"timed out after {timeout} s")
    except httpx.HTTPError as err:
        return EdgeProbe(edge, False, error=str(err) or type(err).__name__)
    rtt_ms = (time.perf_counter() - start) * 1000
    if not res.is_success:
        return EdgeProbe(edge, False, error=f"HTTP {res.status_code}")
    if res.text.strip() != "pong":
        return EdgeProbe(edge, False, error=f"unexpected body {res.text[:40]!r}")
    return EdgeProbe(edge, True, rtt_ms=rtt_ms)


async def select_fastest_edge(edges: list[Edge], timeout: float = PING_TIMEOUT_S) -> EdgeProbe:
    """Probes every edge in parallel and returns the first (so the fastest) that answers
    ``pong``, cancelling the others. Raises :class:`NoEdgeError` when none does."""
    if not edges:
        raise NoEdgeError("no candidate edges")
    tasks = [asyncio.create_task(probe_edge(e, timeout)) for e in edges]
    failures: list[str] = []
    try:
        for next_done in asyncio.as_completed(tasks):
            probe = await next_done
            if probe.ok:
                return probe
            failures.append(f"{probe.edge.http_url}: {probe.error}")
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    raise NoEdgeError(f"no edge answered /ping ({'; '.join(failures)})")


async def discover_edges(url: str, timeout: float = DISCOVERY_TIMEOUT_S) -> list[Edge]:
    """Reads a discovery document ``{"edges": [...]}`` (contract §8): items are ``host[:port]``
    strings or objects with a ``host`` field; bare hosts take the discovery URL's scheme."""
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
            res = await http.get(url, headers={"cache-control": "no-store"})
    except httpx.HTTPError as err:
        raise DiscoveryFailedError(f"discovery {url} failed: {err or type(err).__name__}") from None
    if not res.is_success:
        raise DiscoveryFailedError(f"discovery {url} answered HTTP {res.status_code}", status=res.status_code)
    try:
        doc = res.json()
    except ValueError:
        raise DiscoveryFailedError(f"discovery {url} answered non-JSON") from None
    items = doc.get("edges") if isinstance(doc, dict) else None
    if not isinstance(items, list) or not items:
        raise DiscoveryFailedError(f"discovery {url} returned no edges")
    scheme = "http" if url.lower().startswith("http:") else "https"
    edges: list[Edge] = []
    for item in items:
        host = item.get("host") if isinstance(item, dict) else item
        if isinstance(host, str) and host.strip():
            edges.append(parse_edge(host.strip().rstrip("/"), scheme))
    if not edges:
        raise DiscoveryFailedError(f"discovery {url} returned no usable edges")
    return edges
