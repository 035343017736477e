//! What one endpoint's JS-facing object and its tokio tasks share: the event queue, the live
//! connections and streams by handle, and the endpoint's closing state.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use crate::events::{Event, EventQueue, Wake};
use crate::stream::{StreamEntry, Streams};
use crate::sync::{lock, IdSpace};
use crate::wt::WtState;

pub struct ConnEntry {
    pub conn: quinn::Connection,
    /// (code, reason) this side closed with, to report it back on CONN_CLOSED.
    pub local_close: Mutex<Option<(u64, String)>>,
    /// (last smoothed RTT, its mean deviation), both in ms; -1 before the first sample.
    pub last_srtt_us: Mutex<(f64, f64)>,
    /// WebTransport state when the connection negotiated ALPN `h3` (wt.rs).
    pub wt: Option<Arc<WtState>>,
}

pub struct Registry {
    pub events: Arc<EventQueue>,
    ids: Arc<IdSpace>,
    pub streams: Arc<Streams>,
    conns: Mutex<HashMap<u32, Arc<ConnEntry>>>,
    pub endpoint: Mutex<Option<quinn::Endpoint>>,
    pub closing: AtomicBool,
    /// (code, reason) of endpoint close(), reported for connections it closed.
    pub close_code: Mutex<(u64, String)>,
    live_conns: AtomicUsize,
    pub conns_gone: Notify,
}

impl Registry {
    pub fn new(waker: Box<dyn Wake>, endpoint: quinn::Endpoint, send_hwm: usize, recv_hwm: usize) -> Arc<Self> {
        let events = Arc::new(EventQueue::new(waker));
        let ids = Arc::new(IdSpace::new());
        Arc::new(Registry {
            streams: Streams::new(events.clone(), ids.clone(), send_hwm, recv_hwm),
            events,
            ids,
            conns: Mutex::new(HashMap::new()),
            endpoint: Mutex::new(Some(endpoint)),
            closing: AtomicBool::new(false),
            close_code: Mutex::new((0, String::new())),
            live_conns: AtomicUsize::new(0),
            conns_gone: Notify::new(),
        })
    }

    pub fn push(&self, ev: Event) {
        self.events.push(ev);
    }

    pub fn next_id(&self) -> u32 {
        self.ids.next()
    }

    pub fn conn(&self, id: u32) -> Option<Arc<ConnEntry>> {
        lock(&self.conns).get(&id).cloned()
    }

    pub fn insert_conn(&self, id: u32, entry: Arc<ConnEntry>) {
        lock(&self.conns).insert(id, entry);
    }

    pub fn remove_conn(&self, id: u32) {
        lock(&self.conns).remove(&id);
    }

    pub fn stream(&self, id: u32) -> Option<Arc<StreamEntry>> {
        self.streams.get(id)
    }

    /// A connection attempt (inbound or outbound) began: close() waits for it to end.
    pub fn conn_started(&self) {
        self.live_conns.fetch_add(1, Ordering::AcqRel);
    }

    /// A connection (or attempt) ended for good.
    pub fn conn_gone(&self) {
        if self.live_conns.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.conns_gone.notify_waiters();
        }
    }

    pub fn live_conns(&self) -> usize {
        self.live_conns.load(Ordering::Acquire)
    }
}
