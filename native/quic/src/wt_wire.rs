//! The bytes of HTTP/3 that WebTransport needs (RFC 9114, RFC 9204, RFC 9297 and
//! draft-ietf-webtrans-http3): QUIC variable-length integers, frames, the SETTINGS we send,
//! QPACK field sections without a dynamic table (we advertise a table capacity of 0, so a
//! conforming peer never references one), capsules, and the WebTransport error-code space.
//! Pure functions over byte slices; wt.rs does the I/O.

/// HTTP/3 frame types.
pub const FRAME_DATA: u64 = 0x00;
pub const FRAME_HEADERS: u64 = 0x01;
const FRAME_SETTINGS: u64 = 0x04;
/// Unidirectional stream types.
pub const UNI_CONTROL: u64 = 0x00;
pub const UNI_WEBTRANSPORT: u64 = 0x54;
/// The first varint of a bidirectional WebTransport stream.
pub const BIDI_WEBTRANSPORT: u64 = 0x41;
/// CLOSE_WEBTRANSPORT_SESSION capsule: u32 code, then a UTF-8 reason.
pub const CAPSULE_CLOSE_SESSION: u64 = 0x2843;
/// HTTP/3 error codes we close or reset with.
pub const H3_NO_ERROR: u64 = 0x100;
pub const H3_REQUEST_REJECTED: u64 = 0x10b;
/// A WebTransport stream for a session that does not exist.
pub const WT_BUFFERED_STREAM_REJECTED: u64 = 0x3994_bd84;

/// Longest field section we accept (a CONNECT request is a few hundred bytes).
pub const MAX_FIELD_SECTION: usize = 16 * 1024;

pub fn put_varint(out: &mut Vec<u8>, v: u64) {
    if v < 1 << 6 {
        out.push(v as u8);
    } else if v < 1 << 14 {
        out.extend_from_slice(&((v as u16) | 0x4000).to_be_bytes());
    } else if v < 1 << 30 {
        out.extend_from_slice(&((v as u32) | 0x8000_0000).to_be_bytes());
    } else {
        out.extend_from_slice(&(v | 0xc000_0000_0000_0000).to_be_bytes());
    }
}

/// Decodes one varint at the start of `b`: (value, bytes used), or None if `b` is too short.
pub fn get_varint(b: &[u8]) -> Option<(u64, usize)> {
    let first = *b.first()?;
    let len = 1usize << (first >> 6);
    if b.len() < len {
        return None;
    }
    let mut v = u64::from(first & 0x3f);
    for byte in &b[1..len] {
        v = (v << 8) | u64::from(*byte);
    }
    Some((v, len))
}

pub fn varint_len(first: u8) -> usize {
    1usize << (first >> 6)
}

pub fn frame(kind: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 16);
    put_varint(&mut out, kind);
    put_varint(&mut out, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

/// The control stream's opening bytes: stream type, then SETTINGS enabling extended CONNECT,
/// HTTP datagrams and WebTransport (both the draft-02 and the later session-count setting, so
/// browsers of either generation accept us); QPACK table capacity and blocked streams stay 0.
pub fn control_stream_preamble() -> Vec<u8> {
    let mut settings = Vec::new();
    for (id, value) in [(0x01u64, 0u64), (0x07, 0), (0x08, 1), (0x33, 1), (0xff_d277, 1), (0x2b60_3742, 1), (0xc671_706a, 1)] {
        put_varint(&mut settings, id);
        put_varint(&mut settings, value);
    }
    let mut out = vec![UNI_CONTROL as u8];
    out.extend(frame(FRAME_SETTINGS, &settings));
    out
}

/// Names of the QPACK static table entries a WebTransport CONNECT uses (RFC 9204 Appendix A);
/// other indexes decode to a placeholder name the edge ignores.
fn static_entry(index: u64) -> (&'static str, &'static str) {
    match index {
        0 => (":authority", ""),
        1 => (":path", "/"),
        15 => (":method", "CONNECT"),
        16 => (":method", "DELETE"),
        17 => (":method", "GET"),
        18 => (":method", "HEAD"),
        19 => (":method", "OPTIONS"),
        20 => (":method", "POST"),
        21 => (":method", "PUT"),
        22 => (":scheme", "http"),
        23 => (":scheme", "https"),
        24 => (":status", "103"),
        25 => (":status", "200"),
        26 => (":status", "304"),
        27 => (":status", "404"),
        28 => (":status", "503"),
        72 => ("accept-language", ""),
        84 => ("authorization", ""),
        90 => ("origin", ""),
        95 => ("user-agent", ""),
        _ => ("x-qpack-static", ""),
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum WireError {
    Truncated,
    DynamicTable,
    Huffman,
}

/// RFC 7541 §5.1 prefix integer with an `n`-bit prefix, starting at b[*at].
fn prefix_int(b: &[u8], at: &mut usize, n: u8) -> Result<u64, WireError> {
    let mask = ((1u16 << n) - 1) as u8;
    let mut v = u64::from(*b.get(*at).ok_or(WireError::Truncated)? & mask);
    *at += 1;
    if v < u64::from(mask) {
        return Ok(v);
    }
    for shift in (0..63).step_by(7) {
        let byte = *b.get(*at).ok_or(WireError::Truncated)?;
        *at += 1;
        v += u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(WireError::Truncated)
}

/// A string literal whose Huffman flag is bit `n` of the first byte and length an n-bit prefix.
fn string(b: &[u8], at: &mut usize, n: u8) -> Result<String, WireError> {
    let huffman = *b.get(*at).ok_or(WireError::Truncated)? & (1 << n) != 0;
    let len = prefix_int(b, at, n)? as usize;
    let raw = b.get(*at..*at + len).ok_or(WireError::Truncated)?;
    *at += len;
    let bytes = if huffman {
        let mut out = Vec::with_capacity(len * 2);
        httlib_huffman::decode(raw, &mut out, httlib_huffman::DecoderSpeed::FourBits).map_err(|_| WireError::Huffman)?;
        out
    } else {
        raw.to_vec()
    };
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Decodes a QPACK field section that uses only the static table and literals.
pub fn decode_fields(b: &[u8]) -> Result<Vec<(String, String)>, WireError> {
    let mut at = 0;
    if prefix_int(b, &mut at, 8)? != 0 {
        return Err(WireError::DynamicTable);
    }
    prefix_int(b, &mut at, 7)?;
    let mut fields = Vec::new();
    while at < b.len() && fields.len() < 256 {
        let first = b[at];
        if first & 0x80 != 0 {
            if first & 0x40 == 0 {
                return Err(WireError::DynamicTable);
            }
            let (n, v) = static_entry(prefix_int(b, &mut at, 6)?);
            fields.push((n.to_string(), v.to_string()));
        } else if first & 0x40 != 0 {
            if first & 0x10 == 0 {
                return Err(WireError::DynamicTable);
            }
            let (n, _) = static_entry(prefix_int(b, &mut at, 4)?);
            fields.push((n.to_string(), string(b, &mut at, 7)?));
        } else if first & 0x20 != 0 {
            let name = string(b, &mut at, 3)?;
            fields.push((name.to_ascii_lowercase(), string(b, &mut at, 7)?));
        } else {
            return Err(WireError::DynamicTable);
        }
    }
    Ok(fields)
}

fn put_prefix_int(out: &mut Vec<u8>, flags: u8, n: u8, v: u64) {
    let max = (1u64 << n) - 1;
    if v < max {
        out.push(flags | v as u8);
        return;
    }
    out.push(flags | max as u8);
    let mut rest = v - max;
    while rest >= 0x80 {
        out.push((rest as u8 & 0x7f) | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

/// Encodes a field section: static-table names where we know the index, literals otherwise
/// (never Huffman: decoders must accept plain literals).
pub fn encode_fields(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = vec![0, 0];
    for (name, value) in fields {
        let exact = (0..=95u64).find(|i| static_entry(*i) == (*name, *value) && !value.is_empty());
        let by_name = (0..=95u64).find(|i| static_entry(*i).0 == *name);
        if let Some(i) = exact {
            put_prefix_int(&mut out, 0xc0, 6, i);
            continue;
        }
        match by_name {
            Some(i) => put_prefix_int(&mut out, 0x50, 4, i),
            None => {
                put_prefix_int(&mut out, 0x20, 3, name.len() as u64);
                out.extend_from_slice(name.as_bytes());
            }
        }
        put_prefix_int(&mut out, 0, 7, value.len() as u64);
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// A CLOSE_WEBTRANSPORT_SESSION capsule inside an HTTP/3 DATA frame.
pub fn close_capsule(code: u32, reason: &str) -> Vec<u8> {
    let reason = &reason.as_bytes()[..reason.len().min(1024)];
    let mut payload = code.to_be_bytes().to_vec();
    payload.extend_from_slice(reason);
    frame(FRAME_DATA, &frame(CAPSULE_CLOSE_SESSION, &payload))
}

/// Reads capsules from the concatenated DATA payloads of a CONNECT stream: the close code and
/// reason of the first CLOSE_WEBTRANSPORT_SESSION, once complete.
pub fn find_close(capsules: &[u8]) -> Option<(u32, String)> {
    let mut at = 0;
    while at < capsules.len() {
        let (kind, a) = get_varint(&capsules[at..])?;
        let (len, b) = get_varint(&capsules[at + a..])?;
        let start = at + a + b;
        let body = capsules.get(start..start + len as usize)?;
        if kind == CAPSULE_CLOSE_SESSION && body.len() >= 4 {
            let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
            return Some((code, String::from_utf8_lossy(&body[4..]).into_owned()));
        }
        at = start + len as usize;
    }
    None
}

/// WebTransport application error codes live inside the HTTP/3 error space (stream resets).
pub fn wt_to_h3(code: u32) -> u64 {
    let n = u64::from(code);
    0x52e4_a40f_a8db + n + n / 0x1e
}

pub fn h3_to_wt(h3: u64) -> Option<u32> {
    let first = wt_to_h3(0);
    if !(first..=wt_to_h3(u32::MAX)).contains(&h3) || (h3 - 0x21) % 0x1f == 0 {
        return None;
    }
    let shifted = h3 - first;
    Some((shifted - shifted / 0x1f) as u32)
}

#[cfg(test)]
#[path = "wt_wire_tests.rs"]
mod tests;
