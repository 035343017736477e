//! Duplicate suppression while connections overlap (make-before-break, contract v0.1 §6).
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

/// How long a closed connection's deliveries still hold back the same copies on the one left:
/// what it delivered just before closing may still be on its way through its successor, and
/// forgetting those copies at once would deliver them twice (2 s, as in the other SDKs).
pub(super) const CLOSED_GRACE: Duration = Duration::from_secs(2);

/// The copies seen during an overlap, kept until [`CLOSED_GRACE`] after it ended.
#[derive(Default)]
pub(super) struct Overlap {
    copies: HashMap<u64, Copies>,
    /// Set when an overlap ended (one connection left): when its copies are dropped.
    until: Option<Instant>,
}

impl Overlap {
    /// Whether deliveries go through [`Overlap::accept`]: two or more live connections, or a
    /// closed one in its grace period. One connection and no grace period costs a comparison.
    pub(super) fn active(&mut self, live: usize) -> bool {
        live >= 2 || (self.until.is_some() && self.active_at(live, Instant::now()))
    }

    fn active_at(&mut self, live: usize, now: Instant) -> bool {
        if live >= 2 {
            return true;
        }
        match self.until {
            Some(until) if now < until => true,
            _ => {
                self.until = None;
                self.copies.clear();
                false
            }
        }
    }

    /// A connection closed and `live` are left: the end of an overlap starts the grace period.
    pub(super) fn closed(&mut self, live: usize) {
        self.closed_at(live, Instant::now());
    }

    fn closed_at(&mut self, live: usize, now: Instant) {
        if live == 1 {
            self.until = Some(now + CLOSED_GRACE);
        } else if live == 0 && self.until.is_none() {
            self.copies.clear();
        }
    }

    pub(super) fn accept(&mut self, conn: u64, key: u64) -> bool {
        accept_once(&mut self.copies, conn, key)
    }
}

pub(super) fn delivery_key(tenant: &str, channel: &str, payload: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    tenant.hash(&mut h);
    channel.hash(&mut h);
    payload.hash(&mut h);
    h.finish()
}

pub(super) fn pattern_key(base: u64, pattern: &str) -> u64 {
    let mut h = DefaultHasher::new();
    base.hash(&mut h);
    pattern.hash(&mut h);
    h.finish()
}

/// How often each overlapping connection delivered one key, and how many copies went to the app.
#[derive(Default)]
pub(super) struct Copies {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_overlapping_connections_deliver_each_message_once() {
        let mut overlap = HashMap::new();
        let key = pattern_key(delivery_key("t", "a.b", b"x"), "a.#");
        let accepted: Vec<bool> = [1, 2, 3].iter().map(|&conn| accept_once(&mut overlap, conn, key)).collect();
        assert_eq!(accepted, [true, false, false]);
    }

    #[test]
    fn a_copy_the_closed_connection_delivered_just_before_closing_is_not_delivered_again() {
        let t0 = Instant::now();
        let key = pattern_key(delivery_key("t", "a.b", b"x"), "a.#");
        let mut overlap = Overlap::default();
        assert!(overlap.active_at(2, t0));
        assert!(overlap.accept(1, key), "the old connection delivers x");
        overlap.closed_at(1, t0); // and closes before the new one delivered x
        let soon = t0 + Duration::from_millis(500);
        assert!(overlap.active_at(1, soon), "grace period");
        assert!(!overlap.accept(2, key), "x on the new connection right after is the same copy");
        assert!(overlap.accept(2, key), "a second x is a new message");
        assert!(!overlap.active_at(1, t0 + CLOSED_GRACE), "after the grace period one connection pays nothing");
        assert!(overlap.accept(3, key), "nothing from before the grace period is held back");
    }

    #[test]
    fn the_same_bytes_published_twice_arrive_twice() {
        let mut overlap = HashMap::new();
        let key = pattern_key(delivery_key("t", "a.b", b"x"), "a.#");
        // Old connection sees both copies first, then the new one catches up with both.
        let order = [(1, true), (1, true), (2, false), (2, false), (3, false)];
        for (conn, expected) in order {
            assert_eq!(accept_once(&mut overlap, conn, key), expected, "conn {conn}");
        }
        assert_ne!(key, pattern_key(delivery_key("t", "a.b", b"x"), "a.*"), "the pattern is part of the key");
    }
}
