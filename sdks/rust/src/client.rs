//! The public client: connect, publish, subscribe, close. Publishes go straight to the active
//! connection's writer (or the bounded queue while there is none); everything else is a
//! command to the client task in `core.rs`, which owns the connections and subscriptions.
use crate::codec::DeliveryMode;
use crate::core::{Cmd, Core, Route};
use crate::edge::Edge;
use crate::error::{Error, ErrorCode, Result};
use crate::names::{validate_channel, validate_pattern, validate_tenant, MAX_PAYLOAD};
use crate::options::Options;
use crate::subscription::Subscription;
use crate::transport::PUBLISH_HIGH_WATER;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};

/// Connection state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    Connecting,
    Connected,
    Reconnecting,
    Closed,
}

impl ClientState {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientState::Connecting => "connecting",
            ClientState::Connected => "connected",
            ClientState::Reconnecting => "reconnecting",
            ClientState::Closed => "closed",
        }
    }
}

/// Client counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Messages handed to a connection.
    pub published: u64,
    /// Messages waiting in the publish queue (no connection).
    pub queued: u64,
    /// Messages the full publish queue dropped (the oldest goes).
    pub queue_dropped: u64,
    /// Deliveries dropped as duplicates during a make-before-break overlap.
    pub duplicates_dropped: u64,
    /// Connections that became active after the first.
    pub reconnects: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) published: AtomicU64,
    pub(crate) queued: AtomicU64,
    pub(crate) queue_dropped: AtomicU64,
    pub(crate) duplicates_dropped: AtomicU64,
    pub(crate) reconnects: AtomicU64,
    /// Latest RTT in microseconds; 0 = none yet.
    pub(crate) rtt_micros: AtomicU64,
}

/// A message waiting in the publish queue.
pub(crate) struct Queued {
    pub(crate) tenant: String,
    pub(crate) channel: String,
    pub(crate) payload: Vec<u8>,
    pub(crate) mode: DeliveryMode,
}

pub(crate) struct Shared {
    pub(crate) cmd: mpsc::UnboundedSender<Cmd>,
    pub(crate) route: Mutex<Route>,
    pub(crate) counters: Counters,
    pub(crate) queue_max: usize,
    pub(crate) state: watch::Sender<ClientState>,
    pub(crate) closed: watch::Sender<Option<Option<Error>>>,
    pub(crate) edge: Mutex<Option<Edge>>,
}

/// A FastPubSub client. Cheap to share behind an `Arc`; every method takes `&self`.
pub struct Client {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("state", &self.state()).finish()
    }
}

impl Client {
    /// Connects to one edge (`http://127.0.0.1:7700`, `https://host`, bare `host[:port]`) and
    /// returns once the first connection is open.
    pub async fn connect(endpoint: &str, options: Options) -> Result<Client> {
        Client::start(vec![Edge::parse(endpoint)?], options).await
    }

    /// Connects to the fastest of several edges (`GET /ping`, in parallel, 3 s timeout); a
    /// reconnect measures them again.
    pub async fn connect_fastest(edges: &[&str], options: Options) -> Result<Client> {
        let parsed = edges.iter().map(|e| Edge::parse(e)).collect::<Result<Vec<_>>>()?;
        if parsed.is_empty() {
            return Err(Error::bad_argument("no edges given"));
        }
        Client::start(parsed, options).await
    }

    async fn start(candidates: Vec<Edge>, options: Options) -> Result<Client> {
        if options.token.is_none() && options.token_provider.is_none() {
            return Err(Error::bad_argument("connect needs a token or a token provider"));
        }
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            cmd: cmd_tx,
            route: Mutex::new(Route::Disconnected(VecDeque::new())),
            counters: Counters::default(),
            queue_max: options.publish_queue_max,
            state: watch::channel(ClientState::Connecting).0,
            closed: watch::channel(None).0,
            edge: Mutex::new(None),
        });
        let (first_tx, first_rx) = oneshot::channel();
        let core = Core::new(shared.clone(), options, candidates, first_tx);
        tokio::spawn(core.run(cmd_rx));
        match first_rx.await {
            Ok(Ok(())) => Ok(Client { shared }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(Error::closed()),
        }
    }

    pub fn state(&self) -> ClientState {
        *self.shared.state.borrow()
    }

    /// The edge in use (or last used), as its REST base URL.
    pub fn edge(&self) -> Option<String> {
        self.shared.edge.lock().unwrap().as_ref().map(Edge::http_url)
    }

    pub fn stats(&self) -> ClientStats {
        let c = &self.shared.counters;
        ClientStats {
            published: c.published.load(Ordering::Relaxed),
            queued: c.queued.load(Ordering::Relaxed),
            queue_dropped: c.queue_dropped.load(Ordering::Relaxed),
            duplicates_dropped: c.duplicates_dropped.load(Ordering::Relaxed),
            reconnects: c.reconnects.load(Ordering::Relaxed),
        }
    }

    /// The latest PING/PONG round trip (`None` before the first PONG).
    pub fn rtt(&self) -> Option<Duration> {
        match self.shared.counters.rtt_micros.load(Ordering::Relaxed) {
            0 => None,
            us => Some(Duration::from_micros(us)),
        }
    }

    /// Publishes a broadcast message. Returns once it is handed to the connection (waiting while
    /// the connection holds over 1 MiB unsent) or queued while disconnected.
    pub async fn publish(&self, tenant: &str, channel: &str, payload: impl AsRef<[u8]>) -> Result<()> {
        self.publish_with(tenant, channel, payload, DeliveryMode::Broadcast).await
    }

    /// Publishes with a delivery mode (broadcast or deliver-one).
    pub async fn publish_with(&self, tenant: &str, channel: &str, payload: impl AsRef<[u8]>, mode: DeliveryMode) -> Result<()> {
        let payload = payload.as_ref();
        validate_tenant(tenant).map_err(|e| Error::bad_argument(e.reason))?;
        validate_channel(channel).map_err(|e| Error::bad_argument(e.reason))?;
        if payload.len() > MAX_PAYLOAD {
            return Err(Error::bad_argument(format!("payload is {} bytes, more than {MAX_PAYLOAD}", payload.len())));
        }
        let link = {
            let mut route = self.shared.route.lock().unwrap();
            match &mut *route {
                Route::Active(link) => link.clone(),
                Route::Disconnected(queue) => {
                    let c = &self.shared.counters;
                    if queue.len() >= self.shared.queue_max {
                        c.queue_dropped.fetch_add(1, Ordering::Relaxed);
                        if self.shared.queue_max == 0 {
                            return Ok(());
                        }
                        queue.pop_front();
                    }
                    queue.push_back(Queued {
                        tenant: tenant.to_owned(),
                        channel: channel.to_owned(),
                        payload: payload.to_vec(),
                        mode,
                    });
                    c.queued.store(queue.len() as u64, Ordering::Relaxed);
                    return Ok(());
                }
                Route::Closed => return Err(Error::closed()),
            }
        };
        if link.is_quic() && !crate::native::fits_topic(channel) {
            return Err(Error::bad_argument("a channel over 255 bytes does not fit a QUIC frame"));
        }
        link.pressure.wait_below(PUBLISH_HIGH_WATER).await;
        link.publish(link.encode_publish(tenant, channel, payload, mode));
        self.shared.counters.published.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Subscribes to a pattern (`chat.#`, `a.*.c`, …); returns once the edge confirmed it.
    pub async fn subscribe(&self, tenant: &str, pattern: &str) -> Result<Subscription> {
        self.subscribe_with(tenant, pattern, None).await
    }

    /// Subscribes with its own buffer size (messages; the oldest is dropped when full).
    pub async fn subscribe_with(&self, tenant: &str, pattern: &str, buffer_size: Option<usize>) -> Result<Subscription> {
        validate_tenant(tenant).map_err(|e| Error::bad_argument(e.reason))?;
        if pattern.trim().is_empty() {
            return Err(Error::bad_argument("pattern is blank"));
        }
        validate_pattern(pattern).map_err(|e| Error::bad_argument(e.reason))?;
        let (reply, rx) = oneshot::channel();
        self.shared
            .cmd
            .send(Cmd::Subscribe {
                tenant: tenant.to_owned(),
                pattern: pattern.to_owned(),
                buffer_size,
                reply,
            })
            .map_err(|_| Error::closed())?;
        rx.await.unwrap_or_else(|_| Err(Error::closed()))
    }

    /// Resolves once everything published so far was written to the transport.
    pub async fn flush(&self, timeout: Duration) -> Result<()> {
        let wait = async {
            loop {
                let link = match &*self.shared.route.lock().unwrap() {
                    Route::Active(link) => Some(link.clone()),
                    Route::Disconnected(_) => None,
                    Route::Closed => return Err(Error::closed()),
                };
                match link {
                    Some(link) => {
                        link.pressure.wait_below(0).await;
                        return Ok(());
                    }
                    None => tokio::time::sleep(Duration::from_millis(5)).await,
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or_else(|_| Err(Error::new(ErrorCode::Timeout, "flush timed out")))
    }

    /// Closes every connection and ends every subscription.
    pub async fn close(&self) {
        let (reply, rx) = oneshot::channel();
        if self.shared.cmd.send(Cmd::Close { reply }).is_ok() {
            let _ = rx.await;
        }
    }

    /// Resolves when the client ends: `None` after `close()`, else the terminal error
    /// (e.g. `unauthorized` after the token was revoked).
    pub async fn closed(&self) -> Option<Error> {
        let mut rx = self.shared.closed.subscribe();
        loop {
            if let Some(end) = rx.borrow_and_update().clone() {
                return end;
            }
            if rx.changed().await.is_err() {
                return None;
            }
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let (reply, _) = oneshot::channel();
        let _ = self.shared.cmd.send(Cmd::Close { reply });
    }
}
