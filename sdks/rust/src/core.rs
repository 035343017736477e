//! The client task: connection lifecycle, make-before-break reconnect (contract v0.1 §6),
//! duplicate suppression during the overlap, token refresh, ping/RTT and the subscription
//! table. Every input (API calls, connection events, timers, token results) is a [`Cmd`] on one
//! channel, so the state needs no locks (the publish route excepted, shared with `publish`).
use crate::client::{ClientState, Queued, Shared};
use crate::edge::Edge;
use crate::error::{Error, ErrorCode, Result};
use crate::options::{backoff_delay, ClientEvent, Options, Token, TokenReason};
use crate::subscription::{Message, SubShared, Subscription};
use crate::transport::{self, EventSink, Link, LinkCmd, LinkEvent};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{mpsc, oneshot};

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
    overlap: HashMap<u64, Copies>,
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
            overlap: HashMap::new(),
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
                _ => {}
            }
        }
    }

    fn handle(&mut self, cmd: Cmd) {
        if self.closed {
            if let Cmd::Close { reply } = cmd {
                let _ = reply.send(());
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
        if self.conns.len() < 2 {
            self.overlap.clear();
        }
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

    // ---- connection events ------------------------------------------------------------------

    fn on_link_event(&mut self, id: u64, event: LinkEvent) {
        if !self.conns.contains_key(&id) {
            return;
        }
        match event {
            LinkEvent::Delivery {
                tenant,
                channel,
                payload,
                patterns,
            } => self.on_delivery(id, tenant, channel, payload, patterns),
            LinkEvent::Subscribed { tenant, pattern } => self.on_subscribed(id, tenant, pattern),
            LinkEvent::Pong => self.on_pong(id),
            LinkEvent::ServerError { code, detail } => self.on_server_error(id, code, detail),
            LinkEvent::ReconnectRequested => {
                if self.active == Some(id) {
                    self.begin_open(false);
                }
            }
            LinkEvent::Closed(error) => self.on_link_closed(id, error),
        }
    }

    fn on_delivery(&mut self, id: u64, tenant: Arc<str>, channel: Arc<str>, payload: bytes::Bytes, patterns: Arc<[String]>) {
        let overlap = self.conns.len() >= 2;
        let base = if overlap { delivery_key(&tenant, &channel, &payload) } else { 0 };
        let Some(by_pattern) = self.entries.get(&*tenant) else { return };
        for pattern in patterns.iter() {
            let Some(entry) = by_pattern.get(pattern) else { continue };
            if overlap && !accept_once(&mut self.overlap, id, pattern_key(base, pattern)) {
                self.shared.counters.duplicates_dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let message = Message {
                tenant: tenant.clone(),
                channel: channel.clone(),
                payload: payload.clone(),
                patterns: patterns.clone(),
            };
            for s in &entry.subs {
                s.push(message.clone());
            }
        }
    }

    fn on_subscribed(&mut self, id: u64, tenant: String, pattern: String) {
        if !self.entries.get(&tenant).is_some_and(|p| p.contains_key(&pattern)) {
            return;
        }
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let key = (tenant, pattern);
        let was_awaited = conn.awaiting.remove(&key);
        let complete = was_awaited && conn.awaiting.is_empty() && conn.role == Role::Pending;
        conn.confirmed.insert(key.clone());
        if self.active == Some(id) {
            self.resolve_waiters(&key.0, &key.1);
        }
        if complete {
            self.switch_to(id);
        }
    }

    fn on_pong(&mut self, id: u64) {
        let Some(conn) = self.conns.get_mut(&id) else { return };
        let Some(sent) = conn.ping_sent.take() else { return };
        if self.active != Some(id) {
            return;
        }
        let rtt = sent.elapsed().as_micros().max(1) as u64;
        self.shared.counters.rtt_micros.store(rtt, Ordering::Relaxed);
        conn.ping_seq += 1;
        if let Some((interval, _)) = self.opts.ping {
            self.schedule_ping(id, interval);
        }
    }

    fn schedule_ping(&mut self, id: u64, delay: Duration) {
        if self.opts.ping.is_none() {
            return;
        }
        let Some(conn) = self.conns.get(&id) else { return };
        self.after(delay, Timer::Ping(id, conn.ping_seq));
    }

    fn on_server_error(&mut self, id: u64, code: String, detail: Option<String>) {
        // A refused SUB names itself: `permission_denied` with detail `SUB:{tenant}:{pattern}`.
        if let Some(target) = detail.as_deref().and_then(|d| d.strip_prefix("SUB:")) {
            if let Some((tenant, pattern)) = target.split_once(':') {
                let error = Error::server(code.clone(), detail.clone());
                if self.fail_entry(tenant, pattern, error) {
                    return;
                }
            }
        }
        if code == "token_expired" && self.active == Some(id) && self.opts.token_provider.is_some() {
            self.refresh_token(TokenReason::Expired, AfterToken::Migrate);
        }
        self.emit(ClientEvent::Error(Error::server(code, detail)));
    }

    // ---- timers -----------------------------------------------------------------------------

    fn on_timer(&mut self, timer: Timer) {
        match timer {
            Timer::Ping(id, seq) => {
                let Some(conn) = self.conns.get_mut(&id) else { return };
                if self.active != Some(id) || conn.ping_seq != seq {
                    return;
                }
                conn.ping_sent = Some(Instant::now());
                conn.link.send(LinkCmd::Ping);
                if let Some((_, timeout)) = self.opts.ping {
                    self.after(timeout, Timer::PingTimeout(id, seq));
                }
            }
            Timer::PingTimeout(id, seq) => {
                let lost = self
                    .conns
                    .get(&id)
                    .is_some_and(|c| c.ping_seq == seq && c.ping_sent.is_some() && self.active == Some(id));
                if lost {
                    self.on_link_closed(id, Some(Error::new(ErrorCode::Timeout, "no PONG in time")));
                }
            }
            Timer::Drain(id) => {
                if self.conns.get(&id).is_some_and(|c| c.role == Role::Draining) {
                    self.drop_conn(id);
                }
            }
            Timer::Resubscribe(id) => {
                if self.conns.get(&id).is_some_and(|c| c.role == Role::Pending) {
                    self.drop_conn(id);
                    self.attempt_failed(Error::new(ErrorCode::Timeout, "not every OK:SUB arrived in time"));
                }
            }
            Timer::Backoff => {
                let reselect = self.candidates.len() > 1;
                self.begin_open(reselect);
            }
            Timer::TokenRefresh(gen) => {
                if gen == self.token_gen {
                    self.refresh_token(TokenReason::Expiring, AfterToken::Migrate);
                }
            }
        }
    }

    // ---- tokens -----------------------------------------------------------------------------

    fn refresh_token(&mut self, reason: TokenReason, after: AfterToken) {
        let Some(provider) = self.opts.token_provider.clone() else {
            if after == AfterToken::Open {
                self.shutdown(Some(Error::new(ErrorCode::TokenProvider, "no token provider to get a token")));
            }
            return;
        };
        if let Some(pending) = self.token_refreshing {
            // One call at a time; remember the strongest follow-up.
            if after == AfterToken::Open || pending == AfterToken::Nothing {
                self.token_refreshing = Some(after);
            }
            return;
        }
        self.token_refreshing = Some(after);
        let tx = self.cmd_tx.clone();
        tokio::spawn(async move {
            let result = provider(reason).await.map_err(|e| {
                if e.code() == ErrorCode::TokenProvider {
                    e
                } else {
                    Error::new(ErrorCode::TokenProvider, format!("token provider failed: {e}"))
                }
            });
            let _ = tx.send(Cmd::TokenDone(result, after));
        });
    }

    fn on_token(&mut self, result: Result<Token>, _after: AfterToken) {
        let after = self.token_refreshing.take().unwrap_or(AfterToken::Nothing);
        match result {
            Ok(token) if !token.token.is_empty() => {
                self.token = Some(token.token);
                self.token_expires_at = token.expires_at;
                self.schedule_token_refresh();
                match after {
                    AfterToken::Open => self.begin_open(true),
                    AfterToken::Migrate if self.active.is_some() => self.begin_open(false),
                    _ => {}
                }
            }
            other => {
                let error = match other {
                    Err(e) => e,
                    Ok(_) => Error::new(ErrorCode::TokenProvider, "the token provider returned an empty token"),
                };
                if after == AfterToken::Open {
                    return self.attempt_failed(error);
                }
                self.emit(ClientEvent::Error(error));
                // The current connection keeps working (contract §10.4); try again shortly.
                self.token_gen += 1;
                self.after(Duration::from_secs(2), Timer::TokenRefresh(self.token_gen));
            }
        }
    }

    fn schedule_token_refresh(&mut self) {
        self.token_gen += 1;
        let (Some(expires_at), Some(_)) = (self.token_expires_at, &self.opts.token_provider) else {
            return;
        };
        let remaining = expires_at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
        let margin = self.opts.token_refresh_margin.min(remaining / 2);
        // A floor, so a provider handing out already-expired tokens cannot spin this loop.
        self.after((remaining - margin).max(Duration::from_millis(200)), Timer::TokenRefresh(self.token_gen));
    }

    // ---- subscriptions ----------------------------------------------------------------------

    fn subscribe(&mut self, tenant: String, pattern: String, buffer_size: Option<usize>, reply: oneshot::Sender<Result<Subscription>>) {
        self.next_sub += 1;
        let sub = SubShared::new(self.next_sub, buffer_size.unwrap_or(self.opts.subscription_buffer));
        let by_pattern = self.entries.entry(tenant.clone()).or_default();
        let fresh = !by_pattern.contains_key(&pattern);
        let entry = by_pattern.entry(pattern.clone()).or_insert_with(|| Entry {
            subs: Vec::new(),
            waiters: Vec::new(),
        });
        entry.subs.push(sub.clone());
        if fresh {
            for conn in self.conns.values_mut() {
                if conn.role == Role::Draining {
                    continue;
                }
                if conn.role == Role::Pending {
                    conn.awaiting.insert((tenant.clone(), pattern.clone()));
                }
                conn.link.send(LinkCmd::Sub(tenant.clone(), pattern.clone()));
            }
        }
        let confirmed = self
            .active
            .and_then(|id| self.conns.get(&id))
            .is_some_and(|c| c.confirmed.contains(&(tenant.clone(), pattern.clone())));
        if confirmed {
            let _ = reply.send(Ok(self.handle_for(sub, tenant, pattern)));
        } else {
            entry.waiters.push(Waiter { sub, reply });
        }
    }

    fn handle_for(&self, shared: Arc<SubShared>, tenant: String, pattern: String) -> Subscription {
        let tx = self.cmd_tx.clone();
        Subscription {
            shared,
            tenant,
            pattern,
            unsubscribe: Box::new(move |sub_id| {
                let _ = tx.send(Cmd::Unsubscribe { sub_id });
            }),
            done: false,
        }
    }

    fn resolve_waiters(&mut self, tenant: &str, pattern: &str) {
        let Some(entry) = self.entries.get_mut(tenant).and_then(|p| p.get_mut(pattern)) else {
            return;
        };
        let waiters = std::mem::take(&mut entry.waiters);
        for w in waiters {
            let handle = self.handle_for(w.sub.clone(), tenant.to_owned(), pattern.to_owned());
            if let Err(Ok(mut handle)) = w.reply.send(Ok(handle)) {
                // The caller gave up waiting: undo this subscription.
                handle.done = true;
                self.unsubscribe(w.sub.id);
            }
        }
    }

    /// Removes a subscription the edge refused; true when it was known.
    fn fail_entry(&mut self, tenant: &str, pattern: &str, error: Error) -> bool {
        let Some(entry) = self.entries.get_mut(tenant).and_then(|p| p.remove(pattern)) else {
            return false;
        };
        for w in entry.waiters {
            let _ = w.reply.send(Err(error.clone()));
        }
        for s in entry.subs {
            s.end(Some(error.clone()));
        }
        self.forget_key(tenant, pattern, false);
        true
    }

    fn unsubscribe(&mut self, sub_id: u64) {
        let mut emptied = None;
        for (tenant, by_pattern) in self.entries.iter_mut() {
            for (pattern, entry) in by_pattern.iter_mut() {
                if let Some(i) = entry.subs.iter().position(|s| s.id == sub_id) {
                    entry.subs.remove(i).end(None);
                    entry.waiters.retain(|w| w.sub.id != sub_id);
                    if entry.subs.is_empty() {
                        emptied = Some((tenant.clone(), pattern.clone()));
                    }
                }
            }
        }
        if let Some((tenant, pattern)) = emptied {
            if let Some(by_pattern) = self.entries.get_mut(&tenant) {
                by_pattern.remove(&pattern);
                if by_pattern.is_empty() {
                    self.entries.remove(&tenant);
                }
            }
            self.forget_key(&tenant, &pattern, true);
        }
    }

    /// Drops a (tenant, pattern) from every connection; a pending one may now be complete.
    fn forget_key(&mut self, tenant: &str, pattern: &str, send_unsub: bool) {
        let key = (tenant.to_owned(), pattern.to_owned());
        let mut complete = None;
        for (id, conn) in self.conns.iter_mut() {
            conn.confirmed.remove(&key);
            if conn.awaiting.remove(&key) && conn.awaiting.is_empty() && conn.role == Role::Pending {
                complete = Some(*id);
            }
            if send_unsub && conn.role != Role::Draining {
                conn.link.send(LinkCmd::Unsub(key.0.clone(), key.1.clone()));
            }
        }
        if let Some(id) = complete {
            self.switch_to(id);
        }
    }
}

fn delivery_key(tenant: &str, channel: &str, payload: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    tenant.hash(&mut h);
    channel.hash(&mut h);
    payload.hash(&mut h);
    h.finish()
}

fn pattern_key(base: u64, pattern: &str) -> u64 {
    let mut h = DefaultHasher::new();
    base.hash(&mut h);
    pattern.hash(&mut h);
    h.finish()
}

/// How often each overlapping connection delivered one key, and how many copies went to the app.
#[derive(Default)]
struct Copies {
    accepted: u32,
    per_conn: Vec<(u64, u32)>,
}

/// During an overlap every connection receives the same messages. A copy reaches the app only
/// when its connection has now seen that key more often than any connection before it, so any
/// number of overlapping connections yields each message once, and a publisher sending the
/// same bytes twice still gets both through (each connection sees both copies).
fn accept_once(overlap: &mut HashMap<u64, Copies>, conn: u64, key: u64) -> bool {
    let copies = overlap.entry(key).or_default();
    let seen = match copies.per_conn.iter_mut().find(|(c, _)| *c == conn) {
        Some((_, n)) => {
            *n += 1;
            *n
        }
        None => {
            copies.per_conn.push((conn, 1));
            1
        }
    };
    if seen > copies.accepted {
        copies.accepted = seen;
        true
    } else {
        false
    }
}
