//! A stream's send buffer and its pump: hands queued chunks to the QUIC send stream until flow
//! or congestion control refuses, then applies finish or reset. Pure over the `ChunkSink`
//! seam, so the unit tests drive it with a fake stream.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use quinn::{VarInt, WriteError, Written};

/// What the pump needs of a QUIC send stream: quinn's in production, a fake in unit tests.
pub trait ChunkSink {
    /// Writes a prefix of `chunks`; a partly written chunk is advanced in place (as quinn does).
    fn poll_write(&mut self, cx: &mut Context<'_>, chunks: &mut [Bytes]) -> Poll<Result<Written, WriteError>>;
    fn finish(&mut self);
    fn reset(&mut self, code: VarInt);
}

impl ChunkSink for quinn::SendStream {
    fn poll_write(&mut self, cx: &mut Context<'_>, chunks: &mut [Bytes]) -> Poll<Result<Written, WriteError>> {
        pin!(self.write_chunks(chunks)).poll(cx)
    }
    fn finish(&mut self) {
        let _ = quinn::SendStream::finish(self);
    }
    fn reset(&mut self, code: VarInt) {
        let _ = quinn::SendStream::reset(self, code);
    }
}

pub struct SendBuf<S = quinn::SendStream> {
    pub chunks: VecDeque<Bytes>,
    pub bytes: usize,
    pub finish: bool,
    pub reset: Option<u64>,
    /// The writer is gone (finished, reset, stopped by peer, connection lost, open failed).
    pub done: bool,
    pub need_drain: bool,
    /// A caller waits for the buffer to empty: the next pump that leaves it empty signals drain.
    pub need_empty: bool,
    /// The QUIC stream once it is open. It lives under this lock so that write() on the JS
    /// thread can hand bytes straight to quinn (no hop through the writer task) whenever nothing
    /// is queued ahead of them; the writer task only takes over what flow control refused.
    pub stream: Option<S>,
}

impl<S> Default for SendBuf<S> {
    fn default() -> Self {
        SendBuf { chunks: VecDeque::new(), bytes: 0, finish: false, reset: None, done: false, need_drain: false, need_empty: false, stream: None }
    }
}

/// What one pass of `SendBuf::pump` left behind.
pub enum Pumped {
    /// Nothing queued (or the stream is not open yet): wait for write()/finish()/reset().
    Idle,
    /// Flow or congestion control refused the rest; quinn holds the caller's waker.
    Blocked,
    /// The send side is over.
    Exit(Exit),
}

pub enum Exit {
    Finished,
    Reset,
    Stopped(VarInt),
    Lost(String),
    Closed,
}

impl<S: ChunkSink> SendBuf<S> {
    /// Hands queued chunks to quinn until it refuses, then applies finish/reset. Returns what is
    /// left and whether to signal drain: the buffer fell below `hwm` after write() had said
    /// "wait for drain", or it emptied while someone waits for that.
    pub fn pump(&mut self, cx: &mut Context<'_>, hwm: usize) -> (Pumped, bool) {
        let Some(stream) = self.stream.as_mut() else { return (Pumped::Idle, false) };
        if let Some(code) = self.reset {
            stream.reset(VarInt::from_u64(code).unwrap_or(VarInt::MAX));
            return (Pumped::Exit(Exit::Reset), false);
        }
        let mut out = Pumped::Idle;
        while !self.chunks.is_empty() {
            let slice = self.chunks.make_contiguous();
            match stream.poll_write(cx, slice) {
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
        let drained = (self.need_drain && self.bytes < hwm) || (self.need_empty && self.bytes == 0);
        if drained {
            self.need_drain = false;
            self.need_empty = false;
        }
        if self.chunks.is_empty() && self.finish {
            stream.finish();
            return (Pumped::Exit(Exit::Finished), drained);
        }
        (out, drained)
    }
}

#[cfg(test)]
#[path = "send_buf_tests.rs"]
mod tests;
