//! State shared between the JS-facing endpoint object and the tokio tasks, and the event queue.
//!
//! Every task pushes events into one queue per endpoint. The first push into an empty queue
//! schedules ONE threadsafe-function call ("wake"); JS then calls `poll()` and receives every
//! event queued so far in one array. So a burst of reads on many streams costs one
//! Rust→JS crossing plus one JS→Rust call, not one per chunk.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use tokio::sync::Notify;

use crate::stream::StreamEntry;

pub type WakeFn = ThreadsafeFunction<u32, (), u32, Status, false>;

pub mod kind {
    pub const CONNECTION: u32 = 1;
    pub const CONNECTED: u32 = 2;
    pub const CONNECT_FAILED: u32 = 3;
    pub const CONN_CLOSED: u32 = 4;
    pub const STREAM: u32 = 5;
    pub const DATA: u32 = 6;
    pub const FIN: u32 = 7;
    pub const RESET: u32 = 8;
    pub const STOPPED: u32 = 9;
    pub const DRAIN: u32 = 10;
    pub const DATAGRAM: u32 = 11;
    pub const STREAM_ERROR: u32 = 12;
    pub const STREAM_CLOSED: u32 = 13;
    pub const ENDPOINT_CLOSED: u32 = 14;
    pub const HANDSHAKE_FAILED: u32 = 15;
    pub const STREAM_OPENED: u32 = 16;
}

pub struct RecvState {
    pub paused: AtomicBool,
    /// Bytes handed to the event queue and not yet taken by poll().
    pub pending: AtomicUsize,
    pub stop: Mutex<Option<u64>>,
    pub notify: Notify,
    pub hwm: usize,
}

impl RecvState {
    pub fn new(hwm: usize) -> Arc<Self> {
        Arc::new(RecvState {
            paused: AtomicBool::new(false),
            pending: AtomicUsize::new(0),
            stop: Mutex::new(None),
            notify: Notify::new(),
            hwm,
        })
    }
}

#[derive(Default)]
pub struct Ev {
    pub kind: u32,
    pub id: u32,
    pub conn: u32,
    pub code: Option<f64>,
    pub num: Option<f64>,
    pub flag: bool,
    pub data: Option<Vec<u8>>,
    pub text: Option<String>,
    pub text2: Option<String>,
    pub recv: Option<Arc<RecvState>>,
}

pub struct ConnEntry {
    pub conn: quinn::Connection,
    pub local_close: Mutex<Option<(u64, String)>>,
    pub last_srtt_us: Mutex<(f64, f64)>,
}

#[derive(Default)]
struct Queue {
    events: Vec<Ev>,
    scheduled: bool,
}

pub struct Shared {
    queue: Mutex<Queue>,
    pub wake: Mutex<Option<WakeFn>>,
    pub conns: Mutex<HashMap<u32, Arc<ConnEntry>>>,
    pub streams: Mutex<HashMap<u32, Arc<StreamEntry>>>,
    next_id: AtomicU32,
    pub endpoint: Mutex<Option<quinn::Endpoint>>,
    pub closing: AtomicBool,
    pub close_code: Mutex<(u64, String)>,
    pub live_conns: AtomicUsize,
    pub conns_gone: Notify,
    pub send_hwm: usize,
    pub recv_hwm: usize,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub fn new(wake: WakeFn, endpoint: quinn::Endpoint, send_hwm: usize, recv_hwm: usize) -> Arc<Self> {
        Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            wake: Mutex::new(Some(wake)),
            conns: Mutex::new(HashMap::new()),
            streams: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
            endpoint: Mutex::new(Some(endpoint)),
            closing: AtomicBool::new(false),
            close_code: Mutex::new((0, String::new())),
            live_conns: AtomicUsize::new(0),
            conns_gone: Notify::new(),
            send_hwm,
            recv_hwm,
        })
    }

    pub fn next_id(&self) -> u32 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    pub fn push(&self, ev: Ev) {
        let wake = {
            let mut q = lock(&self.queue);
            q.events.push(ev);
            !std::mem::replace(&mut q.scheduled, true)
        };
        if wake {
            if let Some(f) = lock(&self.wake).as_ref() {
                f.call(0, ThreadsafeFunctionCallMode::NonBlocking);
            }
        }
    }

    /// Takes every queued event; the next push schedules a new wake.
    pub fn take(&self) -> Vec<Ev> {
        let mut q = lock(&self.queue);
        q.scheduled = false;
        std::mem::take(&mut q.events)
    }

    pub fn conn(&self, id: u32) -> Option<Arc<ConnEntry>> {
        lock(&self.conns).get(&id).cloned()
    }

    pub fn stream(&self, id: u32) -> Option<Arc<StreamEntry>> {
        lock(&self.streams).get(&id).cloned()
    }
}
