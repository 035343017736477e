//! Contract v0.1 frames (spec/protocol.md §5): the WebSocket edge's binary publish and delivery
//! frames and its text commands. Decoders return the wire error code (`bad_frame`, …) as a
//! `&'static str` so tests can compare them with spec/vectors.
use crate::names::{validate_channel, validate_tenant, MAX_PAYLOAD};
use bytes::{BufMut, Bytes, BytesMut};

/// How a published message is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeliveryMode {
    /// Every matching subscriber (the default).
    #[default]
    Broadcast,
    /// Exactly one subscriber, the lowest-latency one.
    OneLowLatency,
    /// Exactly one subscriber, picked at random.
    OneRandom,
}

impl DeliveryMode {
    pub fn wire(self) -> u8 {
        match self {
            DeliveryMode::Broadcast => 0,
            DeliveryMode::OneLowLatency => 1,
            DeliveryMode::OneRandom => 2,
        }
    }

    pub fn from_wire(mode: u8) -> Option<Self> {
        match mode {
            0 => Some(DeliveryMode::Broadcast),
            1 => Some(DeliveryMode::OneLowLatency),
            2 => Some(DeliveryMode::OneRandom),
            _ => None,
        }
    }
}

/// A decoded publish frame (server side; used by tests and tools).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub version: u8,
    pub mode: DeliveryMode,
    pub tenant: String,
    pub channel: String,
    pub payload: Bytes,
}

/// A decoded delivery frame: one message and every pattern of this connection it matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub tenant: String,
    pub channel: String,
    pub payload: Bytes,
    pub patterns: Vec<String>,
}

/// Encodes a publish: v1 for broadcast, v2 (`0x02 | mode | v1`) otherwise, as the reference SDK.
pub fn encode_publish(tenant: &str, channel: &str, payload: &[u8], mode: DeliveryMode) -> Bytes {
    let mut out = BytesMut::with_capacity(6 + tenant.len() + channel.len() + payload.len());
    if mode != DeliveryMode::Broadcast {
        out.put_u8(0x02);
        out.put_u8(mode.wire());
    }
    out.put_u16(tenant.len() as u16);
    out.put_slice(tenant.as_bytes());
    out.put_u16(channel.len() as u16);
    out.put_slice(channel.as_bytes());
    out.put_slice(payload);
    out.freeze()
}

/// Reads big-endian fields off a byte slice; every read fails with `bad_frame` when truncated.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub(crate) fn take(&mut self, n: usize) -> Result<&'a [u8], &'static str> {
        if self.buf.len() - self.pos < n {
            return Err("bad_frame");
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }
    pub(crate) fn u8(&mut self) -> Result<u8, &'static str> {
        Ok(self.take(1)?[0])
    }
    pub(crate) fn u16(&mut self) -> Result<u16, &'static str> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    pub(crate) fn u32(&mut self) -> Result<u32, &'static str> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A `str16` that must be non-empty UTF-8.
    fn str16(&mut self) -> Result<&'a str, &'static str> {
        let n = self.u16()? as usize;
        if n == 0 {
            return Err("bad_frame");
        }
        std::str::from_utf8(self.take(n)?).map_err(|_| "bad_frame")
    }
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.pos == self.buf.len()
    }
}

/// Decodes a publish frame with the relay's checks in order: structure, names, payload size.
pub fn decode_publish(frame: &[u8]) -> Result<Publish, &'static str> {
    let mut r = Reader::new(frame);
    let (version, mode) = match frame.first() {
        Some(0x00) => (1, DeliveryMode::Broadcast),
        Some(0x02) => {
            r.take(1)?;
            (2, DeliveryMode::from_wire(r.u8()?).ok_or("bad_frame")?)
        }
        _ => return Err("bad_frame"),
    };
    let tenant = r.str16()?;
    let channel = r.str16()?;
    let payload = r.rest();
    validate_tenant(tenant).map_err(|e| e.code)?;
    validate_channel(channel).map_err(|e| e.code)?;
    if payload.len() > MAX_PAYLOAD {
        return Err("payload_too_large");
    }
    Ok(Publish {
        version,
        mode,
        tenant: tenant.into(),
        channel: channel.into(),
        payload: Bytes::copy_from_slice(payload),
    })
}

/// Encodes a delivery frame (server side; used by tests).
pub fn encode_delivery(d: &Delivery) -> Bytes {
    let mut out = BytesMut::new();
    out.put_u8(0x01);
    out.put_u16(d.tenant.len() as u16);
    out.put_slice(d.tenant.as_bytes());
    out.put_u16(d.channel.len() as u16);
    out.put_slice(d.channel.as_bytes());
    out.put_u32(d.payload.len() as u32);
    out.put_slice(&d.payload);
    out.put_u16(d.patterns.len() as u16);
    for p in &d.patterns {
        out.put_u16(p.len() as u16);
        out.put_slice(p.as_bytes());
    }
    out.freeze()
}

/// Decodes a delivery frame; anything malformed (wrong tag, truncation, empty or non-UTF-8
/// strings, no pattern, trailing bytes) is `bad_frame`, and the client drops it.
pub fn decode_delivery(frame: &Bytes) -> Result<Delivery, &'static str> {
    let mut r = Reader::new(frame);
    if r.u8()? != 0x01 {
        return Err("bad_frame");
    }
    let tenant = r.str16()?.to_owned();
    let channel = r.str16()?.to_owned();
    let len = r.u32()? as usize;
    let start = r.pos;
    r.take(len)?;
    let payload = frame.slice(start..start + len);
    let count = r.u16()?;
    if count == 0 {
        return Err("bad_frame");
    }
    let mut patterns = Vec::with_capacity(count as usize);
    for _ in 0..count {
        patterns.push(r.str16()?.to_owned());
    }
    if !r.is_empty() {
        return Err("bad_frame");
    }
    Ok(Delivery {
        tenant,
        channel,
        payload,
        patterns,
    })
}

/// A text command a client sends (parsed by the relay; here for the vectors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientText {
    /// `latest`: the `:L` suffix (latest-mode delivery; patterns never contain `:`).
    Sub {
        tenant: String,
        pattern: String,
        latest: bool,
    },
    Unsub {
        tenant: String,
        pattern: String,
    },
    Ping,
}

fn split_target(rest: &str) -> Option<(String, String)> {
    rest.split_once(':').map(|(t, p)| (t.to_owned(), p.to_owned()))
}

pub fn parse_client_text(text: &str) -> Result<ClientText, &'static str> {
    if text == "PING" {
        return Ok(ClientText::Ping);
    }
    if let Some(rest) = text.strip_prefix("SUB:") {
        let (tenant, pattern) = split_target(rest).ok_or("bad_command")?;
        return Ok(match pattern.strip_suffix(":L") {
            Some(p) => ClientText::Sub {
                tenant,
                pattern: p.to_owned(),
                latest: true,
            },
            None => ClientText::Sub {
                tenant,
                pattern,
                latest: false,
            },
        });
    }
    if let Some(rest) = text.strip_prefix("UNSUB:") {
        let (tenant, pattern) = split_target(rest).ok_or("bad_command")?;
        return Ok(ClientText::Unsub { tenant, pattern });
    }
    Err("bad_command")
}

pub fn format_client_text(cmd: &ClientText) -> String {
    match cmd {
        ClientText::Sub { tenant, pattern, latest } => format!("SUB:{tenant}:{pattern}{}", if *latest { ":L" } else { "" }),
        ClientText::Unsub { tenant, pattern } => format!("UNSUB:{tenant}:{pattern}"),
        ClientText::Ping => "PING".to_owned(),
    }
}

/// A text line from the edge, as the SDK reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerText {
    /// `OK:SUB:{tenant}:{pattern}` (op `SUB`) or `OK:UNSUB:…` (op `UNSUB`); parts trimmed.
    Ok {
        op: &'static str,
        tenant: String,
        pattern: String,
    },
    Pong,
    Reconnect,
    /// `ERR:{code}[:{detail}]`.
    Err {
        code: String,
        detail: Option<String>,
    },
    /// Anything else: ignored by the client.
    Unknown(String),
}

pub fn parse_server_text(text: &str) -> ServerText {
    match text {
        "PONG" => return ServerText::Pong,
        "RECONNECT" => return ServerText::Reconnect,
        _ => {}
    }
    for op in ["SUB", "UNSUB"] {
        let prefix = if op == "SUB" { "OK:SUB:" } else { "OK:UNSUB:" };
        if let Some(rest) = text.strip_prefix(prefix) {
            if let Some((t, p)) = rest.split_once(':') {
                return ServerText::Ok {
                    op,
                    tenant: t.trim().to_owned(),
                    pattern: p.trim().to_owned(),
                };
            }
            return ServerText::Unknown(text.to_owned());
        }
    }
    if let Some(rest) = text.strip_prefix("ERR:") {
        return match rest.split_once(':') {
            Some((code, detail)) => ServerText::Err {
                code: code.to_owned(),
                detail: Some(detail.to_owned()),
            },
            None => ServerText::Err {
                code: rest.to_owned(),
                detail: None,
            },
        };
    }
    ServerText::Unknown(text.to_owned())
}

pub fn format_server_text(t: &ServerText) -> String {
    match t {
        ServerText::Ok { op, tenant, pattern } => format!("OK:{op}:{tenant}:{pattern}"),
        ServerText::Pong => "PONG".into(),
        ServerText::Reconnect => "RECONNECT".into(),
        ServerText::Err { code, detail: Some(d) } => format!("ERR:{code}:{d}"),
        ServerText::Err { code, detail: None } => format!("ERR:{code}"),
        ServerText::Unknown(text) => text.clone(),
    }
}
