"""The shared test vectors (spec/vectors/*.json) against the SDK's codec."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fastpubsub import wire

VECTORS = Path(__file__).resolve().parents[3] / "spec" / "vectors"


def load(suite: str) -> list[dict[str, Any]]:
    path = VECTORS / f"{suite}.json"
    if not path.is_file():
        raise FileNotFoundError(f"test vectors missing: {path}")
    vectors: list[dict[str, Any]] = json.loads(path.read_text())["vectors"]
    assert vectors, f"{path} holds no vectors"
    return vectors


def frame_bytes(v: dict[str, Any]) -> bytes:
    return bytes.fromhex(v["hex"]) + bytes(v.get("append_zeros", 0))


def ids(vectors: list[dict[str, Any]]) -> list[str]:
    return [str(v["name"]) for v in vectors]


PUBLISH = load("publish")
DELIVERY = load("delivery")
NAMES = load("names")
TEXT = load("text")


@pytest.mark.parametrize("v", PUBLISH, ids=ids(PUBLISH))
def test_publish(v: dict[str, Any]) -> None:
    data = frame_bytes(v)
    if "error" in v:
        with pytest.raises(wire.WireError) as info:
            wire.decode_publish(data)
        assert info.value.code == v["error"]
        return
    f = v["fields"]
    payload = bytes.fromhex(f["payload"])
    decoded = wire.decode_publish(data)
    assert (decoded.version, decoded.mode, decoded.tenant, decoded.channel, decoded.payload) == (
        f["version"], f["mode"], f["tenant"], f["channel"], payload,
    )
    if f["version"] == 1 or f["mode"] != 0:
        # The SDK writes broadcast as v1 and the deliver-one modes as v2 (it never emits v2 mode 0).
        delivery = {0: "broadcast", 1: "one-low-latency", 2: "one-random"}[f["mode"]]
        assert wire.encode_publish(f["tenant"], f["channel"], payload, delivery) == data  # type: ignore[arg-type]


@pytest.mark.parametrize("v", DELIVERY, ids=ids(DELIVERY))
def test_delivery(v: dict[str, Any]) -> None:
    data = frame_bytes(v)
    if "error" in v:
        with pytest.raises(wire.WireError) as info:
            wire.decode_delivery(data)
        assert info.value.code == v["error"]
        return
    f = v["fields"]
    d = wire.decode_delivery(data)
    assert (d.tenant, d.channel, d.payload, list(d.patterns)) == (
        f["tenant"], f["channel"], bytes.fromhex(f["payload"]), f["patterns"],
    )
    assert wire.encode_delivery(d.tenant, d.channel, d.payload, d.patterns) == data


VALIDATORS = {"tenant": wire.validate_tenant, "channel": wire.validate_channel, "pattern": wire.validate_pattern}


@pytest.mark.parametrize("v", NAMES, ids=ids(NAMES))
def test_names(v: dict[str, Any]) -> None:
    validate = VALIDATORS[v["kind"]]
    if "error" in v:
        with pytest.raises(wire.WireError) as info:
            validate(v["input"])
        assert info.value.code == v["error"]
    else:
        validate(v["input"])


@pytest.mark.parametrize("v", TEXT, ids=ids(TEXT))
def test_text(v: dict[str, Any]) -> None:
    text: str = v["text"]
    if v["kind"] == "client-text":
        if "error" in v:
            with pytest.raises(wire.WireError) as info:
                wire.parse_client_text(text)
            assert info.value.code == v["error"]
            return
        f = v["fields"]
        parsed = wire.parse_client_text(text)
        assert parsed.kind == f["kind"]
        if f["kind"] == "PING":
            assert text == wire.PING
        else:
            assert (parsed.tenant, parsed.pattern, parsed.latest) == (f["tenant"], f["pattern"], f.get("latest", False))
            if f["kind"] == "SUB":
                assert wire.format_sub(f["tenant"], f["pattern"], latest=f.get("latest", False)) == text
            else:
                assert wire.format_unsub(f["tenant"], f["pattern"]) == text
        return
    assert v["kind"] == "server-text"
    f = v["fields"]
    server = wire.parse_server_text(text)
    assert server.kind == f["kind"]
    if f["kind"] == "OK":
        assert (server.op, server.tenant, server.pattern) == (f["op"], f["tenant"], f["pattern"])
        if v.get("encode", True):
            assert wire.format_ok(f["op"], f["tenant"], f["pattern"]) == text
    elif f["kind"] == "ERR":
        assert (server.code, server.detail) == (f["code"], f.get("detail"))
        if v.get("encode", True):
            assert wire.format_err(f["code"], f.get("detail")) == text
    elif f["kind"] == "unknown":
        assert server.text == f["text"]


def test_every_suite_is_covered() -> None:
    # The native (QUIC edge) and mesh suites belong to transports this SDK does not implement.
    suites = {p.stem for p in VECTORS.glob("*.json")}
    assert {"publish", "delivery", "names", "text"} <= suites
    assert suites - {"publish", "delivery", "names", "text"} <= {"native-frames", "native-stream", "presence-frames"}
