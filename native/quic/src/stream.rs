//! Per-stream tasks. A writer task drains the bounded send buffer that JS fills with the
//! non-blocking write(); a reader task reads batches of chunks (read_chunks) and hands one
//! concatenated buffer per batch to the event queue, pausing while JS holds more than the
//! receive high-water mark so QUIC flow control pushes back on the peer for that stream only.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use quinn::{ReadError, VarInt, WriteError};
use tokio::sync::Notify;

use crate::shared::{kind, lock, Ev, RecvState, Shared};

#[derive(Default)]
pub struct SendBuf {
    pub chunks: Vec<Bytes>,
    pub bytes: usize,
    pub finish: bool,
    pub reset: Option<u64>,
    /// The writer is gone (finished, reset, stopped by peer, connection lost, open failed).
    pub done: bool,
    pub need_drain: bool,
}

pub struct SendState {
    pub buf: Mutex<SendBuf>,
    /// New data, finish or reset.
    pub notify: Notify,
    /// Reset only: interrupts a write blocked on flow control.
    pub ctl: Notify,
    pub hwm: usize,
}

pub struct StreamEntry {
    pub id: u32,
    pub conn: u32,
    pub send: Option<Arc<SendState>>,
    pub recv: Option<Arc<RecvState>>,
    remaining: AtomicU8,
    errored: AtomicBool,
}

/// Result of write(): 1 = accepted and below the high-water mark, 0 = accepted but at or above
/// it (wait for drain), -1 = not writable (finished, reset, stopped or lost); bytes dropped.
impl SendState {
    pub fn write<I: IntoIterator<Item = Bytes>>(&self, chunks: I) -> i32 {
        let mut b = lock(&self.buf);
        if b.done || b.finish || b.reset.is_some() {
            return -1;
        }
        let was_empty = b.chunks.is_empty();
        for c in chunks {
            if c.is_empty() {
                continue;
            }
            b.bytes += c.len();
            b.chunks.push(c);
        }
        let below = b.bytes < self.hwm;
        if !below {
            b.need_drain = true;
        }
        drop(b);
        if was_empty {
            self.notify.notify_one();
        }
        i32::from(below)
    }

    pub fn finish(&self) -> bool {
        let mut b = lock(&self.buf);
        if b.done || b.reset.is_some() {
            return false;
        }
        b.finish = true;
        drop(b);
        self.notify.notify_one();
        true
    }

    pub fn reset(&self, code: u64) -> bool {
        let mut b = lock(&self.buf);
        if b.done {
            return false;
        }
        b.reset = Some(code);
        b.chunks.clear();
        b.bytes = 0;
        drop(b);
        self.notify.notify_one();
        self.ctl.notify_one();
        true
    }

    pub fn buffered(&self) -> usize {
        lock(&self.buf).bytes
    }

    fn mark_done(&self) {
        let mut b = lock(&self.buf);
        b.done = true;
        b.chunks.clear();
        b.bytes = 0;
    }
}

impl StreamEntry {
    pub fn new(shared: &Shared, conn: u32, send: bool, recv: bool) -> Arc<Self> {
        let id = shared.next_id();
        let e = Arc::new(StreamEntry {
            id,
            conn,
            send: send.then(|| {
                Arc::new(SendState { buf: Mutex::new(SendBuf::default()), notify: Notify::new(), ctl: Notify::new(), hwm: shared.send_hwm })
            }),
            recv: recv.then(|| RecvState::new(shared.recv_hwm)),
            remaining: AtomicU8::new(u8::from(send) + u8::from(recv)),
            errored: AtomicBool::new(false),
        });
        lock(&shared.streams).insert(id, e.clone());
        e
    }

    /// One half (send or receive) is finished for good; when both are, forget the stream.
    pub fn half_done(&self, shared: &Shared) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            lock(&shared.streams).remove(&self.id);
            shared.push(Ev { kind: kind::STREAM_CLOSED, id: self.id, conn: self.conn, ..Ev::default() });
        }
    }

    /// Reports an abnormal end once per stream: code 1 = open failed, 2 = connection lost.
    pub fn error(&self, shared: &Shared, code: u32, msg: String) {
        if !self.errored.swap(true, Ordering::AcqRel) {
            shared.push(Ev { kind: kind::STREAM_ERROR, id: self.id, conn: self.conn, code: Some(f64::from(code)), text: Some(msg), ..Ev::default() });
        }
    }

    /// Opening failed or the connection is gone before the stream existed.
    pub fn fail(&self, shared: &Shared, msg: String) {
        self.error(shared, 1, msg);
        if let Some(s) = &self.send {
            s.mark_done();
            self.half_done(shared);
        }
        if self.recv.is_some() {
            self.half_done(shared);
        }
    }

    pub fn start(self: &Arc<Self>, shared: &Arc<Shared>, send: Option<quinn::SendStream>, recv: Option<quinn::RecvStream>) {
        if let (Some(st), Some(s)) = (self.send.clone(), send) {
            tokio::spawn(writer(shared.clone(), self.clone(), st, s));
        }
        if let (Some(st), Some(r)) = (self.recv.clone(), recv) {
            tokio::spawn(reader(shared.clone(), self.clone(), st, r));
        }
    }
}

fn code_of(v: VarInt) -> Option<f64> {
    Some(v.into_inner() as f64)
}

async fn writer(shared: Arc<Shared>, entry: Arc<StreamEntry>, st: Arc<SendState>, mut stream: quinn::SendStream) {
    let stopped = stream.stopped();
    tokio::pin!(stopped);
    let emit_stopped = |code: VarInt| {
        shared.push(Ev { kind: kind::STOPPED, id: entry.id, conn: entry.conn, code: code_of(code), ..Ev::default() });
    };
    'outer: loop {
        let (mut batch, finish, reset) = {
            let mut b = lock(&st.buf);
            (std::mem::take(&mut b.chunks), b.finish, b.reset)
        };
        if let Some(code) = reset {
            let _ = stream.reset(VarInt::from_u64(code).unwrap_or(VarInt::MAX));
            break;
        }
        if batch.is_empty() {
            if finish {
                let _ = stream.finish();
                break;
            }
            tokio::select! {
                _ = st.notify.notified() => continue,
                r = &mut stopped => {
                    match r {
                        Ok(Some(code)) => emit_stopped(code),
                        Err(e) => entry.error(&shared, 2, e.to_string()),
                        Ok(None) => {}
                    }
                    break;
                }
            }
        }
        let mut rest: &mut [Bytes] = &mut batch[..];
        while !rest.is_empty() {
            tokio::select! {
                biased;
                r = stream.write_chunks(rest) => match r {
                    Ok(w) => {
                        rest = &mut rest[w.chunks..];
                        let drained = {
                            let mut b = lock(&st.buf);
                            b.bytes = b.bytes.saturating_sub(w.bytes);
                            if b.need_drain && b.bytes < st.hwm && b.reset.is_none() {
                                b.need_drain = false;
                                true
                            } else {
                                false
                            }
                        };
                        if drained {
                            shared.push(Ev { kind: kind::DRAIN, id: entry.id, conn: entry.conn, ..Ev::default() });
                        }
                    }
                    Err(WriteError::Stopped(code)) => { emit_stopped(code); break 'outer; }
                    Err(e @ WriteError::ConnectionLost(_)) => { entry.error(&shared, 2, e.to_string()); break 'outer; }
                    Err(_) => break 'outer,
                },
                _ = st.ctl.notified() => {
                    let reset = lock(&st.buf).reset;
                    if let Some(code) = reset {
                        let _ = stream.reset(VarInt::from_u64(code).unwrap_or(VarInt::MAX));
                        break 'outer;
                    }
                }
            }
        }
    }
    st.mark_done();
    entry.half_done(&shared);
}

async fn reader(shared: Arc<Shared>, entry: Arc<StreamEntry>, st: Arc<RecvState>, mut stream: quinn::RecvStream) {
    let mut bufs: Vec<Bytes> = vec![Bytes::new(); 64];
    let mut watch_reset = true;
    loop {
        // Wait until JS wants data and has taken what we gave it. Meanwhile still notice a
        // reset from the peer, which JS must see even while it is not reading.
        loop {
            let notified = st.notify.notified();
            if let Some(code) = *lock(&st.stop) {
                let _ = stream.stop(VarInt::from_u64(code).unwrap_or(VarInt::MAX));
                entry.half_done(&shared);
                return;
            }
            if !st.paused.load(Ordering::Acquire) && st.pending.load(Ordering::Acquire) < st.hwm {
                break;
            }
            if !watch_reset {
                notified.await;
                continue;
            }
            tokio::select! {
                _ = notified => {}
                r = stream.received_reset() => match r {
                    Ok(Some(code)) => {
                        shared.push(Ev { kind: kind::RESET, id: entry.id, conn: entry.conn, code: code_of(code), ..Ev::default() });
                        entry.half_done(&shared);
                        return;
                    }
                    Err(quinn::ResetError::ConnectionLost(e)) => {
                        entry.error(&shared, 2, e.to_string());
                        entry.half_done(&shared);
                        return;
                    }
                    _ => watch_reset = false,
                },
            }
        }
        let r = tokio::select! {
            r = stream.read_chunks(&mut bufs) => r,
            _ = st.notify.notified() => continue,
        };
        match r {
            Ok(Some(n)) => {
                let total: usize = bufs[..n].iter().map(Bytes::len).sum();
                let mut data = Vec::with_capacity(total);
                for b in &mut bufs[..n] {
                    data.extend_from_slice(b);
                    *b = Bytes::new();
                }
                st.pending.fetch_add(total, Ordering::AcqRel);
                shared.push(Ev { kind: kind::DATA, id: entry.id, conn: entry.conn, data: Some(data), recv: Some(st.clone()), ..Ev::default() });
            }
            Ok(None) => {
                shared.push(Ev { kind: kind::FIN, id: entry.id, conn: entry.conn, ..Ev::default() });
                break;
            }
            Err(ReadError::Reset(code)) => {
                shared.push(Ev { kind: kind::RESET, id: entry.id, conn: entry.conn, code: code_of(code), ..Ev::default() });
                break;
            }
            Err(e @ ReadError::ConnectionLost(_)) => {
                entry.error(&shared, 2, e.to_string());
                break;
            }
            Err(_) => break,
        }
    }
    entry.half_done(&shared);
}
