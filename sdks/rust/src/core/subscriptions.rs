//! The client task's subscription table: subscribe, confirmations, refusals, unsubscribe.
use super::{Cmd, Core, Entry, Role, Waiter};
use crate::error::{Error, Result};
use crate::subscription::{SubShared, Subscription};
use crate::transport::LinkCmd;
use std::sync::Arc;
use tokio::sync::oneshot;

impl Core {
    // ---- subscriptions ----------------------------------------------------------------------

    pub(super) fn subscribe(&mut self, tenant: String, pattern: String, buffer_size: Option<usize>, reply: oneshot::Sender<Result<Subscription>>) {
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

    pub(super) fn handle_for(&self, shared: Arc<SubShared>, tenant: String, pattern: String) -> Subscription {
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

    pub(super) fn resolve_waiters(&mut self, tenant: &str, pattern: &str) {
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
    pub(super) fn fail_entry(&mut self, tenant: &str, pattern: &str, error: Error) -> bool {
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

    pub(super) fn unsubscribe(&mut self, sub_id: u64) {
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
    pub(super) fn forget_key(&mut self, tenant: &str, pattern: &str, send_unsub: bool) {
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
