//! The event queue between the tokio tasks and JS, and the events themselves.
//!
//! Every task pushes events into one queue per endpoint. The first push into an empty queue
//! schedules ONE wake (a threadsafe-function call); JS then calls `poll()` and receives every
//! event queued so far in one array. So a burst of reads on many streams costs one Rust→JS
//! crossing plus one JS→Rust call, not one per chunk.
//!
//! Inside the crate an event is the `Event` enum, each variant with the fields it has; at the
//! napi boundary it becomes a flat `RawEvent` whose `kind` is the typed `EventKind` enum
//! (packages/quic/src/native.ts mirrors it as a discriminated union).

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use crate::sync::lock;

/// Event kinds as JS sees them (packages/quic/src/native.ts `EventKind`).
#[napi]
#[derive(Debug, PartialEq, Eq)]
pub enum EventKind {
    Connection = 1,
    Connected = 2,
    ConnectFailed = 3,
    ConnClosed = 4,
    Stream = 5,
    Data = 6,
    Fin = 7,
    Reset = 8,
    Stopped = 9,
    Drain = 10,
    Datagram = 11,
    StreamError = 12,
    StreamClosed = 13,
    EndpointClosed = 14,
    HandshakeFailed = 15,
    StreamOpened = 16,
    Session = 17,
}

/// Why a stream ended abnormally (STREAM_ERROR code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamFailure {
    OpenFailed = 1,
    ConnectionLost = 2,
}

/// Gives back receive credit once JS has taken a chunk (see stream.rs `RecvState`).
pub trait Release: Send + Sync {
    fn release(&self, bytes: usize);
}

/// How a connection ended or failed: (how, application/transport code, reason).
pub struct Ending {
    pub how: String,
    pub code: Option<u64>,
    pub reason: String,
}

pub enum Event {
    /// A server accepted a connection (`inbound`) or a client's connect completed.
    Established {
        id: u32,
        inbound: bool,
        remote: String,
        alpn: Option<String>,
        peer_cert: Option<Vec<u8>>,
    },
    ConnectFailed {
        id: u32,
        ending: Ending,
    },
    ConnClosed {
        id: u32,
        ending: Ending,
    },
    /// The peer opened a stream.
    Stream {
        id: u32,
        conn: u32,
        bidi: bool,
        index: u64,
    },
    /// A stream this side opened was granted by QUIC.
    StreamOpened {
        id: u32,
        conn: u32,
        index: u64,
    },
    Data {
        id: u32,
        conn: u32,
        data: Vec<u8>,
        credit: Arc<dyn Release>,
    },
    Fin {
        id: u32,
        conn: u32,
    },
    Reset {
        id: u32,
        conn: u32,
        code: u64,
    },
    Stopped {
        id: u32,
        conn: u32,
        code: u64,
    },
    Drain {
        id: u32,
        conn: u32,
    },
    Datagram {
        conn: u32,
        data: Vec<u8>,
    },
    StreamError {
        id: u32,
        conn: u32,
        failure: StreamFailure,
        message: String,
    },
    StreamClosed {
        id: u32,
        conn: u32,
    },
    EndpointClosed,
    /// A WebTransport CONNECT arrived (server: `status` None) or was answered (client).
    Session {
        conn: u32,
        status: Option<u16>,
        path: String,
        /// The request's (server) or response's (client) fields as a JSON object.
        headers: String,
    },
    HandshakeFailed {
        remote: String,
        detail: String,
    },
}

/// The flat shape JS receives. Which fields are set depends on `kind` (native.ts documents
/// each variant); unset fields are absent.
#[napi(object)]
pub struct RawEvent {
    pub kind: EventKind,
    pub id: u32,
    pub conn: u32,
    pub code: Option<f64>,
    pub num: Option<f64>,
    pub flag: bool,
    pub data: Option<Buffer>,
    pub text: Option<String>,
    pub text2: Option<String>,
}

impl Event {
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Established { inbound: true, .. } => EventKind::Connection,
            Event::Established { inbound: false, .. } => EventKind::Connected,
            Event::ConnectFailed { .. } => EventKind::ConnectFailed,
            Event::ConnClosed { .. } => EventKind::ConnClosed,
            Event::Stream { .. } => EventKind::Stream,
            Event::StreamOpened { .. } => EventKind::StreamOpened,
            Event::Data { .. } => EventKind::Data,
            Event::Fin { .. } => EventKind::Fin,
            Event::Reset { .. } => EventKind::Reset,
            Event::Stopped { .. } => EventKind::Stopped,
            Event::Drain { .. } => EventKind::Drain,
            Event::Datagram { .. } => EventKind::Datagram,
            Event::StreamError { .. } => EventKind::StreamError,
            Event::StreamClosed { .. } => EventKind::StreamClosed,
            Event::EndpointClosed => EventKind::EndpointClosed,
            Event::HandshakeFailed { .. } => EventKind::HandshakeFailed,
            Event::Session { .. } => EventKind::Session,
        }
    }

    /// Converts at the napi boundary. A Data event gives its receive credit back here: JS
    /// now holds the bytes.
    pub fn into_raw(self) -> RawEvent {
        let kind = self.kind();
        let raw = |id: u32, conn: u32| RawEvent { kind, id, conn, code: None, num: None, flag: false, data: None, text: None, text2: None };
        let code = |c: u64| Some(c as f64);
        match self {
            Event::Established { id, remote, alpn, peer_cert, .. } => {
                RawEvent { text: Some(remote), text2: alpn, data: peer_cert.map(Buffer::from), ..raw(id, id) }
            }
            Event::ConnectFailed { id, ending } | Event::ConnClosed { id, ending } => {
                RawEvent { code: ending.code.and_then(code), text: Some(ending.reason), text2: Some(ending.how), ..raw(id, id) }
            }
            Event::Stream { id, conn, bidi, index } => RawEvent { flag: bidi, num: Some(index as f64), ..raw(id, conn) },
            Event::StreamOpened { id, conn, index } => RawEvent { num: Some(index as f64), ..raw(id, conn) },
            Event::Data { id, conn, data, credit } => {
                credit.release(data.len());
                RawEvent { data: Some(Buffer::from(data)), ..raw(id, conn) }
            }
            Event::Reset { id, conn, code: c } | Event::Stopped { id, conn, code: c } => RawEvent { code: code(c), ..raw(id, conn) },
            Event::Fin { id, conn } | Event::Drain { id, conn } | Event::StreamClosed { id, conn } => raw(id, conn),
            Event::Datagram { conn, data } => RawEvent { data: Some(Buffer::from(data)), ..raw(0, conn) },
            Event::StreamError { id, conn, failure, message } => RawEvent { code: Some(f64::from(failure as u8)), text: Some(message), ..raw(id, conn) },
            Event::EndpointClosed => raw(0, 0),
            Event::Session { conn, status, path, headers } => {
                RawEvent { code: status.map(f64::from), text: Some(path), text2: Some(headers), ..raw(conn, conn) }
            }
            Event::HandshakeFailed { remote, detail } => RawEvent { text: Some(remote), text2: Some(detail), ..raw(0, 0) },
        }
    }
}

/// Asks JS to poll (a threadsafe-function call in production, a counter in tests).
pub trait Wake: Send + Sync {
    fn wake(&self);
    /// Whether the waker keeps the JS event loop alive (socket.ref()/unref()).
    fn hold(&mut self, _env: &napi::Env, _hold: bool) -> napi::Result<()> {
        Ok(())
    }
}

#[derive(Default)]
struct Pending {
    events: Vec<Event>,
    /// A wake is in flight: JS will poll, so further pushes need not wake again.
    scheduled: bool,
}

pub struct EventQueue {
    pending: Mutex<Pending>,
    waker: Mutex<Option<Box<dyn Wake>>>,
}

impl EventQueue {
    pub fn new(waker: Box<dyn Wake>) -> Self {
        EventQueue { pending: Mutex::new(Pending::default()), waker: Mutex::new(Some(waker)) }
    }

    pub fn push(&self, ev: Event) {
        let wake = {
            let mut q = lock(&self.pending);
            q.events.push(ev);
            !std::mem::replace(&mut q.scheduled, true)
        };
        if wake {
            if let Some(w) = lock(&self.waker).as_ref() {
                w.wake();
            }
        }
    }

    /// Takes every queued event; the next push schedules a new wake.
    pub fn take(&self) -> Vec<Event> {
        let mut q = lock(&self.pending);
        q.scheduled = false;
        std::mem::take(&mut q.events)
    }

    /// Runs `f` on the waker while it is still installed (ref/unref of the JS callback).
    pub fn with_waker<R>(&self, f: impl FnOnce(&mut dyn Wake) -> R) -> Option<R> {
        lock(&self.waker).as_mut().map(|w| f(w.as_mut()))
    }

    /// Drops the waker: the endpoint no longer keeps the JS event loop alive.
    pub fn release_waker(&self) {
        lock(&self.waker).take();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    struct Count(Arc<AtomicUsize>);
    impl Wake for Count {
        fn wake(&self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    struct Credit(AtomicUsize);
    impl Release for Credit {
        fn release(&self, bytes: usize) {
            self.0.fetch_sub(bytes, Ordering::SeqCst);
        }
    }

    fn queue() -> (EventQueue, Arc<AtomicUsize>) {
        let wakes = Arc::new(AtomicUsize::new(0));
        (EventQueue::new(Box::new(Count(wakes.clone()))), wakes)
    }

    #[test]
    fn one_wake_per_batch_and_order_kept() {
        let (q, wakes) = queue();
        for conn in 1..=5 {
            q.push(Event::Drain { id: 10 + conn, conn });
        }
        assert_eq!(wakes.load(Ordering::SeqCst), 1, "a burst schedules one wake");
        let ids: Vec<u32> = q.take().into_iter().map(|e| e.into_raw().id).collect();
        assert_eq!(ids, vec![11, 12, 13, 14, 15]);
        assert!(q.take().is_empty());
        q.push(Event::EndpointClosed);
        assert_eq!(wakes.load(Ordering::SeqCst), 2, "the first push after a take wakes again");
    }

    #[test]
    fn no_wake_after_release() {
        let (q, wakes) = queue();
        q.release_waker();
        q.push(Event::EndpointClosed);
        assert_eq!(wakes.load(Ordering::SeqCst), 0);
        assert_eq!(q.take().len(), 1, "events are still queued");
    }

    #[test]
    fn data_gives_credit_back_at_the_boundary() {
        let credit = Arc::new(Credit(AtomicUsize::new(100)));
        let ev = Event::Data { id: 3, conn: 1, data: vec![0; 40], credit: credit.clone() };
        assert_eq!(credit.0.load(Ordering::SeqCst), 100, "credit is held while queued");
        let raw = ev.into_raw();
        assert_eq!(raw.kind, EventKind::Data);
        assert_eq!(credit.0.load(Ordering::SeqCst), 60);
    }

    #[test]
    fn kinds_convert_with_their_fields() {
        let raw = Event::Established { id: 7, inbound: true, remote: "127.0.0.1:1".into(), alpn: Some("x".into()), peer_cert: None }.into_raw();
        assert_eq!((raw.kind, raw.id, raw.conn, raw.text.as_deref(), raw.text2.as_deref()), (EventKind::Connection, 7, 7, Some("127.0.0.1:1"), Some("x")));
        let raw = Event::ConnClosed { id: 7, ending: Ending { how: "remote".into(), code: Some(3), reason: "bye".into() } }.into_raw();
        assert_eq!((raw.kind, raw.code, raw.text.as_deref(), raw.text2.as_deref()), (EventKind::ConnClosed, Some(3.0), Some("bye"), Some("remote")));
        let raw = Event::StreamError { id: 9, conn: 7, failure: StreamFailure::ConnectionLost, message: "lost".into() }.into_raw();
        assert_eq!((raw.kind, raw.code), (EventKind::StreamError, Some(2.0)));
        let raw = Event::Stream { id: 9, conn: 7, bidi: true, index: 4 }.into_raw();
        assert_eq!((raw.kind, raw.flag, raw.num), (EventKind::Stream, true, Some(4.0)));
    }
}
