"""Contract v0.1 wire formats of the WebSocket edge: names, binary publish and delivery frames,
text commands.

The SDK only needs the client side (encode publish, decode delivery, format SUB/UNSUB, parse
server text); the other directions are here too so the test vectors can be checked both ways.
Decoders raise :class:`WireError` with the relay's codes (``bad_frame``, ``invalid_name``, ...).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from typing import Literal, NamedTuple

MAX_PAYLOAD = 65535
MAX_TENANT = 128
MAX_CHANNEL = 256
MAX_PATTERN = 256

PING = "PING"
PONG = "PONG"
RECONNECT = "RECONNECT"

WireErrorCode = Literal["bad_frame", "payload_too_large", "invalid_name", "invalid_pattern", "bad_command"]
DeliveryMode = Literal["broadcast", "one-low-latency", "one-random"]
MODE_NUMBERS: dict[str, int] = {"broadcast": 0, "one-low-latency": 1, "one-random": 2}


class WireError(ValueError):
    def __init__(self, code: WireErrorCode, message: str) -> None:
        super().__init__(message)
        self.code: WireErrorCode = code


# ---- names (contract §3 "Publish validation", §5) ----------------------------------------

_NAME = re.compile(r"[A-Za-z0-9_\-~@.]+")
_WILDCARDS = frozenset("*#>")


def _shown(s: str) -> str:
    return repr(s if len(s) <= 80 else s[:80] + "…")


def _utf8_length(s: str) -> int:
    try:
        return len(s.encode("utf-8"))
    except UnicodeEncodeError:
        return -1


def _check_length(code: WireErrorCode, what: str, s: str, limit: int) -> None:
    if s == "":
        raise WireError(code, f"invalid {what} {_shown(s)}: empty")
    n = _utf8_length(s)
    if n < 0 or n > limit:
        problem = "not well-formed Unicode" if n < 0 else f"{n} bytes, more than {limit}"
        raise WireError(code, f"invalid {what} {_shown(s)}: {problem}")


def _check_tokens(code: WireErrorCode, what: str, s: str) -> None:
    if s.startswith(".") or s.endswith(".") or ".." in s:
        raise WireError(code, f"invalid {what} {_shown(s)}: empty token")


def validate_tenant(s: str) -> None:
    _check_length("invalid_name", "tenant", s, MAX_TENANT)
    if _NAME.fullmatch(s) is None:
        raise WireError("invalid_name", f"invalid tenant {_shown(s)}: only A-Za-z0-9_-~@. are allowed")


def validate_channel(s: str) -> None:
    _check_length("invalid_name", "channel", s, MAX_CHANNEL)
    if any(c in _WILDCARDS for c in s):
        raise WireError("invalid_name", f"invalid channel {_shown(s)}: wildcards are not allowed in a channel")
    if _NAME.fullmatch(s) is None:
        raise WireError("invalid_name", f"invalid channel {_shown(s)}: only A-Za-z0-9_-~@. are allowed")
    _check_tokens("invalid_name", "channel", s)


def validate_pattern(s: str) -> None:
    """Tokens ``abc``, ``*``, ``p*`` anywhere; ``#``, ``>``, ``p#``, ``p>`` only last."""
    _check_length("invalid_pattern", "pattern", s, MAX_PATTERN)
    _check_tokens("invalid_pattern", "pattern", s)
    tokens = s.split(".")
    for i, token in enumerate(tokens):
        body = token[:-1] if token[-1] in _WILDCARDS else token
        if body != "" and _NAME.fullmatch(body) is None:
            raise WireError("invalid_pattern", f"invalid pattern {_shown(s)}: bad characters in {token!r}")
        if token[-1] in "#>" and i != len(tokens) - 1:
            raise WireError("invalid_pattern", f"invalid pattern {_shown(s)}: {token[-1]!r} is allowed only in the last token")


# ---- binary frames (contract §3) ---------------------------------------------------------

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


def _str16(s: str) -> bytes:
    b = s.encode("utf-8")
    return _U16.pack(len(b)) + b


def publish_header(tenant: str, channel: str, delivery: DeliveryMode = "broadcast") -> bytes:
    """Everything before the payload: v1 for broadcast (as the reference SDK sends), v2 otherwise."""
    head = _str16(tenant) + _str16(channel)
    mode = MODE_NUMBERS[delivery]
    return head if mode == 0 else bytes((0x02, mode)) + head


def encode_publish(tenant: str, channel: str, payload: bytes, delivery: DeliveryMode = "broadcast") -> bytes:
    return publish_header(tenant, channel, delivery) + payload


@dataclass(frozen=True, slots=True)
class Publish:
    version: int
    mode: int
    tenant: str
    channel: str
    payload: bytes


def _read_str16(frame: bytes, offset: int, what: str) -> tuple[str, int]:
    if offset + 2 > len(frame):
        raise WireError("bad_frame", f"truncated before the {what} length")
    (n,) = _U16.unpack_from(frame, offset)
    offset += 2
    if n == 0:
        raise WireError("bad_frame", f"empty {what}")
    if offset + n > len(frame):
        raise WireError("bad_frame", f"{what} overruns the frame")
    try:
        return frame[offset : offset + n].decode("utf-8"), offset + n
    except UnicodeDecodeError:
        raise WireError("bad_frame", f"{what} is not UTF-8") from None


def decode_publish(frame: bytes, max_payload: int = MAX_PAYLOAD) -> Publish:
    """The relay side of a publish frame (used by the tests and the vectors)."""
    if len(frame) == 0:
        raise WireError("bad_frame", "empty publish frame")
    version, mode, offset = 1, 0, 0
    if frame[0] == 0x02:
        if len(frame) < 2:
            raise WireError("bad_frame", "truncated before the mode")
        version, mode, offset = 2, frame[1], 2
        if mode > 2:
            raise WireError("bad_frame", f"unknown delivery mode {mode}")
    elif frame[0] != 0x00:
        raise WireError("bad_frame", f"unknown publish version byte {frame[0]:#04x}")
    tenant, offset = _read_str16(frame, offset, "tenant")
    channel, offset = _read_str16(frame, offset, "channel")
    validate_tenant(tenant)
    validate_channel(channel)
    payload = frame[offset:]
    if len(payload) > max_payload:
        raise WireError("payload_too_large", f"payload is {len(payload)} bytes, more than {max_payload}")
    return Publish(version, mode, tenant, channel, payload)


class Delivery(NamedTuple):
    tenant: str
    channel: str
    payload: bytes
    patterns: tuple[str, ...]


def encode_delivery(tenant: str, channel: str, payload: bytes, patterns: tuple[str, ...] | list[str]) -> bytes:
    parts = [b"\x01", _str16(tenant), _str16(channel), _U32.pack(len(payload)), payload, _U16.pack(len(patterns))]
    parts.extend(_str16(p) for p in patterns)
    return b"".join(parts)


def decode_delivery(frame: bytes) -> Delivery:
    """Server→client delivery; raises ``bad_frame`` for anything the reference client drops.
    Inlined index arithmetic: this runs once per received message."""
    end = len(frame)
    if end == 0 or frame[0] != 0x01:
        raise WireError("bad_frame", "not a delivery frame")
    try:
        n = (frame[1] << 8) | frame[2]
        o = 3 + n
        if n == 0 or o > end:
            raise WireError("bad_frame", "bad tenant length")
        tenant = frame[3:o].decode()
        n = (frame[o] << 8) | frame[o + 1]
        start, o = o + 2, o + 2 + n
        if n == 0 or o > end:
            raise WireError("bad_frame", "bad channel length")
        channel = frame[start:o].decode()
        n = (frame[o] << 24) | (frame[o + 1] << 16) | (frame[o + 2] << 8) | frame[o + 3]
        start, o = o + 4, o + 4 + n
        if o > end:
            raise WireError("bad_frame", "payload overruns the frame")
        payload = frame[start:o]
        count = (frame[o] << 8) | frame[o + 1]
        o += 2
        if count == 0:
            raise WireError("bad_frame", "no patterns")
        patterns: list[str] = []
        for _ in range(count):
            n = (frame[o] << 8) | frame[o + 1]
            start, o = o + 2, o + 2 + n
            if n == 0 or o > end:
                raise WireError("bad_frame", "bad pattern length")
            patterns.append(frame[start:o].decode())
    except IndexError:
        raise WireError("bad_frame", "truncated delivery frame") from None
    except UnicodeDecodeError:
        raise WireError("bad_frame", "a name is not UTF-8") from None
    if o != end:
        raise WireError("bad_frame", "bytes after the last pattern")
    return Delivery(tenant, channel, payload, tuple(patterns))


# ---- text frames (contract §4) -----------------------------------------------------------


def format_sub(tenant: str, pattern: str, latest: bool = False) -> str:
    """``SUB:{tenant}:{pattern}``; ``latest`` adds the ``:L`` suffix (latest-mode delivery)."""
    return f"SUB:{tenant}:{pattern}:L" if latest else f"SUB:{tenant}:{pattern}"


def format_unsub(tenant: str, pattern: str) -> str:
    return f"UNSUB:{tenant}:{pattern}"


def format_ok(op: Literal["SUB", "UNSUB"], tenant: str, pattern: str) -> str:
    return f"OK:{op}:{tenant}:{pattern}"


def format_err(code: str, detail: str | None = None) -> str:
    return f"ERR:{code}" if detail is None else f"ERR:{code}:{detail}"


@dataclass(frozen=True, slots=True)
class ClientText:
    """A client command as the relay parses it: ``SUB``/``UNSUB`` with tenant and pattern, or ``PING``."""

    kind: Literal["SUB", "UNSUB", "PING"]
    tenant: str | None = None
    pattern: str | None = None
    latest: bool = False


def parse_client_text(text: str) -> ClientText:
    if text == PING:
        return ClientText("PING")
    for kind in ("SUB", "UNSUB"):
        prefix = f"{kind}:"
        if text.startswith(prefix):
            tenant, sep, pattern = text[len(prefix) :].partition(":")
            if sep == "":
                raise WireError("bad_command", f"{kind} needs {{tenant}}:{{pattern}}, got {text[:40]!r}")
            if kind == "SUB" and pattern.endswith(":L"):  # patterns never contain ':'
                return ClientText("SUB", tenant, pattern[:-2], latest=True)
            return ClientText("SUB" if kind == "SUB" else "UNSUB", tenant, pattern)
    raise WireError("bad_command", f"unknown command {text[:40]!r}")


@dataclass(frozen=True, slots=True)
class ServerText:
    """A parsed server text line. ``kind`` is OK, PONG, ERR, RECONNECT or unknown."""

    kind: Literal["OK", "PONG", "ERR", "RECONNECT", "unknown"]
    op: Literal["SUB", "UNSUB"] | None = None
    tenant: str | None = None
    pattern: str | None = None
    code: str | None = None
    detail: str | None = None
    text: str | None = None


def parse_server_text(text: str) -> ServerText:
    """Like the reference client: OK's tenant and pattern are trimmed; other text is ``unknown``."""
    if text == PONG:
        return ServerText("PONG")
    if text == RECONNECT:
        return ServerText("RECONNECT")
    if text.startswith("ERR:"):
        code, sep, detail = text[4:].partition(":")
        return ServerText("ERR", code=code, detail=detail if sep else None)
    for op in ("SUB", "UNSUB"):
        prefix = f"OK:{op}:"
        if text.startswith(prefix):
            tenant, sep, pattern = text[len(prefix) :].partition(":")
            if sep:
                return ServerText("OK", op="SUB" if op == "SUB" else "UNSUB", tenant=tenant.strip(), pattern=pattern.strip())
            break
    return ServerText("unknown", text=text)
