//! The transport seam: a transport opens one connection to an edge and turns [`LinkCmd`]s into
//! bytes and bytes into [`LinkEvent`]s for the client task. WebSocket (contract v0.1) in
//! `ws.rs`, QUIC (native frames, one stream per subscription) in `quic.rs`.
mod floor;
pub(crate) mod quic;
pub(crate) mod ws;

use crate::codec::DeliveryMode;
use crate::error::Error;
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};

/// Publishes wait while a connection holds this many bytes not yet written (backpressure).
pub(crate) const PUBLISH_HIGH_WATER: usize = 1 << 20;
/// Commands taken off the queue per write batch (one flush/syscall per batch).
pub(crate) const WRITE_BATCH: usize = 512;

/// What a connection reports, in frame order.
#[derive(Debug)]
pub(crate) enum LinkEvent {
    Delivery {
        tenant: Arc<str>,
        channel: Arc<str>,
        payload: Bytes,
        patterns: Arc<[String]>,
    },
    Subscribed {
        tenant: String,
        pattern: String,
    },
    Pong,
    ServerError {
        code: String,
        detail: Option<String>,
    },
    ReconnectRequested,
    /// The connection is gone (`None` after a local close). Sent once.
    Closed(Option<Error>),
}

pub(crate) type EventSink = Arc<dyn Fn(u64, LinkEvent) + Send + Sync>;

#[derive(Debug)]
pub(crate) enum LinkCmd {
    Sub(String, String),
    Unsub(String, String),
    Ping,
    Publish(Bytes),
    Close,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    WebSocket,
    Quic,
}

/// Bytes handed to a connection but not yet written, and a wake-up for publishers waiting on it.
#[derive(Default)]
pub(crate) struct Pressure {
    buffered: AtomicUsize,
    closed: AtomicBool,
    notify: Notify,
}

impl Pressure {
    pub(crate) fn written(&self, bytes: usize) {
        self.buffered.fetch_sub(bytes, Ordering::AcqRel);
        self.notify.notify_waiters();
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }

    /// Waits until at most `limit` bytes are buffered (or the connection is gone).
    pub(crate) async fn wait_below(&self, limit: usize) {
        loop {
            let notified = self.notify.notified();
            if self.buffered.load(Ordering::Acquire) <= limit || self.closed.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }
}

/// A handle on one open connection; cheap to clone.
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) id: u64,
    kind: Kind,
    tx: mpsc::UnboundedSender<LinkCmd>,
    pub(crate) pressure: Arc<Pressure>,
}

impl Link {
    pub(crate) fn new(id: u64, kind: Kind, tx: mpsc::UnboundedSender<LinkCmd>, pressure: Arc<Pressure>) -> Self {
        Link { id, kind, tx, pressure }
    }

    /// Sends a command; a no-op once the connection is gone.
    pub(crate) fn send(&self, cmd: LinkCmd) {
        let _ = self.tx.send(cmd);
    }

    pub(crate) fn encode_publish(&self, tenant: &str, channel: &str, payload: &[u8], mode: DeliveryMode) -> Bytes {
        match self.kind {
            Kind::WebSocket => crate::codec::encode_publish(tenant, channel, payload, mode),
            Kind::Quic => {
                let mut out = bytes::BytesMut::with_capacity(8 + tenant.len() + channel.len() + payload.len());
                crate::native::encode_pub_into(&mut out, mode, tenant, channel, payload);
                out.freeze()
            }
        }
    }

    pub(crate) fn publish(&self, frame: Bytes) {
        self.pressure.buffered.fetch_add(frame.len(), Ordering::AcqRel);
        if self.tx.send(LinkCmd::Publish(frame)).is_err() {
            self.pressure.close();
        }
    }

    pub(crate) fn is_quic(&self) -> bool {
        self.kind == Kind::Quic
    }
}
