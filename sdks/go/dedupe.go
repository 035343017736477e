package fastpubsub

import (
	"hash/maphash"
	"time"
)

// overlapFilter suppresses duplicates while connections overlap (make-before-break). Every
// connection delivers each copy of a message once, so during the overlap the application gets
// as many copies of a (pattern, tenant, channel, payload) key as the connection that delivered
// it most often: a delivery on connection X is new only when X has now delivered the key more
// often than any other connection. A publisher legitimately sending the same bytes twice
// still gets both, and this holds for any number of overlapping connections (two quick
// migrations leave three alive). It is active only while more than one connection is live, or
// a closed one is in its grace period, so the single-connection hot path pays nothing.
//
// A closed connection's counts stay for closedGrace (as in the other SDKs): what it delivered
// just before closing may still be on its way through the connection that replaces it, and
// forgetting those counts at once would deliver those copies twice.
type overlapFilter struct {
	seen    map[*conn]map[dedupeKey]int // live and closing connections' counts
	closing map[*conn]time.Time         // closed connections → when their counts expire
	now     func() time.Time
	seed    maphash.Seed
}

// closedGrace is how long a closed connection's deliveries still hold back the same copies.
const closedGrace = 2 * time.Second

type dedupeKey struct {
	pattern, tenant, channel string
	size                     int
	hash                     uint64
}

func newOverlapFilter() overlapFilter {
	return overlapFilter{seen: map[*conn]map[dedupeKey]int{}, closing: map[*conn]time.Time{}, now: time.Now, seed: maphash.MakeSeed()}
}

func (f *overlapFilter) track(c *conn) {
	if _, ok := f.seen[c]; !ok {
		f.seen[c] = map[dedupeKey]int{}
	}
}

func (f *overlapFilter) live() int { return len(f.seen) - len(f.closing) }

// forget records that a connection closed: it cannot deliver again; its counts stay for
// closedGrace if it was part of an overlap.
func (f *overlapFilter) forget(c *conn) {
	if _, ok := f.seen[c]; !ok {
		return
	}
	if _, ok := f.closing[c]; ok {
		return
	}
	if f.live() >= 2 {
		f.closing[c] = f.now().Add(closedGrace)
	} else {
		delete(f.seen, c)
	}
	f.expire()
}

func (f *overlapFilter) active() bool {
	if f.live() >= 2 {
		return true
	}
	if len(f.closing) == 0 {
		return false
	}
	f.expire()
	return f.live() >= 2 || len(f.closing) > 0
}

// expire drops the counts of closed connections whose grace period ended, and everything
// once fewer than two connections are live and none is in its grace period.
func (f *overlapFilter) expire() {
	now := f.now()
	for c, until := range f.closing {
		if !now.Before(until) {
			delete(f.closing, c)
			delete(f.seen, c)
		}
	}
	if len(f.closing) == 0 && f.live() < 2 {
		clear(f.seen)
	}
}

func (f *overlapFilter) key(pattern, tenant, channel string, payload []byte) dedupeKey {
	return dedupeKey{pattern, tenant, channel, len(payload), maphash.Bytes(f.seed, payload)}
}

// accept reports whether this delivery is new and should reach the application.
func (f *overlapFilter) accept(c *conn, k dedupeKey) bool {
	mine, ok := f.seen[c]
	if !ok {
		return true
	}
	if _, closed := f.closing[c]; closed {
		return false // a late delivery on a closed connection: its successor has the message
	}
	mine[k]++
	n := mine[k]
	for other, counts := range f.seen {
		if other != c && counts[k] >= n {
			return false
		}
	}
	return true
}
