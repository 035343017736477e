"""Token REST calls (contract v0.1 §7), authenticated with the master token. Meant for servers
and tools: never ship a master token to an untrusted client."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import httpx

from .endpoint import parse_edge
from .errors import (
    BadArgumentError,
    ClientError,
    ClientTimeoutError,
    ConnectFailedError,
    ForbiddenError,
    HttpError,
    ProtocolError,
    UnauthorizedError,
)

TOKEN_CALL_TIMEOUT_S = 5.0  # contract §7


@dataclass(frozen=True, slots=True)
class TenantGrant:
    """Rights on tenants: exact channels or ``x.#`` prefix trees for publish and subscribe."""

    tenant_ids: list[str]
    allow_channels_pub: list[str] = field(default_factory=list)
    allow_channels_sub: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TokenRefreshed:
    message: str
    new_expires_at: str


def rfc3339(value: datetime | float | str) -> str:
    """A datetime (naive means UTC), epoch seconds, or an RFC 3339 string passed through."""
    if isinstance(value, str):
        return value
    moment = value if isinstance(value, datetime) else datetime.fromtimestamp(value, timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _call(method: str, path: str, body: dict[str, Any], url: str, master_token: str, timeout: float) -> dict[str, Any]:
    base = parse_edge(url).http_url
    target = f"{base}{path}"
    try:
        async with httpx.AsyncClient(timeout=timeout, trust_env=False) as http:
            res = await http.request(
                method,
                target,
                content=json.dumps(body).encode(),
                headers={"authorization": f"Bearer {master_token}", "content-type": "application/json"},
            )
    except httpx.TimeoutException:
        raise ClientTimeoutError(f"{method} {target} timed out after {timeout} s") from None
    except httpx.HTTPError as err:
        raise ConnectFailedError(f"{method} {target} failed: {err}") from err
    text = res.text
    if not res.is_success:
        cls: type[ClientError] = {401: UnauthorizedError, 403: ForbiddenError}.get(res.status_code, HttpError)
        raise cls(f"{method} {path} answered HTTP {res.status_code}: {text[:200]}", status=res.status_code, detail=text)
    try:
        reply = json.loads(text)
    except ValueError:
        raise ProtocolError(f"{method} {path} answered non-JSON: {text[:200]}", status=res.status_code) from None
    if not isinstance(reply, dict):
        raise ProtocolError(f"{method} {path} answered {text[:200]}, not a JSON object", status=res.status_code)
    return reply


def _field(reply: dict[str, Any], name: str, what: str) -> str:
    value = reply.get(name)
    if not isinstance(value, str):
        raise ProtocolError(f"{what} reply lacks {name!r}")
    return value


async def create_token(
    url: str,
    master_token: str,
    *,
    grants: list[TenantGrant],
    expires_at: datetime | float | str,
    created_by: str = "fastpubsub-python",
    description: str | None = None,
    allow_ip_masks: list[str] | None = None,
    allow_regions: list[str] | None = None,
    allowed_ws_origin: list[str] | None = None,
    timeout: float = TOKEN_CALL_TIMEOUT_S,
) -> str:
    """``POST /v1/get-token`` → the new access token ``AT_…`` (expiry at most 24 h ahead)."""
    if not grants:
        raise BadArgumentError("create_token needs at least one grant")
    if created_by.strip() == "":
        raise BadArgumentError("created_by must not be blank")
    body: dict[str, Any] = {
        "right": {
            "tenant_grants": [
                {"tenant_ids": g.tenant_ids, "allow_channels_pub": g.allow_channels_pub, "allow_channels_sub": g.allow_channels_sub}
                for g in grants
            ],
            "allow_ip_masks": allow_ip_masks or [],
            "allow_regions": allow_regions or [],
            "allowed_ws_origin": allowed_ws_origin or [],
            "expires_at": rfc3339(expires_at),
        },
        "created_by": created_by,
    }
    if description is not None:
        body["description"] = description
    return _field(await _call("POST", "/v1/get-token", body, url, master_token, timeout), "token", "get-token")


def token_id(token: str) -> str:
    """The id part of ``AT_{id}_{secret}``."""
    rest = token[3:] if token.startswith("AT_") else token
    ident, sep, secret = rest.partition("_")
    if ident == "" or sep == "" or secret == "":
        raise BadArgumentError("not an access token (expected AT_{id}_{secret})")
    return ident


async def refresh_token(
    url: str, master_token: str, *, token: str, expires_at: datetime | float | str, timeout: float = TOKEN_CALL_TIMEOUT_S
) -> TokenRefreshed:
    """``PUT /v1/refresh-token``: moves the expiry of ``token`` (an ``AT_…`` or its id)."""
    ident = token_id(token) if token.startswith("AT_") else token
    body = {"token_id": ident, "expires_at": rfc3339(expires_at)}
    reply = await _call("PUT", "/v1/refresh-token", body, url, master_token, timeout)
    return TokenRefreshed(_field(reply, "message", "refresh-token"), _field(reply, "new_expires_at", "refresh-token"))


async def revoke_token(url: str, master_token: str, *, token: str, timeout: float = TOKEN_CALL_TIMEOUT_S) -> str:
    """``DELETE /v1/revoke-token`` with a JSON body; returns the server's message."""
    reply = await _call("DELETE", "/v1/revoke-token", {"token": token}, url, master_token, timeout)
    return _field(reply, "message", "revoke-token")
