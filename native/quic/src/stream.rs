//! Per-stream send state and tasks. write() on the JS thread hands bytes straight to quinn when
//! nothing is queued ahead of them (no task hop between JS and the connection driver); what flow
//! control refuses stays in a bounded send buffer that a writer task drains when quinn wakes it.
//! A reader task reads batches of chunks (read_chunks) and hands one
//! concatenated buffer per batch to the event queue, pausing while JS holds more than the
//! receive high-water mark so QUIC flow control pushes back on the peer for that stream only.

use std::collections::VecDeque;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use quinn::{ReadError, VarInt, WriteError};
use tokio::sync::Notify;

use crate::shared::{kind, lock, Ev, RecvState, Shared};

#[derive(Default)]
pub struct SendBuf {
    pub chunks: VecDeque<Bytes>,
    pub bytes: usize,
    pub finish: bool,
    pub reset: Option<u64>,
    /// The writer is gone (finished, reset, stopped by peer, connection lost, open failed).
    pub done: bool,
    pub need_drain: bool,
    /// The QUIC stream once it is open. It lives under this lock so that write() on the JS
    /// thread can hand bytes straight to quinn (no hop through the writer task) whenever nothing
    /// is queued ahead of them; the writer task only takes over what flow control refused.
    stream: Option<quinn::SendStream>,
}

pub struct SendState {
    pub buf: Mutex<SendBuf>,
    /// New data, finish or reset for the writer task.
    pub notify: Notify,
    pub hwm: usize,
}

/// What one pass of `SendBuf::pump` left behind.
enum Pumped {
    /// Nothing queued (or the stream is not open yet): wait for write()/finish()/reset().
    Idle,
    /// Flow or congestion control refused the rest; quinn holds the caller's waker.
    Blocked,
    /// The send side is over.
    Exit(Exit),
}

enum Exit {
    Finished,
    Reset,
    Stopped(VarInt),
    Lost(String),
    Closed,
}

impl SendBuf {
    /// Hands queued chunks to quinn until it refuses, then applies finish/reset. Returns what is
    /// left and whether the buffer fell below `hwm` after write() had said "wait for drain".
    fn pump(&mut self, cx: &mut Context<'_>, hwm: usize) -> (Pumped, bool) {
        let Some(stream) = self.stream.as_mut() else { return (Pumped::Idle, false) };
        if let Some(code) = self.reset {
            let _ = stream.reset(VarInt::from_u64(code).unwrap_or(VarInt::MAX));
            return (Pumped::Exit(Exit::Reset), false);
        }
        let mut out = Pumped::Idle;
        while !self.chunks.is_empty() {
            let slice = self.chunks.make_contiguous();
            let r = {
                let fut = pin!(stream.write_chunks(slice));
                fut.poll(cx)
            };
            match r {
                Poll::Ready(Ok(w)) => {
                    // Fully written chunks are at the front (the partial one was split in place).
                    self.chunks.drain(..w.chunks);
                    self.bytes = self.bytes.saturating_sub(w.bytes);
                }
                Poll::Ready(Err(WriteError::Stopped(code))) => return (Pumped::Exit(Exit::Stopped(code)), false),
                Poll::Ready(Err(e @ WriteError::ConnectionLost(_))) => return (Pumped::Exit(Exit::Lost(e.to_string())), false),
                Poll::Ready(Err(_)) => return (Pumped::Exit(Exit::Closed), false),
                Poll::Pending => {
                    out = Pumped::Blocked;
                    break;
                }
            }
        }
        let drained = self.need_drain && self.bytes < hwm;
        if drained {
            self.need_drain = false;
        }
        if self.chunks.is_empty() && self.finish {
            let _ = stream.finish();
            return (Pumped::Exit(Exit::Finished), drained);
        }
        (out, drained)
    }
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
            b.chunks.push_back(c);
        }
        if b.chunks.is_empty() {
            return i32::from(b.bytes < self.hwm);
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
        true
    }

    pub fn buffered(&self) -> usize {
        lock(&self.buf).bytes
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
    pub fn new(shared: &Shared, conn: u32, send: bool, recv: bool) -> Arc<Self> {
        let id = shared.next_id();
        let e = Arc::new(StreamEntry {
            id,
            conn,
            send: send.then(|| {
                Arc::new(SendState { buf: Mutex::new(SendBuf::default()), notify: Notify::new(), hwm: shared.send_hwm })
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
            drop(s.mark_done());
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

async fn writer(shared: Arc<Shared>, entry: Arc<StreamEntry>, st: Arc<SendState>, stream: quinn::SendStream) {
    let stopped = stream.stopped();
    tokio::pin!(stopped);
    lock(&st.buf).stream = Some(stream);
    let exit = loop {
        let notified = st.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (pumped, drained) = poll_fn(|cx| Poll::Ready(lock(&st.buf).pump(cx, st.hwm))).await;
        if drained {
            shared.push(Ev { kind: kind::DRAIN, id: entry.id, conn: entry.conn, ..Ev::default() });
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
        Exit::Stopped(code) => shared.push(Ev { kind: kind::STOPPED, id: entry.id, conn: entry.conn, code: code_of(code), ..Ev::default() }),
        Exit::Lost(msg) => entry.error(&shared, 2, msg),
        Exit::Finished | Exit::Reset | Exit::Closed => {}
    }
    drop(st.mark_done());
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
