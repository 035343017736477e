//! Connection tasks: surface a connection once its handshake (including client-certificate
//! verification for mutual TLS) has completed, accept incoming streams and datagrams, and
//! report how the connection ended.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use quinn::ConnectionError;

use crate::events::{Ending, Event};
use crate::registry::{ConnEntry, Registry};
use crate::stream::StreamEntry;
use crate::sync::lock;
use crate::wt::{self, WtRequest, WtState};

/// The ALPN of HTTP/3, which carries WebTransport.
pub const H3_ALPN: &str = "h3";

/// Registers an established connection and pushes its CONNECTION/CONNECTED event with the
/// remote address (text), negotiated ALPN (text2) and the peer's leaf certificate DER (data).
/// `inbound`: accepted by a server (CONNECTION) rather than a completed connect (CONNECTED).
/// A connection that negotiated ALPN `h3` carries WebTransport (wt.rs); `request` is what a
/// client asks for in its CONNECT.
pub fn established(shared: &Arc<Registry>, id: u32, conn: quinn::Connection, inbound: bool, request: Option<WtRequest>) {
    let alpn = conn
        .handshake_data()
        .and_then(|h| h.downcast::<quinn::crypto::rustls::HandshakeData>().ok())
        .and_then(|h| h.protocol)
        .map(|p| String::from_utf8_lossy(&p).into_owned());
    let cert = conn
        .peer_identity()
        .and_then(|p| p.downcast::<Vec<rustls::pki_types::CertificateDer<'static>>>().ok())
        .and_then(|v| v.first().map(|c| c.as_ref().to_vec()));
    let wt = (alpn.as_deref() == Some(H3_ALPN)).then(|| WtState::new(inbound, request));
    let entry = Arc::new(ConnEntry { conn: conn.clone(), local_close: Mutex::new(None), last_srtt_us: Mutex::new((-1.0, 0.0)), wt: wt.clone() });
    shared.insert_conn(id, entry.clone());
    shared.push(Event::Established { id, inbound, remote: conn.remote_address().to_string(), alpn, peer_cert: cert });
    match wt {
        Some(wt) => tokio::spawn(wt::drive(shared.clone(), id, entry, wt)),
        None => tokio::spawn(drive(shared.clone(), id, entry)),
    };
}

async fn drive(shared: Arc<Registry>, id: u32, entry: Arc<ConnEntry>) {
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
                Ok(d) => shared.push(Event::Datagram { conn: id, data: d.to_vec() }),
                Err(e) => break e,
            },
        }
    };
    finish(&shared, id, &entry, &err);
}

/// Reports how a connection ended and forgets it.
pub fn finish(shared: &Registry, id: u32, entry: &ConnEntry, err: &ConnectionError) {
    let ending = classify(shared, entry, err);
    shared.remove_conn(id);
    shared.push(Event::ConnClosed { id, ending });
    shared.conn_gone();
}

pub fn incoming(shared: &Registry, conn: u32, send: Option<quinn::SendStream>, recv: quinn::RecvStream, bidi: bool) {
    let e = StreamEntry::new(&shared.streams, conn, send.is_some(), true);
    shared.push(Event::Stream { id: e.id, conn, bidi, index: recv.id().index() });
    e.start(&shared.streams, send, Some(recv));
}

fn ending(how: &str, code: Option<u64>, reason: String) -> Ending {
    Ending { how: how.to_string(), code, reason }
}

/// How a live connection ended. how: local | remote | idle-timeout | transport-local |
/// transport-remote | reset | version-mismatch | cids-exhausted.
fn classify(shared: &Registry, entry: &ConnEntry, err: &ConnectionError) -> Ending {
    match err {
        ConnectionError::LocallyClosed => {
            let local = lock(&entry.local_close).clone();
            let (c, r) = local.unwrap_or_else(|| lock(&shared.close_code).clone());
            // A WebTransport peer closes its session with a capsule; we then close the connection.
            let peer = entry.wt.as_ref().is_some_and(|w| w.peer_closed.load(Ordering::Acquire));
            ending(if peer { "remote" } else { "local" }, Some(c), r)
        }
        // We closed the WebTransport session (capsule) and the peer then closed the connection.
        ConnectionError::ApplicationClosed(_) if entry.wt.is_some() && lock(&entry.local_close).is_some() => {
            let (c, r) = lock(&entry.local_close).clone().unwrap_or_default();
            ending("local", Some(c), r)
        }
        ConnectionError::ApplicationClosed(a) => ending("remote", Some(a.error_code.into_inner()), String::from_utf8_lossy(&a.reason).into_owned()),
        ConnectionError::TimedOut => ending("idle-timeout", None, "idle timeout".into()),
        ConnectionError::ConnectionClosed(c) => ending("transport-remote", Some(u64::from(c.error_code)), format!("{c}")),
        ConnectionError::TransportError(t) => ending("transport-local", Some(u64::from(t.code)), format!("{t}")),
        ConnectionError::Reset => ending("reset", None, "stateless reset".into()),
        ConnectionError::VersionMismatch => ending("version-mismatch", None, "version mismatch".into()),
        ConnectionError::CidsExhausted => ending("cids-exhausted", None, "connection ids exhausted".into()),
    }
}

/// How a connect or handshake failed.
pub fn describe(err: &ConnectionError) -> Ending {
    match err {
        ConnectionError::ApplicationClosed(a) => ending("remote", Some(a.error_code.into_inner()), String::from_utf8_lossy(&a.reason).into_owned()),
        ConnectionError::TimedOut => ending("idle-timeout", None, "timed out".into()),
        ConnectionError::ConnectionClosed(c) => ending("transport-remote", Some(u64::from(c.error_code)), format!("{c}")),
        ConnectionError::TransportError(t) => ending("transport-local", Some(u64::from(t.code)), format!("{t}")),
        ConnectionError::LocallyClosed => ending("local", None, "closed locally".into()),
        other => ending("error", None, format!("{other}")),
    }
}
