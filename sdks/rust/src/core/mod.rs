//! The client task: connection lifecycle, make-before-break reconnect (contract v0.1 §6),
//! duplicate suppression during the overlap, token refresh, ping/RTT and the subscription
//! table. Every input (API calls, connection events, timers, token results) is a [`Cmd`] on one
//! channel, so the state needs no locks (the publish route excepted, shared with `publish`).
use crate::client::{ClientState, Queued, Shared};
use crate::edge::Edge;
use crate::error::{Error, ErrorCode, Result};
use crate::options::{backoff_delay, ClientEvent, Options, Token, TokenReason};
use crate::subscription::{SubShared, Subscription};
use crate::transport::{self, EventSink, Link, LinkCmd, LinkEvent};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, oneshot};

mod dedupe;
mod events;
mod subscriptions;
mod timers;
use dedupe::{delivery_key, pattern_key, Overlap};

/// Where `publish` sends: the active connection, or the bounded queue.
pub(crate) enum Route {
    Active(Link),
    Disconnected(VecDeque<Queued>),
    Closed,
}

pub(crate) enum Cmd {
    Subscribe {
        tenant: String,
        pattern: String,
        buffer_size: Option<usize>,
        reply: oneshot::Sender<Result<Subscription>>,
    },
    Unsubscribe {
        sub_id: u64,
    },
    Close {
        reply: oneshot::Sender<()>,
    },
    Link(u64, LinkEvent),
    Opened(Result<(Link, Edge)>),
    Timer(Timer),
    TokenDone(Result<Token>, AfterToken),
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum Timer {
    Ping(u64, u64),
    PingTimeout(u64, u64),
    Drain(u64),
    Resubscribe(u64),
    Backoff,
    TokenRefresh(u64),
}

/// What to do once a token refresh finishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AfterToken {
    Nothing,
    /// Open a connection (no token yet, or a 401).
    Open,
    /// Migrate the active connection to the new token (make-before-break).
    Migrate,
}

#[derive(PartialEq, Eq)]
enum Role {
    Pending,
    Active,
    Draining,
}

struct Conn {
    link: Link,
    edge: Edge,
    role: Role,
    confirmed: HashSet<(String, String)>,
    awaiting: HashSet<(String, String)>,
    ping_sent: Option<Instant>,
    ping_seq: u64,
}

struct Waiter {
    sub: Arc<SubShared>,
    reply: oneshot::Sender<Result<Subscription>>,
}

struct Entry {
    subs: Vec<Arc<SubShared>>,
    waiters: Vec<Waiter>,
}

pub(crate) struct Core {
    shared: Arc<Shared>,
    opts: Options,
    candidates: Vec<Edge>,
    /// tenant → pattern → entry (two levels: lookups by &str without allocating).
    entries: HashMap<String, HashMap<String, Entry>>,
    conns: HashMap<u64, Conn>,
    /// Duplicate suppression while connections overlap: delivery key → copies seen.
    overlap: Overlap,
    active: Option<u64>,
    next_conn: u64,
    next_sub: u64,
    opening: bool,
    attempt: u32,
    unauthorized_retried: bool,
    ever_connected: bool,
    first: Option<oneshot::Sender<Result<()>>>,
    token: Option<String>,
    token_expires_at: Option<SystemTime>,
    token_refreshing: Option<AfterToken>,
    token_gen: u64,
    closed: bool,
    cmd_tx: mpsc::UnboundedSender<Cmd>,
}

impl Core {
    pub(crate) fn new(shared: Arc<Shared>, opts: Options, candidates: Vec<Edge>, first: oneshot::Sender<Result<()>>) -> Self {
        let cmd_tx = shared.cmd.clone();
        Core {
            token: opts.token.clone(),
            token_expires_at: opts.token_expires_at,
            shared,
            opts,
            candidates,
            entries: HashMap::new(),
            conns: HashMap::new(),
            overlap: Overlap::default(),
            active: None,
            next_conn: 0,
            next_sub: 0,
            opening: false,
            attempt: 0,
            unauthorized_retried: false,
            ever_connected: false,
            first: Some(first),
            token_refreshing: None,
            token_gen: 0,
            closed: false,
            cmd_tx,
        }
    }

    pub(crate) async fn run(mut self, mut rx: mpsc::UnboundedReceiver<Cmd>) {
        self.emit_state(ClientState::Connecting);
        if self.token.is_none() {
            self.refresh_token(TokenReason::Initial, AfterToken::Open);
        } else {
            self.schedule_token_refresh();
            self.begin_open(false);
        }
        let mut batch = Vec::with_capacity(256);
        while !self.closed && rx.recv_many(&mut batch, 256).await > 0 {
            for cmd in batch.drain(..) {
                self.handle(cmd);
            }
        }
        // Replies for commands that raced with the end.
        rx.close();
        while let Ok(cmd) = rx.try_recv() {
            match cmd {
                Cmd::Close { reply } => {
                    let _ = reply.send(());
                }
                Cmd::Subscribe { reply, .. } => {
                    let _ = reply.send(Err(Error::closed()));
                }
                Cmd::Opened(Ok((link, _))) => link.send(LinkCmd::Close),
                _ => {}
            }
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        if self.closed {
            match cmd {
                Cmd::Close { reply } => {
                    let _ = reply.send(());
                }
                Cmd::Opened(Ok((link, _))) => link.send(LinkCmd::Close),
                _ => {}
            }
            return;
        }
        match cmd {
            Cmd::Subscribe {
                tenant,
                pattern,
                buffer_size,
                reply,
            } => self.subscribe(tenant, pattern, buffer_size, reply),
            Cmd::Unsubscribe { sub_id } => self.unsubscribe(sub_id),
            Cmd::Close { reply } => {
                self.shutdown(None);
                let _ = reply.send(());
            }
            Cmd::Link(id, event) => self.on_link_event(id, event),
            Cmd::Opened(result) => self.on_opened(result),
            Cmd::Timer(t) => self.on_timer(t),
            Cmd::TokenDone(result, after) => self.on_token(result, after),
        }
    }

    fn emit(&self, event: ClientEvent) {
        if let Some(cb) = &self.opts.on_event {
            cb(&event);
        }
    }

    fn emit_state(&self, state: ClientState) {
        let changed = self.shared.state.send_if_modified(|s| {
            if *s == state || *s == ClientState::Closed {
                return false;
            }
            *s = state;
            true
        });
        if changed {
            self.emit(ClientEvent::State(state));
        }
    }

    fn after(&self, delay: Duration, timer: Timer) {
        let tx = self.cmd_tx.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let _ = tx.send(Cmd::Timer(timer));
        });
    }

    // ---- connections ------------------------------------------------------------------------

    fn begin_open(&mut self, reselect: bool) {
        if self.opening || self.closed {
            return;
        }
        let Some(token) = self.token.clone() else {
            self.refresh_token(TokenReason::Initial, AfterToken::Open);
            return;
        };
        self.opening = true;
        self.next_conn += 1;
        let id = self.next_conn;
        let candidates = self.candidates.clone();
        let current = self.conns.get(&self.active.unwrap_or(0)).map(|c| c.edge.clone());
        let quic = self.opts.quic.clone();
        let timeout = self.opts.open_timeout;
        let tx = self.cmd_tx.clone();
        let events_tx = self.cmd_tx.clone();
        let sink: EventSink = Arc::new(move |conn, event| {
            let _ = events_tx.send(Cmd::Link(conn, event));
        });
        tokio::spawn(async move {
            let result = async {
                let edge = match (candidates.len(), current) {
                    (1, _) => candidates[0].clone(),
                    (_, Some(edge)) if !reselect => edge,
                    _ => crate::rest::select_fastest_edge(&candidates).await?,
                };
                let link = match &quic {
                    Some(q) => transport::quic::open(id, &edge, q, &token, timeout, sink).await?,
                    None => transport::ws::open(id, &edge, &token, timeout, sink).await?,
                };
                Ok((link, edge))
            }
            .await;
            if let Err(mpsc::error::SendError(Cmd::Opened(Ok((link, _))))) = tx.send(Cmd::Opened(result)) {
                link.send(LinkCmd::Close);
            }
        });
    }

    fn on_opened(&mut self, result: Result<(Link, Edge)>) {
        let (link, edge) = match result {
            Ok(pair) => pair,
            Err(e) => return self.attempt_failed(e),
        };
        let mut conn = Conn {
            link,
            edge,
            role: Role::Pending,
            confirmed: HashSet::new(),
            awaiting: HashSet::new(),
            ping_sent: None,
            ping_seq: 0,
        };
        for (tenant, patterns) in &self.entries {
            for pattern in patterns.keys() {
                conn.awaiting.insert((tenant.clone(), pattern.clone()));
                conn.link.send(LinkCmd::Sub(tenant.clone(), pattern.clone()));
            }
        }
        let id = conn.link.id;
        let ready = conn.awaiting.is_empty();
        self.conns.insert(id, conn);
        if ready {
            self.switch_to(id);
        } else {
            self.after(self.opts.resubscribe_timeout, Timer::Resubscribe(id));
        }
    }

    /// The new connection holds every subscription: make it active, drain the old one.
    fn switch_to(&mut self, id: u64) {
        self.opening = false;
        self.attempt = 0;
        self.unauthorized_retried = false;
        let old = self.active.replace(id);
        if let Some(old_id) = old.filter(|&o| o != id) {
            if let Some(old) = self.conns.get_mut(&old_id) {
                old.role = Role::Draining;
                old.ping_sent = None;
                self.after(self.opts.reconnect.overlap, Timer::Drain(old_id));
            }
        }
        let conn = self.conns.get_mut(&id).expect("switching to a live connection");
        conn.role = Role::Active;
        let link = conn.link.clone();
        *self.shared.edge.lock().unwrap() = Some(conn.edge.clone());
        let confirmed: Vec<(String, String)> = conn.confirmed.iter().cloned().collect();
        for (tenant, pattern) in confirmed {
            self.resolve_waiters(&tenant, &pattern);
        }
        if self.ever_connected {
            self.shared.counters.reconnects.fetch_add(1, Ordering::Relaxed);
        }
        self.ever_connected = true;
        {
            // Queued publishes go first, in order, then the route opens for new ones.
            let mut route = self.shared.route.lock().unwrap();
            if let Route::Disconnected(queue) = &mut *route {
                for q in queue.drain(..) {
                    link.publish(link.encode_publish(&q.tenant, &q.channel, &q.payload, q.mode));
                    self.shared.counters.published.fetch_add(1, Ordering::Relaxed);
                }
                self.shared.counters.queued.store(0, Ordering::Relaxed);
            }
            *route = Route::Active(link);
        }
        self.emit_state(ClientState::Connected);
        if let Some(first) = self.first.take() {
            let _ = first.send(Ok(()));
        }
        self.schedule_ping(id, Duration::ZERO);
    }

    /// Closes a connection and forgets it.
    fn drop_conn(&mut self, id: u64) -> Option<Conn> {
        let conn = self.conns.remove(&id)?;
        conn.link.send(LinkCmd::Close);
        self.overlap.closed(self.conns.len());
        Some(conn)
    }

    fn attempt_failed(&mut self, error: Error) {
        self.opening = false;
        if self.closed {
            return;
        }
        if error.code() == ErrorCode::Unauthorized {
            if self.opts.token_provider.is_some() && !self.unauthorized_retried {
                self.unauthorized_retried = true;
                self.refresh_token(TokenReason::Unauthorized, AfterToken::Open);
                return;
            }
            // A refused token with no way to get another: retrying cannot help.
            return self.shutdown(Some(error));
        }
        if self.first.is_some() {
            return self.shutdown(Some(error));
        }
        self.emit(ClientEvent::Error(error.clone()));
        if !self.opts.reconnect.enabled && self.active.is_some_and(|id| self.conns.contains_key(&id)) {
            return;
        }
        self.attempt += 1;
        if let Some(max) = self.opts.reconnect.max_attempts {
            if self.attempt >= max && self.active.is_none() {
                return self.shutdown(Some(error));
            }
        }
        let r = &self.opts.reconnect;
        self.after(backoff_delay(self.attempt, r.base_delay, r.max_delay), Timer::Backoff);
    }

    fn on_link_closed(&mut self, id: u64, error: Option<Error>) {
        let Some(conn) = self.drop_conn(id) else { return };
        match conn.role {
            Role::Pending => {
                self.attempt_failed(error.unwrap_or_else(|| Error::new(ErrorCode::ConnectFailed, "connection closed before every OK:SUB arrived")))
            }
            Role::Draining => {}
            Role::Active => {
                self.active = None;
                {
                    let mut route = self.shared.route.lock().unwrap();
                    if matches!(*route, Route::Active(_)) {
                        *route = Route::Disconnected(VecDeque::new());
                    }
                }
                let error = error.unwrap_or_else(|| Error::new(ErrorCode::ConnectFailed, "connection closed"));
                if !self.opts.reconnect.enabled {
                    return self.shutdown(Some(error));
                }
                self.emit(ClientEvent::Error(error));
                self.emit_state(ClientState::Reconnecting);
                self.begin_open(false);
            }
        }
    }

    fn shutdown(&mut self, error: Option<Error>) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.emit_state(ClientState::Closed);
        *self.shared.route.lock().unwrap() = Route::Closed;
        self.shared.counters.queued.store(0, Ordering::Relaxed);
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            self.drop_conn(id);
        }
        for (_, patterns) in self.entries.drain() {
            for (_, entry) in patterns {
                for w in entry.waiters {
                    let _ = w.reply.send(Err(error.clone().unwrap_or_else(Error::closed)));
                }
                for s in entry.subs {
                    s.end(error.clone());
                }
            }
        }
        if let Some(first) = self.first.take() {
            let _ = first.send(Err(error.clone().unwrap_or_else(Error::closed)));
        }
        self.emit(ClientEvent::Closed(error.clone()));
        self.shared.closed.send_replace(Some(error));
    }
}
