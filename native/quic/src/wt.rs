//! WebTransport over HTTP/3 on a connection that negotiated ALPN `h3` (one session per
//! connection, as browsers open them). The HTTP/3 layer is only what WebTransport needs: our
//! control stream with SETTINGS, the extended CONNECT on the first request stream, and the
//! stream and datagram prefixes that bind WebTransport streams to the session. Once its
//! prefix is read (or, for streams we open, queued), a WebTransport stream is an ordinary
//! stream of this crate: the same writer/reader tasks, flow control and events as QUIC.
//!
//! JS sees: CONNECTION (alpn "h3"), then SESSION (server: the CONNECT's path and headers, to
//! answer with respond_session; client: the response status), then streams and datagrams.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use quinn::{RecvStream, SendStream, VarInt};
use tokio::sync::mpsc;

use crate::conn;
use crate::events::Event;
use crate::registry::{ConnEntry, Registry};
use crate::sync::lock;
use crate::wt_wire::*;

/// How long a peer may take to send a new stream's type and session prefix.
const PREFIX_TIMEOUT: Duration = Duration::from_secs(10);
/// How long we wait, after sending a session's close capsule or refusal, for the peer to close
/// the connection before we close it ourselves.
const LINGER: Duration = Duration::from_millis(300);
const MAX_CAPSULE_BYTES: u64 = 64 * 1024;

/// What a client asks for in its CONNECT.
pub struct WtRequest {
    pub authority: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
}

enum ConnectOp {
    Bytes(Vec<u8>),
    Finish,
}

pub struct WtState {
    server: bool,
    request: Option<WtRequest>,
    /// The session id (its CONNECT stream's QUIC id) once the CONNECT was received or sent.
    session: Mutex<Option<u64>>,
    /// Ordered writes to the CONNECT stream (response headers, close capsule, FIN).
    connect_tx: Mutex<Option<mpsc::UnboundedSender<ConnectOp>>>,
    /// Our control stream: closing it would be a connection error, so it lives as long as we do.
    control: Mutex<Option<SendStream>>,
    /// The peer closed the session (capsule or end of the CONNECT stream).
    pub peer_closed: AtomicBool,
}

impl WtState {
    pub fn new(server: bool, request: Option<WtRequest>) -> Arc<Self> {
        Arc::new(WtState {
            server,
            request,
            session: Mutex::new(None),
            connect_tx: Mutex::new(None),
            control: Mutex::new(None),
            peer_closed: AtomicBool::new(false),
        })
    }

    pub fn session(&self) -> Option<u64> {
        *lock(&self.session)
    }

    /// The bytes that open a stream we create on this session.
    pub fn stream_prefix(&self, bidi: bool) -> Option<Bytes> {
        let sid = self.session()?;
        let mut out = Vec::with_capacity(9);
        put_varint(&mut out, if bidi { BIDI_WEBTRANSPORT } else { UNI_WEBTRANSPORT });
        put_varint(&mut out, sid);
        Some(Bytes::from(out))
    }

    /// The quarter-stream-id prefix of this session's datagrams.
    pub fn datagram_prefix(&self) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(8);
        put_varint(&mut out, self.session()? / 4);
        Some(out)
    }

    fn send_connect(&self, op: ConnectOp) -> bool {
        lock(&self.connect_tx).as_ref().is_some_and(|tx| tx.send(op).is_ok())
    }
}

/// Answers a received CONNECT. 200 opens the session; anything else refuses it and the
/// connection closes shortly after.
pub fn respond(entry: &Arc<ConnEntry>, wt: &WtState, status: u16) -> bool {
    let code = status.to_string();
    let mut fields = vec![(":status", code.as_str())];
    if status == 200 {
        fields.push(("sec-webtransport-http3-draft", "draft02"));
    }
    if !wt.send_connect(ConnectOp::Bytes(frame(FRAME_HEADERS, &encode_fields(&fields)))) {
        return false;
    }
    if status != 200 {
        wt.send_connect(ConnectOp::Finish);
        *lock(&entry.local_close) = Some((u64::from(status), "session refused".into()));
        linger_then_close(entry.clone(), "session refused".into());
    }
    true
}

/// Closes the session with a WebTransport code: CLOSE_WEBTRANSPORT_SESSION, FIN, then the
/// connection.
pub fn close_session(entry: &Arc<ConnEntry>, wt: &WtState, code: u32, reason: String) {
    {
        let mut local = lock(&entry.local_close);
        // Closing already: the first close's capsule and linger stand (a second close must not
        // cut the connection before the peer has read the capsule).
        if local.is_some() {
            return;
        }
        *local = Some((u64::from(code), reason.clone()));
    }
    if wt.send_connect(ConnectOp::Bytes(close_capsule(code, &reason))) {
        wt.send_connect(ConnectOp::Finish);
        linger_then_close(entry.clone(), reason);
    } else {
        entry.conn.close(VarInt::from_u32(code), reason.as_bytes());
    }
}

fn linger_then_close(entry: Arc<ConnEntry>, reason: String) {
    tokio::spawn(async move {
        tokio::time::sleep(LINGER).await;
        entry.conn.close(VarInt::from_u64(H3_NO_ERROR).unwrap_or(VarInt::from_u32(0)), reason.as_bytes());
    });
}

/// Runs an `h3` connection until it ends.
pub async fn drive(shared: Arc<Registry>, id: u32, entry: Arc<ConnEntry>, wt: Arc<WtState>) {
    let conn = entry.conn.clone();
    if let Ok(mut control) = conn.open_uni().await {
        if control.write_all(&control_stream_preamble()).await.is_ok() {
            *lock(&wt.control) = Some(control);
        }
    }
    if !wt.server {
        tokio::spawn(send_request(shared.clone(), id, entry.clone(), wt.clone()));
    }
    let err = loop {
        tokio::select! {
            r = conn.accept_bi() => match r {
                Ok((s, r)) => { tokio::spawn(route_bi(shared.clone(), id, entry.clone(), wt.clone(), s, r)); }
                Err(e) => break e,
            },
            r = conn.accept_uni() => match r {
                Ok(r) => { tokio::spawn(route_uni(shared.clone(), id, wt.clone(), r)); }
                Err(e) => break e,
            },
            r = conn.read_datagram() => match r {
                Ok(d) => datagram(&shared, id, &wt, &d),
                Err(e) => break e,
            },
        }
    };
    lock(&wt.control).take();
    conn::finish(&shared, id, &entry, &err);
}

fn datagram(shared: &Registry, id: u32, wt: &WtState, d: &[u8]) {
    let (Some((quarter, used)), Some(sid)) = (get_varint(d), wt.session()) else { return };
    if quarter == sid / 4 {
        shared.push(Event::Datagram { conn: id, data: d[used..].to_vec() });
    }
}

async fn read_varint(r: &mut RecvStream) -> Option<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b[..1]).await.ok()?;
    let n = varint_len(b[0]);
    r.read_exact(&mut b[1..n]).await.ok()?;
    get_varint(&b[..n]).map(|(v, _)| v)
}

async fn read_prefix(r: &mut RecvStream) -> Option<u64> {
    tokio::time::timeout(PREFIX_TIMEOUT, read_varint(r)).await.ok().flatten()
}

fn code(v: u64) -> VarInt {
    VarInt::from_u64(v).unwrap_or(VarInt::from_u32(0))
}

async fn route_uni(shared: Arc<Registry>, id: u32, wt: Arc<WtState>, mut r: RecvStream) {
    match read_prefix(&mut r).await {
        Some(UNI_WEBTRANSPORT) => {
            let sid = read_prefix(&mut r).await;
            if sid.is_some() && sid == wt.session() {
                conn::incoming(&shared, id, None, r, false);
            } else {
                let _ = r.stop(code(WT_BUFFERED_STREAM_REJECTED));
            }
        }
        // The peer's control and QPACK streams: nothing in them changes what we do.
        Some(_) => while let Ok(Some(_)) = r.read_chunk(64 * 1024, true).await {},
        None => {}
    }
}

async fn route_bi(shared: Arc<Registry>, id: u32, entry: Arc<ConnEntry>, wt: Arc<WtState>, mut s: SendStream, mut r: RecvStream) {
    let refuse = |s: &mut SendStream, r: &mut RecvStream, c: u64| {
        let _ = s.reset(code(c));
        let _ = r.stop(code(c));
    };
    match read_prefix(&mut r).await {
        Some(BIDI_WEBTRANSPORT) => {
            let sid = read_prefix(&mut r).await;
            if sid.is_some() && sid == wt.session() {
                conn::incoming(&shared, id, Some(s), r, true);
            } else {
                refuse(&mut s, &mut r, WT_BUFFERED_STREAM_REJECTED);
            }
        }
        Some(FRAME_HEADERS) if wt.server && wt.session().is_none() => match read_fields(&mut r).await {
            Some(fields) => accept_connect(&shared, id, entry, &wt, s, r, fields),
            None => refuse(&mut s, &mut r, H3_REQUEST_REJECTED),
        },
        _ => refuse(&mut s, &mut r, H3_REQUEST_REJECTED),
    }
}

/// Reads a HEADERS frame's length and field section (its type already read).
async fn read_fields(r: &mut RecvStream) -> Option<Vec<(String, String)>> {
    let len = read_prefix(r).await? as usize;
    if len > MAX_FIELD_SECTION {
        return None;
    }
    let mut body = vec![0u8; len];
    tokio::time::timeout(PREFIX_TIMEOUT, r.read_exact(&mut body)).await.ok()?.ok()?;
    decode_fields(&body).ok()
}

fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields.iter().find(|(n, _)| n == name).map_or("", |(_, v)| v.as_str())
}

fn connect_writer(mut s: SendStream) -> mpsc::UnboundedSender<ConnectOp> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(op) = rx.recv().await {
            match op {
                ConnectOp::Bytes(b) => {
                    if s.write_all(&b).await.is_err() {
                        break;
                    }
                }
                ConnectOp::Finish => {
                    let _ = s.finish();
                    break;
                }
            }
        }
    });
    tx
}

fn accept_connect(shared: &Registry, id: u32, entry: Arc<ConnEntry>, wt: &WtState, s: SendStream, r: RecvStream, fields: Vec<(String, String)>) {
    let sid = u64::from(s.id());
    *lock(&wt.connect_tx) = Some(connect_writer(s));
    if field(&fields, ":method") != "CONNECT" || field(&fields, ":protocol") != "webtransport" {
        respond(&entry, wt, 400);
        return;
    }
    *lock(&wt.session) = Some(sid);
    let path = field(&fields, ":path").to_string();
    shared.push(Event::Session { conn: id, status: None, path, headers: headers_json(&fields) });
    tokio::spawn(read_capsules(entry, r));
}

async fn send_request(shared: Arc<Registry>, id: u32, entry: Arc<ConnEntry>, wt: Arc<WtState>) {
    let Some(req) = wt.request.as_ref() else { return };
    let Ok((s, mut r)) = entry.conn.open_bi().await else { return };
    *lock(&wt.session) = Some(u64::from(s.id()));
    let mut fields =
        vec![(":method", "CONNECT"), (":scheme", "https"), (":authority", req.authority.as_str()), (":path", req.path.as_str()), (":protocol", "webtransport")];
    fields.extend(req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let tx = connect_writer(s);
    let _ = tx.send(ConnectOp::Bytes(frame(FRAME_HEADERS, &encode_fields(&fields))));
    *lock(&wt.connect_tx) = Some(tx);
    let response = match read_prefix(&mut r).await {
        Some(FRAME_HEADERS) => read_fields(&mut r).await,
        _ => None,
    };
    let (status, headers) = match &response {
        Some(f) => (field(f, ":status").parse::<u16>().unwrap_or(0), headers_json(f)),
        None => (0, "{}".to_string()),
    };
    shared.push(Event::Session { conn: id, status: Some(status), path: req.path.clone(), headers });
    if status == 200 {
        read_capsules(entry, r).await;
    }
}

/// Reads the CONNECT stream's DATA frames until the peer closes the session (capsule or FIN),
/// then closes the connection reporting the peer's code.
async fn read_capsules(entry: Arc<ConnEntry>, mut r: RecvStream) {
    let mut capsules = Vec::new();
    let mut closed = (0u32, String::new());
    while let (Some(kind), Some(len)) = (read_varint(&mut r).await, read_varint(&mut r).await) {
        if len > MAX_CAPSULE_BYTES || capsules.len() as u64 + len > MAX_CAPSULE_BYTES {
            break;
        }
        let mut body = vec![0u8; len as usize];
        if r.read_exact(&mut body).await.is_err() {
            break;
        }
        if kind == FRAME_DATA {
            capsules.extend_from_slice(&body);
            if let Some(c) = find_close(&capsules) {
                closed = c;
                break;
            }
        }
    }
    // The stream died with the connection: the connection's own ending tells how it ended.
    if entry.conn.close_reason().is_some() {
        return;
    }
    let mut local = lock(&entry.local_close);
    if local.is_none() {
        *local = Some((u64::from(closed.0), closed.1.clone()));
        drop(local);
        entry.wt.as_ref().inspect(|w| w.peer_closed.store(true, Ordering::Release));
        entry.conn.close(code(H3_NO_ERROR), closed.1.as_bytes());
    }
}

/// The request's or response's fields as a JSON object (later duplicates win).
fn headers_json(fields: &[(String, String)]) -> String {
    let esc = |s: &str| {
        let mut o = String::with_capacity(s.len() + 2);
        for c in s.chars() {
            match c {
                '"' => o.push_str("\\\""),
                '\\' => o.push_str("\\\\"),
                c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                c => o.push(c),
            }
        }
        o
    };
    let body: Vec<String> = fields.iter().map(|(n, v)| format!("\"{}\":\"{}\"", esc(n), esc(v))).collect();
    format!("{{{}}}", body.join(","))
}
