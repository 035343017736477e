//! spec/vectors/*.json: every valid vector decodes to its fields (and, unless `encode` is false,
//! encodes back byte for byte); every invalid one fails with its error code.
use bytes::Bytes;
use fastpubsub_client::codec::{self, ClientText, DeliveryMode, ServerText};
use fastpubsub_client::names;
use fastpubsub_client::native::{self, Frame, StreamDecoder};
use serde_json::Value;
use std::path::PathBuf;

fn load(file: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../spec/vectors").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["schema"], "fastpubsub-vectors/1");
    let vectors = doc["vectors"].as_array().unwrap().clone();
    assert!(!vectors.is_empty(), "{file} has no vectors");
    vectors
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex {s}");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn input(v: &Value) -> Vec<u8> {
    let mut bytes = unhex(v["hex"].as_str().unwrap());
    bytes.resize(bytes.len() + v.get("append_zeros").and_then(Value::as_u64).unwrap_or(0) as usize, 0);
    bytes
}

fn s(v: &Value, k: &str) -> String {
    v[k].as_str().unwrap_or_else(|| panic!("field {k} in {v}")).to_owned()
}

fn encodes(v: &Value) -> bool {
    v.get("encode").and_then(Value::as_bool) != Some(false)
}

fn mode(n: u64) -> DeliveryMode {
    DeliveryMode::from_wire(n as u8).unwrap()
}

#[test]
fn publish_vectors() {
    for v in load("publish.json") {
        let name = s(&v, "name");
        let bytes = input(&v);
        match v.get("error") {
            Some(err) => assert_eq!(codec::decode_publish(&bytes).err(), err.as_str(), "{name}"),
            None => {
                let f = &v["fields"];
                let p = codec::decode_publish(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(p.version as u64, f["version"].as_u64().unwrap(), "{name}");
                assert_eq!(p.mode, mode(f["mode"].as_u64().unwrap()), "{name}");
                assert_eq!(p.tenant, s(f, "tenant"), "{name}");
                assert_eq!(p.channel, s(f, "channel"), "{name}");
                assert_eq!(hex(&p.payload), s(f, "payload"), "{name}");
                // Version 1 is how broadcast is encoded; version 2 carries a mode (0 included).
                let encoded = if p.version == 2 && p.mode == DeliveryMode::Broadcast {
                    let mut b = vec![0x02, 0x00];
                    b.extend_from_slice(&codec::encode_publish(&p.tenant, &p.channel, &p.payload, p.mode));
                    b
                } else {
                    codec::encode_publish(&p.tenant, &p.channel, &p.payload, p.mode).to_vec()
                };
                if encodes(&v) {
                    assert_eq!(hex(&encoded), hex(&bytes), "{name}: encode");
                }
            }
        }
    }
}

#[test]
fn delivery_vectors() {
    for v in load("delivery.json") {
        let name = s(&v, "name");
        let bytes = Bytes::from(input(&v));
        match v.get("error") {
            Some(err) => assert_eq!(codec::decode_delivery(&bytes).err(), err.as_str(), "{name}"),
            None => {
                let f = &v["fields"];
                let d = codec::decode_delivery(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(d.tenant, s(f, "tenant"), "{name}");
                assert_eq!(d.channel, s(f, "channel"), "{name}");
                assert_eq!(hex(&d.payload), s(f, "payload"), "{name}");
                let patterns: Vec<String> = f["patterns"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
                assert_eq!(d.patterns, patterns, "{name}");
                if encodes(&v) {
                    assert_eq!(codec::encode_delivery(&d), bytes, "{name}: encode");
                }
            }
        }
    }
}

#[test]
fn text_vectors() {
    for v in load("text.json") {
        let name = s(&v, "name");
        let text = s(&v, "text");
        let f = &v["fields"];
        match s(&v, "kind").as_str() {
            "client-text" => match v.get("error") {
                Some(err) => assert_eq!(codec::parse_client_text(&text).err(), err.as_str(), "{name}"),
                None => {
                    let parsed = codec::parse_client_text(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
                    let expected = match f["kind"].as_str().unwrap() {
                        "SUB" => ClientText::Sub {
                            tenant: s(f, "tenant"),
                            pattern: s(f, "pattern"),
                            latest: f.get("latest").and_then(Value::as_bool).unwrap_or(false),
                        },
                        "UNSUB" => ClientText::Unsub {
                            tenant: s(f, "tenant"),
                            pattern: s(f, "pattern"),
                        },
                        "PING" => ClientText::Ping,
                        k => panic!("{name}: kind {k}"),
                    };
                    assert_eq!(parsed, expected, "{name}");
                    if encodes(&v) {
                        assert_eq!(codec::format_client_text(&parsed), text, "{name}: encode");
                    }
                }
            },
            "server-text" => {
                let parsed = codec::parse_server_text(&text);
                let expected = match f["kind"].as_str().unwrap() {
                    "OK" => ServerText::Ok {
                        op: if f["op"] == "SUB" { "SUB" } else { "UNSUB" },
                        tenant: s(f, "tenant"),
                        pattern: s(f, "pattern"),
                    },
                    "PONG" => ServerText::Pong,
                    "RECONNECT" => ServerText::Reconnect,
                    "ERR" => ServerText::Err {
                        code: s(f, "code"),
                        detail: f.get("detail").and_then(Value::as_str).map(str::to_owned),
                    },
                    "unknown" => ServerText::Unknown(s(f, "text")),
                    k => panic!("{name}: kind {k}"),
                };
                assert_eq!(parsed, expected, "{name}");
                if encodes(&v) {
                    assert_eq!(codec::format_server_text(&parsed), text, "{name}: encode");
                }
            }
            k => panic!("{name}: unknown kind {k}"),
        }
    }
}

#[test]
fn name_vectors() {
    for v in load("names.json") {
        let name = s(&v, "name");
        let value = s(&v, "input");
        let result = match s(&v, "kind").as_str() {
            "tenant" => names::validate_tenant(&value),
            "channel" => names::validate_channel(&value),
            "pattern" => names::validate_pattern(&value),
            k => panic!("{name}: kind {k}"),
        };
        assert_eq!(result.err().map(|e| e.code), v.get("error").and_then(Value::as_str), "{name}");
    }
}

fn expected_frame(kind: &str, f: &Value) -> Frame {
    let b = |k: &str| Bytes::from(unhex(&s(f, k)));
    let id = || f["id"].as_u64().unwrap() as u32;
    match kind {
        "AUTH" => Frame::Auth { token: s(f, "token") },
        "SUB" => Frame::Sub {
            id: id(),
            flags: f["flags"].as_u64().unwrap() as u8,
            tenant: s(f, "tenant"),
            pattern: s(f, "pattern"),
        },
        "UNSUB" => Frame::Unsub {
            id: id(),
            tenant: s(f, "tenant"),
            pattern: s(f, "pattern"),
        },
        "PUB" => Frame::Pub {
            mode: mode(f["mode"].as_u64().unwrap()),
            tenant: s(f, "tenant"),
            channel: s(f, "channel"),
            data: b("data"),
        },
        "MSG" => Frame::Msg {
            channel: s(f, "channel"),
            data: b("data"),
        },
        "OK" => Frame::Ok {
            id: id(),
            topic: s(f, "topic"),
        },
        "ERR" => Frame::Err {
            code: s(f, "code"),
            id: id(),
            detail: s(f, "detail"),
        },
        "PING" => Frame::Ping { nonce: b("nonce") },
        "PONG" => Frame::Pong { nonce: b("nonce") },
        "DMSG" => Frame::Dmsg {
            id: id(),
            channel: s(f, "channel"),
            data: b("data"),
        },
        k => panic!("kind {k}"),
    }
}

fn type_of(kind: &str) -> u8 {
    use native::types::*;
    match kind {
        "AUTH" => AUTH,
        "SUB" => SUB,
        "UNSUB" => UNSUB,
        "PUB" => PUB,
        "MSG" => MSG,
        "OK" => OK,
        "ERR" => ERR,
        "PING" => PING,
        "PONG" => PONG,
        _ => DMSG,
    }
}

#[test]
fn native_frame_vectors() {
    for v in load("native-frames.json") {
        let name = s(&v, "name");
        let kind = s(&v, "kind");
        let bytes = input(&v);
        let decoded: Result<Option<Frame>, &str> = native::decode_raw(&bytes).and_then(|raw| {
            if kind == "frame" {
                let f = &v["fields"];
                if v.get("error").is_none() {
                    assert_eq!(raw.ty as u64, f["type"].as_u64().unwrap(), "{name}");
                    assert_eq!(raw.topic, s(f, "topic"), "{name}");
                    assert_eq!(hex(&raw.payload), s(f, "payload"), "{name}");
                }
                return Ok(None);
            }
            if raw.ty != type_of(&kind) {
                return Err("bad_frame");
            }
            Frame::from_raw(raw).map(Some)
        });
        match v.get("error") {
            Some(err) => assert_eq!(decoded.err(), err.as_str(), "{name}"),
            None => {
                let decoded = decoded.unwrap_or_else(|e| panic!("{name}: {e}"));
                if let Some(frame) = decoded {
                    assert_eq!(frame, expected_frame(&kind, &v["fields"]), "{name}");
                    if encodes(&v) {
                        assert_eq!(hex(&frame.encode()), hex(&bytes), "{name}: encode");
                    }
                }
            }
        }
    }
}

#[test]
fn native_stream_vectors() {
    for v in load("native-stream.json") {
        let name = s(&v, "name");
        let bytes = input(&v);
        let max = v.get("max_payload").and_then(Value::as_u64).unwrap_or(native::DEFAULT_MAX_FRAME_PAYLOAD as u64) as usize;
        let expected: Vec<(u64, String, String)> = v["frames"]
            .as_array()
            .map(|a| a.iter().map(|f| (f["type"].as_u64().unwrap(), s(f, "topic"), s(f, "payload"))).collect())
            .unwrap_or_default();
        // Whole, and one byte at a time: the same frames and the same error.
        for split in [bytes.len().max(1), 1] {
            let mut decoder = StreamDecoder::new(max);
            let mut frames = Vec::new();
            let mut error = None;
            'feed: for chunk in bytes.chunks(split) {
                decoder.push(chunk);
                loop {
                    match decoder.next_frame() {
                        Ok(Some(f)) => frames.push((f.ty as u64, f.topic, hex(&f.payload))),
                        Ok(None) => break,
                        Err(e) => {
                            error = Some(e);
                            break 'feed;
                        }
                    }
                }
            }
            assert_eq!(frames, expected, "{name} (chunks of {split})");
            assert_eq!(error, v.get("error").and_then(Value::as_str), "{name} (chunks of {split})");
        }
    }
}
