//! Connection tasks: surface a connection once its handshake (including client-certificate
//! verification for mutual TLS) has completed, accept incoming streams and datagrams, and
//! report how the connection ended.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use quinn::ConnectionError;

use crate::shared::{kind, lock, ConnEntry, Ev, Shared};
use crate::stream::StreamEntry;

/// Registers an established connection and pushes its CONNECTION/CONNECTED event with the
/// remote address (text), negotiated ALPN (text2) and the peer's leaf certificate DER (data).
pub fn established(shared: &Arc<Shared>, id: u32, conn: quinn::Connection, ev_kind: u32) {
    let entry = Arc::new(ConnEntry { conn: conn.clone(), local_close: Mutex::new(None), last_srtt_us: Mutex::new((-1.0, 0.0)) });
    lock(&shared.conns).insert(id, entry.clone());
    let alpn = conn
        .handshake_data()
        .and_then(|h| h.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|h| h.protocol)
        .map(|p| String::from_utf8_lossy(&p).into_owned());
    let cert = conn
        .peer_identity()
        .and_then(|p| p.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>().ok())
        .and_then(|v| v.first().map(|c| c.as_ref().to_vec()));
    shared.push(Ev {
        kind: ev_kind,
        id,
        conn: id,
        text: Some(conn.remote_address().to_string()),
        text2: alpn,
        data: cert,
        ..Ev::default()
    });
    tokio::spawn(drive(shared.clone(), id, entry));
}

async fn drive(shared: Arc<Shared>, id: u32, entry: Arc<ConnEntry>) {
    let conn = entry.conn.clone();
    let err = loop {
        tokio::select! {
            r = conn.accept_bi() => match r {
                Ok((s, r)) => incoming(&shared, id, Some(s), r, true),
                Err(e) => break e,
            },
            r = conn.accept_uni() => match r {
                Ok(r) => incoming(&shared, id, None, r, false),
                Err(e) => break e,
            },
            r = conn.read_datagram() => match r {
                Ok(d) => shared.push(Ev { kind: kind::DATAGRAM, id, conn: id, data: Some(d.to_vec()), ..Ev::default() }),
                Err(e) => break e,
            },
        }
    };
    let (how, code, reason) = classify(&shared, &entry, &err);
    lock(&shared.conns).remove(&id);
    shared.push(Ev {
        kind: kind::CONN_CLOSED,
        id,
        conn: id,
        code: code.map(|c| c as f64),
        text: Some(reason),
        text2: Some(how.to_string()),
        ..Ev::default()
    });
    conn_gone(&shared);
}

pub fn conn_gone(shared: &Shared) {
    if shared.live_conns.fetch_sub(1, Ordering::AcqRel) == 1 {
        shared.conns_gone.notify_waiters();
    }
}

fn incoming(shared: &Arc<Shared>, conn: u32, send: Option<quinn::SendStream>, recv: quinn::RecvStream, bidi: bool) {
    let e = StreamEntry::new(shared, conn, send.is_some(), true);
    shared.push(Ev {
        kind: kind::STREAM,
        id: e.id,
        conn,
        flag: bidi,
        num: Some(recv.id().index() as f64),
        ..Ev::default()
    });
    e.start(shared, send, Some(recv));
}

/// (how, code, reason). how: local | remote | idle-timeout | transport-local | transport-remote
/// | reset | version-mismatch | cids-exhausted.
pub fn classify(shared: &Shared, entry: &ConnEntry, err: &ConnectionError) -> (&'static str, Option<u64>, String) {
    match err {
        ConnectionError::LocallyClosed => {
            let local = lock(&entry.local_close).clone();
            let (c, r) = local.unwrap_or_else(|| lock(&shared.close_code).clone());
            ("local", Some(c), r)
        }
        ConnectionError::ApplicationClosed(a) => ("remote", Some(a.error_code.into_inner()), String::from_utf8_lossy(&a.reason).into_owned()),
        ConnectionError::TimedOut => ("idle-timeout", None, "idle timeout".into()),
        ConnectionError::ConnectionClosed(c) => ("transport-remote", Some(u64::from(c.error_code)), format!("{c}")),
        ConnectionError::TransportError(t) => ("transport-local", Some(u64::from(t.code)), format!("{t}")),
        ConnectionError::Reset => ("reset", None, "stateless reset".into()),
        ConnectionError::VersionMismatch => ("version-mismatch", None, "version mismatch".into()),
        ConnectionError::CidsExhausted => ("cids-exhausted", None, "connection ids exhausted".into()),
    }
}

/// Reason text for a connect/handshake failure: (how, code, message).
pub fn describe(err: &ConnectionError) -> (&'static str, Option<u64>, String) {
    match err {
        ConnectionError::ApplicationClosed(a) => ("remote", Some(a.error_code.into_inner()), String::from_utf8_lossy(&a.reason).into_owned()),
        ConnectionError::TimedOut => ("idle-timeout", None, "timed out".into()),
        ConnectionError::ConnectionClosed(c) => ("transport-remote", Some(u64::from(c.error_code)), format!("{c}")),
        ConnectionError::TransportError(t) => ("transport-local", Some(u64::from(t.code)), format!("{t}")),
        ConnectionError::LocallyClosed => ("local", None, "closed locally".into()),
        other => ("error", None, format!("{other}")),
    }
}
