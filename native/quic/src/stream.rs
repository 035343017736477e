//! Per-stream send state and tasks. write() on the JS thread hands bytes straight to quinn when
//! nothing is queued ahead of them (no task hop between JS and the connection driver); what flow
//! control refuses stays in a bounded send buffer that a writer task drains when quinn wakes it.
//! A reader task reads batches of chunks (read_chunks) and hands one
//! concatenated buffer per batch to the event queue, pausing while JS holds more than the
//! receive high-water mark so QUIC flow control pushes back on the peer for that stream only.

use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use napi_derive::napi;
use quinn::{ReadError, VarInt};
use tokio::sync::Notify;

use crate::events::{Event, EventQueue, Release, StreamFailure};
use crate::send_buf::{Exit, Pumped, SendBuf};
use crate::sync::{lock, IdSpace};

/// The streams of one endpoint, and what their tasks need: the event queue, the id space
/// (shared with connections) and the high-water marks.
pub struct Streams {
    pub events: Arc<EventQueue>,
    ids: Arc<IdSpace>,
    table: Mutex<HashMap<u32, Arc<StreamEntry>>>,
    send_hwm: usize,
    recv_hwm: usize,
}

impl Streams {
    pub fn new(events: Arc<EventQueue>, ids: Arc<IdSpace>, send_hwm: usize, recv_hwm: usize) -> Arc<Self> {
        Arc::new(Streams { events, ids, table: Mutex::new(HashMap::new()), send_hwm, recv_hwm })
    }

    pub fn get(&self, id: u32) -> Option<Arc<StreamEntry>> {
        lock(&self.table).get(&id).cloned()
    }

    fn push(&self, ev: Event) {
        self.events.push(ev);
    }
}

/// What write() tells JS (packages/quic/src/native.ts `WriteResult`).
#[napi]
#[derive(Debug, PartialEq, Eq)]
pub enum WriteResult {
    /// Not writable (finished, reset, stopped or lost): the bytes were dropped.
    Closed = -1,
    /// Accepted, but the buffer is at or above the high-water mark: wait for DRAIN.
    Full = 0,
    /// Accepted and below the high-water mark.
    Accepted = 1,
}

/// Receive side of a stream: JS pauses it, stops it, and gives credit back as it takes data.
pub struct RecvState {
    pub paused: AtomicBool,
    /// Bytes handed to the event queue and not yet taken by poll().
    pending: AtomicUsize,
    pub stop: Mutex<Option<u64>>,
    pub notify: Notify,
    hwm: usize,
}

impl RecvState {
    fn new(hwm: usize) -> Arc<Self> {
        Arc::new(RecvState { paused: AtomicBool::new(false), pending: AtomicUsize::new(0), stop: Mutex::new(None), notify: Notify::new(), hwm })
    }
}

impl Release for RecvState {
    fn release(&self, bytes: usize) {
        let prev = self.pending.fetch_sub(bytes, Ordering::AcqRel);
        if prev >= self.hwm {
            self.notify.notify_one();
        }
    }
}

pub struct SendState {
    buf: Mutex<SendBuf>,
    /// New data, finish or reset for the writer task.
    pub notify: Notify,
    pub hwm: usize,
}

impl SendState {
    pub fn write<I: IntoIterator<Item = Bytes>>(&self, chunks: I) -> WriteResult {
        let mut b = lock(&self.buf);
        if b.done || b.finish || b.reset.is_some() {
            return WriteResult::Closed;
        }
        let was_empty = b.chunks.is_empty();
        for c in chunks {
            if c.is_empty() {
                continue;
            }
            b.bytes += c.len();
            b.chunks.push_back(c);
        }
        if b.chunks.is_empty() {
            return if b.bytes < self.hwm { WriteResult::Accepted } else { WriteResult::Full };
        }
        let mut wake_writer = was_empty;
        if was_empty && b.stream.is_some() {
            // Nothing ahead of these bytes: write them now, on this thread. quinn wakes its
            // connection driver itself. Whatever it refuses (or an error) goes to the writer
            // task, which registers its own waker: ours is a no-op one.
            let mut cx = Context::from_waker(Waker::noop());
            match b.pump(&mut cx, self.hwm) {
                (Pumped::Idle, _) => wake_writer = false,
                _ => wake_writer = true,
            }
        }
        let below = b.bytes < self.hwm;
        if !below {
            b.need_drain = true;
        }
        drop(b);
        if wake_writer {
            self.notify.notify_one();
        }
        if below {
            WriteResult::Accepted
        } else {
            WriteResult::Full
        }
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
        true
    }

    pub fn buffered(&self) -> usize {
        lock(&self.buf).bytes
    }

    /// True when nothing is buffered; otherwise a drain event follows once the buffer is empty
    /// (or the stream ends).
    pub fn notify_when_empty(&self) -> bool {
        let mut b = lock(&self.buf);
        if b.bytes == 0 || b.done {
            return true;
        }
        b.need_empty = true;
        false
    }

    fn mark_done(&self) -> Option<quinn::SendStream> {
        let mut b = lock(&self.buf);
        b.done = true;
        b.chunks.clear();
        b.bytes = 0;
        b.stream.take()
    }
}

/// Ready on its second poll: lets the writer wait for quinn to wake it after a blocked write.
struct WokenAgain(bool);

impl Future for WokenAgain {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

pub struct StreamEntry {
    pub id: u32,
    pub conn: u32,
    pub send: Option<Arc<SendState>>,
    pub recv: Option<Arc<RecvState>>,
    remaining: AtomicU8,
    errored: AtomicBool,
}

impl StreamEntry {
    pub fn new(streams: &Streams, conn: u32, send: bool, recv: bool) -> Arc<Self> {
        let id = streams.ids.next();
        let e = Arc::new(StreamEntry {
            id,
            conn,
            send: send.then(|| Arc::new(SendState { buf: Mutex::new(SendBuf::default()), notify: Notify::new(), hwm: streams.send_hwm })),
            recv: recv.then(|| RecvState::new(streams.recv_hwm)),
            remaining: AtomicU8::new(u8::from(send) + u8::from(recv)),
            errored: AtomicBool::new(false),
        });
        lock(&streams.table).insert(id, e.clone());
        e
    }

    /// One half (send or receive) is finished for good; when both are, forget the stream.
    pub fn half_done(&self, streams: &Streams) {
        if self.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
            lock(&streams.table).remove(&self.id);
            streams.push(Event::StreamClosed { id: self.id, conn: self.conn });
        }
    }

    /// Reports an abnormal end once per stream.
    pub fn error(&self, streams: &Streams, failure: StreamFailure, message: String) {
        if !self.errored.swap(true, Ordering::AcqRel) {
            streams.push(Event::StreamError { id: self.id, conn: self.conn, failure, message });
        }
    }

    /// Opening failed or the connection is gone before the stream existed.
    pub fn fail(&self, streams: &Streams, msg: String) {
        self.error(streams, StreamFailure::OpenFailed, msg);
        if let Some(s) = &self.send {
            drop(s.mark_done());
            self.half_done(streams);
        }
        if self.recv.is_some() {
            self.half_done(streams);
        }
    }

    pub fn start(self: &Arc<Self>, streams: &Arc<Streams>, send: Option<quinn::SendStream>, recv: Option<quinn::RecvStream>) {
        if let (Some(st), Some(s)) = (self.send.clone(), send) {
            tokio::spawn(writer(streams.clone(), self.clone(), st, s));
        }
        if let (Some(st), Some(r)) = (self.recv.clone(), recv) {
            tokio::spawn(reader(streams.clone(), self.clone(), st, r));
        }
    }
}

async fn writer(streams: Arc<Streams>, entry: Arc<StreamEntry>, st: Arc<SendState>, stream: quinn::SendStream) {
    let stopped = stream.stopped();
    tokio::pin!(stopped);
    lock(&st.buf).stream = Some(stream);
    let exit = loop {
        let notified = st.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (pumped, drained) = poll_fn(|cx| Poll::Ready(lock(&st.buf).pump(cx, st.hwm))).await;
        if drained {
            streams.push(Event::Drain { id: entry.id, conn: entry.conn });
        }
        let blocked = match pumped {
            Pumped::Exit(e) => break e,
            Pumped::Blocked => true,
            Pumped::Idle => false,
        };
        // Blocked: quinn wakes this task when the stream may take more (WokenAgain then
        // completes); idle: only write()/finish()/reset() (notified) can give us work.
        tokio::select! {
            _ = &mut notified => {}
            _ = WokenAgain(false), if blocked => {}
            r = &mut stopped => break match r {
                Ok(Some(code)) => Exit::Stopped(code),
                Err(e) => Exit::Lost(e.to_string()),
                Ok(None) => Exit::Closed,
            },
        }
    };
    match exit {
        Exit::Stopped(code) => streams.push(Event::Stopped { id: entry.id, conn: entry.conn, code: code.into_inner() }),
        Exit::Lost(msg) => entry.error(&streams, StreamFailure::ConnectionLost, msg),
        Exit::Finished | Exit::Reset | Exit::Closed => {}
    }
    drop(st.mark_done());
    entry.half_done(&streams);
}

async fn reader(streams: Arc<Streams>, entry: Arc<StreamEntry>, st: Arc<RecvState>, mut stream: quinn::RecvStream) {
    let mut bufs: Vec<Bytes> = vec![Bytes::new(); 64];
    let mut watch_reset = true;
    loop {
        // Wait until JS wants data and has taken what we gave it. Meanwhile still notice a
        // reset from the peer, which JS must see even while it is not reading.
        loop {
            let notified = st.notify.notified();
            if let Some(code) = *lock(&st.stop) {
                let _ = stream.stop(VarInt::from_u64(code).unwrap_or(VarInt::MAX));
                entry.half_done(&streams);
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
                        streams.push(Event::Reset { id: entry.id, conn: entry.conn, code: code.into_inner() });
                        entry.half_done(&streams);
                        return;
                    }
                    Err(quinn::ResetError::ConnectionLost(e)) => {
                        entry.error(&streams, StreamFailure::ConnectionLost, e.to_string());
                        entry.half_done(&streams);
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
                streams.push(Event::Data { id: entry.id, conn: entry.conn, data, credit: st.clone() });
            }
            Ok(None) => {
                streams.push(Event::Fin { id: entry.id, conn: entry.conn });
                break;
            }
            Err(ReadError::Reset(code)) => {
                streams.push(Event::Reset { id: entry.id, conn: entry.conn, code: code.into_inner() });
                break;
            }
            Err(e @ ReadError::ConnectionLost(_)) => {
                entry.error(&streams, StreamFailure::ConnectionLost, e.to_string());
                break;
            }
            Err(_) => break,
        }
    }
    entry.half_done(&streams);
}
