//! Native frames (spec/protocol.md §2–§4): the QUIC edge's framing. A 6-byte header
//! `type | u8 topic_len | u32 payload_len`, then the topic (UTF-8) and the payload.
use crate::codec::{DeliveryMode, Reader};
use crate::names::MAX_PAYLOAD;
use bytes::{Buf, BufMut, Bytes, BytesMut};

pub const HEADER_SIZE: usize = 6;
/// Default decoder limit: the largest payload plus room for a per-type prefix.
pub const DEFAULT_MAX_FRAME_PAYLOAD: usize = MAX_PAYLOAD + 256;
const MAX_NONCE: usize = 64;
const MAX_TOPIC: usize = 255;

pub mod types {
    pub const AUTH: u8 = 0x01;
    pub const SUB: u8 = 0x02;
    pub const UNSUB: u8 = 0x03;
    pub const PUB: u8 = 0x04;
    pub const MSG: u8 = 0x05;
    pub const OK: u8 = 0x06;
    pub const ERR: u8 = 0x07;
    pub const PING: u8 = 0x08;
    pub const PONG: u8 = 0x09;
    pub const DMSG: u8 = 0x0a;
}

/// A frame after the header is parsed: type, topic, raw payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawFrame {
    pub ty: u8,
    pub topic: String,
    pub payload: Bytes,
}

/// A typed client-facing frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Auth {
        token: String,
    },
    Sub {
        id: u32,
        flags: u8,
        tenant: String,
        pattern: String,
    },
    Unsub {
        id: u32,
        tenant: String,
        pattern: String,
    },
    Pub {
        mode: DeliveryMode,
        tenant: String,
        channel: String,
        data: Bytes,
    },
    Msg {
        channel: String,
        data: Bytes,
    },
    Ok {
        id: u32,
        topic: String,
    },
    Err {
        code: String,
        id: u32,
        detail: String,
    },
    Ping {
        nonce: Bytes,
    },
    Pong {
        nonce: Bytes,
    },
    Dmsg {
        id: u32,
        channel: String,
        data: Bytes,
    },
}

fn is_client_type(ty: u8) -> bool {
    (types::AUTH..=types::DMSG).contains(&ty)
}

fn put_header(out: &mut BytesMut, ty: u8, topic: &str, payload_len: usize) {
    out.put_u8(ty);
    out.put_u8(topic.len() as u8);
    out.put_u32(payload_len as u32);
    out.put_slice(topic.as_bytes());
}

impl Frame {
    /// Appends the encoded frame to `out`. Callers keep topics ≤ 255 bytes (names are validated first).
    pub fn encode_into(&self, out: &mut BytesMut) {
        match self {
            Frame::Auth { token } => {
                put_header(out, types::AUTH, "", token.len());
                out.put_slice(token.as_bytes());
            }
            Frame::Sub { id, flags, tenant, pattern } => {
                put_header(out, types::SUB, pattern, 5 + tenant.len());
                out.put_u32(*id);
                out.put_u8(*flags);
                out.put_slice(tenant.as_bytes());
            }
            Frame::Unsub { id, tenant, pattern } => {
                put_header(out, types::UNSUB, pattern, 4 + tenant.len());
                out.put_u32(*id);
                out.put_slice(tenant.as_bytes());
            }
            Frame::Pub { mode, tenant, channel, data } => encode_pub_into(out, *mode, tenant, channel, data),
            Frame::Msg { channel, data } => {
                put_header(out, types::MSG, channel, data.len());
                out.put_slice(data);
            }
            Frame::Ok { id, topic } => {
                put_header(out, types::OK, topic, 4);
                out.put_u32(*id);
            }
            Frame::Err { code, id, detail } => {
                put_header(out, types::ERR, code, 4 + detail.len());
                out.put_u32(*id);
                out.put_slice(detail.as_bytes());
            }
            Frame::Ping { nonce } | Frame::Pong { nonce } => {
                let ty = if matches!(self, Frame::Ping { .. }) { types::PING } else { types::PONG };
                put_header(out, ty, "", nonce.len());
                out.put_slice(nonce);
            }
            Frame::Dmsg { id, channel, data } => {
                put_header(out, types::DMSG, channel, 4 + data.len());
                out.put_u32(*id);
                out.put_slice(data);
            }
        }
    }

    pub fn encode(&self) -> Bytes {
        let mut out = BytesMut::new();
        self.encode_into(&mut out);
        out.freeze()
    }

    /// Decodes the typed frame from a raw one.
    pub fn from_raw(raw: RawFrame) -> Result<Frame, &'static str> {
        let RawFrame { ty, topic, payload } = raw;
        let mut r = Reader::new(&payload);
        let utf8 = |b: &[u8]| std::str::from_utf8(b).map(str::to_owned).map_err(|_| "bad_frame");
        let nonzero = |id: u32| if id == 0 { Err("bad_frame") } else { Ok(id) };
        let frame = match ty {
            types::AUTH => {
                if !topic.is_empty() || payload.is_empty() {
                    return Err("bad_frame");
                }
                Frame::Auth { token: utf8(&payload)? }
            }
            types::SUB => {
                let id = nonzero(r.u32()?)?;
                let flags = r.u8()?;
                Frame::Sub {
                    id,
                    flags,
                    tenant: utf8(r.rest())?,
                    pattern: topic,
                }
            }
            types::UNSUB => {
                let id = nonzero(r.u32()?)?;
                Frame::Unsub {
                    id,
                    tenant: utf8(r.rest())?,
                    pattern: topic,
                }
            }
            types::PUB => {
                if topic.is_empty() {
                    return Err("bad_frame");
                }
                let mode = DeliveryMode::from_wire(r.u8()?).ok_or("bad_frame")?;
                let tenant_len = r.u8()? as usize;
                if tenant_len == 0 {
                    return Err("bad_frame");
                }
                let tenant = utf8(r.take(tenant_len)?)?;
                let data = payload.slice(2 + tenant_len..);
                if data.len() > MAX_PAYLOAD {
                    return Err("payload_too_large");
                }
                Frame::Pub {
                    mode,
                    tenant,
                    channel: topic,
                    data,
                }
            }
            types::MSG => {
                if topic.is_empty() {
                    return Err("bad_frame");
                }
                if payload.len() > MAX_PAYLOAD {
                    return Err("payload_too_large");
                }
                Frame::Msg { channel: topic, data: payload }
            }
            types::OK => {
                if payload.len() != 4 {
                    return Err("bad_frame");
                }
                Frame::Ok { id: r.u32()?, topic }
            }
            types::ERR => {
                if topic.is_empty() {
                    return Err("bad_frame");
                }
                let id = r.u32()?;
                Frame::Err {
                    code: topic,
                    id,
                    detail: utf8(r.rest())?,
                }
            }
            types::PING | types::PONG => {
                if !topic.is_empty() || payload.len() > MAX_NONCE {
                    return Err("bad_frame");
                }
                if ty == types::PING {
                    Frame::Ping { nonce: payload }
                } else {
                    Frame::Pong { nonce: payload }
                }
            }
            types::DMSG => {
                if topic.is_empty() {
                    return Err("bad_frame");
                }
                let id = nonzero(r.u32()?)?;
                let data = payload.slice(4..);
                if data.len() > MAX_PAYLOAD {
                    return Err("payload_too_large");
                }
                Frame::Dmsg { id, channel: topic, data }
            }
            _ => return Err("bad_frame"),
        };
        Ok(frame)
    }
}

/// Encodes a PUB frame straight into `out` (the publish hot path: no intermediate Frame).
pub fn encode_pub_into(out: &mut BytesMut, mode: DeliveryMode, tenant: &str, channel: &str, data: &[u8]) {
    put_header(out, types::PUB, channel, 2 + tenant.len() + data.len());
    out.put_u8(mode.wire());
    out.put_u8(tenant.len() as u8);
    out.put_slice(tenant.as_bytes());
    out.put_slice(data);
}

/// Parses a header; rejects unknown types and oversize payloads from the 6 bytes alone.
fn parse_header(h: &[u8], max_payload: usize) -> Result<(u8, usize, usize), &'static str> {
    let ty = h[0];
    if !is_client_type(ty) {
        return Err("bad_frame");
    }
    let topic_len = h[1] as usize;
    let payload_len = u32::from_be_bytes([h[2], h[3], h[4], h[5]]) as usize;
    if payload_len > max_payload {
        return Err("payload_too_large");
    }
    Ok((ty, topic_len, payload_len))
}

/// Decodes exactly one whole frame (datagram rules: missing or trailing bytes are `bad_frame`).
pub fn decode_raw(bytes: &[u8]) -> Result<RawFrame, &'static str> {
    if bytes.len() < HEADER_SIZE {
        return Err("bad_frame");
    }
    let (ty, topic_len, payload_len) = parse_header(&bytes[..HEADER_SIZE], DEFAULT_MAX_FRAME_PAYLOAD)?;
    if bytes.len() != HEADER_SIZE + topic_len + payload_len {
        return Err("bad_frame");
    }
    let topic = std::str::from_utf8(&bytes[HEADER_SIZE..HEADER_SIZE + topic_len]).map_err(|_| "bad_frame")?;
    Ok(RawFrame {
        ty,
        topic: topic.to_owned(),
        payload: Bytes::copy_from_slice(&bytes[HEADER_SIZE + topic_len..]),
    })
}

/// Stream decoder: feed bytes in any split, take whole frames out. After an error it stays
/// failed (the stream cannot be re-synchronised).
pub struct StreamDecoder {
    buf: BytesMut,
    max_payload: usize,
    failed: Option<&'static str>,
}

impl StreamDecoder {
    pub fn new(max_payload: usize) -> Self {
        StreamDecoder {
            buf: BytesMut::new(),
            max_payload,
            failed: None,
        }
    }

    pub fn push(&mut self, chunk: &[u8]) {
        self.buf.extend_from_slice(chunk);
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<RawFrame>, &'static str> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        if self.buf.len() < HEADER_SIZE {
            return Ok(None);
        }
        let (ty, topic_len, payload_len) = match parse_header(&self.buf[..HEADER_SIZE], self.max_payload) {
            Ok(h) => h,
            Err(e) => {
                self.failed = Some(e);
                return Err(e);
            }
        };
        let total = HEADER_SIZE + topic_len + payload_len;
        if self.buf.len() < total {
            self.buf.reserve(total - self.buf.len());
            return Ok(None);
        }
        let mut frame = self.buf.split_to(total);
        frame.advance(HEADER_SIZE);
        let topic_bytes = frame.split_to(topic_len);
        let Ok(topic) = std::str::from_utf8(&topic_bytes) else {
            self.failed = Some("bad_frame");
            return Err("bad_frame");
        };
        Ok(Some(RawFrame {
            ty,
            topic: topic.to_owned(),
            payload: frame.freeze(),
        }))
    }
}

/// Largest topic a native frame can carry (a 256-byte channel only fits contract v0.1 frames).
pub fn fits_topic(topic: &str) -> bool {
    topic.len() <= MAX_TOPIC
}
