//! A subscription: a bounded buffer the client fills and the app drains as a `Stream`.
use crate::error::Error;
use bytes::Bytes;
use futures_core::Stream;
use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

/// One received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub(crate) tenant: Arc<str>,
    pub(crate) channel: Arc<str>,
    pub(crate) payload: Bytes,
    pub(crate) patterns: Arc<[String]>,
}

impl Message {
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
    /// The concrete channel it was published to.
    pub fn channel(&self) -> &str {
        &self.channel
    }
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
    /// The payload without copying.
    pub fn payload_bytes(&self) -> Bytes {
        self.payload.clone()
    }
    /// Every pattern of this connection the message matched (on QUIC: this subscription's).
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }
}

/// Counters of one subscription.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubscriptionStats {
    /// Messages that reached the buffer.
    pub received: u64,
    /// Messages the full buffer dropped (the oldest goes).
    pub dropped: u64,
    /// Messages waiting in the buffer.
    pub buffered: usize,
}

struct Buffer {
    queue: VecDeque<Message>,
    capacity: usize,
    waker: Option<Waker>,
    /// `Some` once ended: `Some(None)` after unsubscribe/close, `Some(Some(e))` on an error.
    ended: Option<Option<Error>>,
    received: u64,
    dropped: u64,
}

/// The part of a subscription the client task holds.
pub(crate) struct SubShared {
    pub(crate) id: u64,
    buf: Mutex<Buffer>,
}

impl SubShared {
    pub(crate) fn new(id: u64, capacity: usize) -> Arc<Self> {
        let buf = Buffer {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            waker: None,
            ended: None,
            received: 0,
            dropped: 0,
        };
        Arc::new(SubShared { id, buf: Mutex::new(buf) })
    }

    pub(crate) fn push(&self, message: Message) {
        let waker = {
            let mut b = self.buf.lock().unwrap();
            if b.ended.is_some() {
                return;
            }
            if b.queue.len() >= b.capacity {
                b.queue.pop_front();
                b.dropped += 1;
            }
            b.queue.push_back(message);
            b.received += 1;
            b.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    fn stats(&self) -> SubscriptionStats {
        let b = self.buf.lock().unwrap();
        SubscriptionStats {
            received: b.received,
            dropped: b.dropped,
            buffered: b.queue.len(),
        }
    }

    pub(crate) fn end(&self, error: Option<Error>) {
        let waker = {
            let mut b = self.buf.lock().unwrap();
            if b.ended.is_none() {
                b.ended = Some(error);
            }
            b.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// Reads a subscription's counters; see [`Subscription::monitor`].
#[derive(Clone)]
pub struct SubscriptionMonitor(Arc<SubShared>);

impl SubscriptionMonitor {
    pub fn stats(&self) -> SubscriptionStats {
        self.0.stats()
    }
}

pub(crate) type UnsubscribeFn = Box<dyn Fn(u64) + Send + Sync>;

/// A live subscription: `impl Stream<Item = Message>`. Dropping it unsubscribes.
pub struct Subscription {
    pub(crate) shared: Arc<SubShared>,
    pub(crate) tenant: String,
    pub(crate) pattern: String,
    pub(crate) unsubscribe: UnsubscribeFn,
    pub(crate) done: bool,
}

impl Subscription {
    pub fn tenant(&self) -> &str {
        &self.tenant
    }
    pub fn pattern(&self) -> &str {
        &self.pattern
    }

    /// The next message; `None` once unsubscribed or the client closed.
    pub async fn next(&mut self) -> Option<Message> {
        std::future::poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// A message already buffered, without waiting.
    pub fn try_next(&mut self) -> Option<Message> {
        self.shared.buf.lock().unwrap().queue.pop_front()
    }

    pub fn stats(&self) -> SubscriptionStats {
        self.shared.stats()
    }

    /// A handle that reads this subscription's counters from elsewhere (e.g. while another task
    /// consumes it).
    pub fn monitor(&self) -> SubscriptionMonitor {
        SubscriptionMonitor(self.shared.clone())
    }

    /// Why the subscription ended, if it ended with an error (e.g. the edge refused it).
    pub fn error(&self) -> Option<Error> {
        self.shared.buf.lock().unwrap().ended.clone().flatten()
    }

    /// Stops delivery (sends UNSUB when it was the last subscription to this pattern).
    pub fn unsubscribe(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if !self.done {
            self.done = true;
            (self.unsubscribe)(self.shared.id);
        }
    }
}

impl Stream for Subscription {
    type Item = Message;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Message>> {
        let mut b = self.shared.buf.lock().unwrap();
        if let Some(m) = b.queue.pop_front() {
            return Poll::Ready(Some(m));
        }
        if b.ended.is_some() {
            return Poll::Ready(None);
        }
        b.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.stop();
    }
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("tenant", &self.tenant)
            .field("pattern", &self.pattern)
            .finish()
    }
}
