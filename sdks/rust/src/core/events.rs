//! The client task's handling of what a connection reports: deliveries, confirmations, PONGs,
//! `ERR`s, `RECONNECT` and the end of a connection.
use super::{delivery_key, pattern_key, AfterToken, Core, Role, Timer};
use crate::error::Error;
use crate::options::{ClientEvent, TokenReason};
use crate::subscription::Message;
use crate::transport::LinkEvent;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

impl Core {
    // ---- connection events ------------------------------------------------------------------

    pub(super) fn on_link_event(&mut self, id: u64, event: LinkEvent) {
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

    pub(super) fn on_delivery(&mut self, id: u64, tenant: Arc<str>, channel: Arc<str>, payload: bytes::Bytes, patterns: Arc<[String]>) {
        let overlap = self.overlap.active(self.conns.len());
        let base = if overlap { delivery_key(&tenant, &channel, &payload) } else { 0 };
        let Some(by_pattern) = self.entries.get(&*tenant) else { return };
        for pattern in patterns.iter() {
            let Some(entry) = by_pattern.get(pattern) else { continue };
            if overlap && !self.overlap.accept(id, pattern_key(base, pattern)) {
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

    pub(super) fn on_subscribed(&mut self, id: u64, tenant: String, pattern: String) {
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

    pub(super) fn on_pong(&mut self, id: u64) {
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

    pub(super) fn schedule_ping(&mut self, id: u64, delay: Duration) {
        if self.opts.ping.is_none() {
            return;
        }
        let Some(conn) = self.conns.get(&id) else { return };
        self.after(delay, Timer::Ping(id, conn.ping_seq));
    }

    pub(super) fn on_server_error(&mut self, id: u64, code: String, detail: Option<String>) {
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
}
