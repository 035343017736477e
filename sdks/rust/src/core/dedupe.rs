//! Duplicate suppression while connections overlap (make-before-break, contract v0.1 §6).
use std::collections::hash_map::DefaultHasher;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};

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
pub(super) fn accept_once(overlap: &mut HashMap<u64, Copies>, conn: u64, key: u64) -> bool {
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
