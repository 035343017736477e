package fastpubsub

import "hash/maphash"

// overlapFilter suppresses duplicates while two connections overlap (make-before-break). Each
// live connection counts the (pattern, tenant, channel, payload) keys it delivered that no other
// connection has matched yet; a key arriving on one connection that another already delivered
// is the same message seen twice, so it is dropped and consumes the other's count. A publisher
// sending the same bytes twice still gets both delivered (each connection sees both copies).
// It is active only while more than one connection is live: the hot path pays nothing.
type overlapFilter struct {
	seen map[*conn]map[dedupeKey]int
	seed maphash.Seed
}

type dedupeKey struct {
	pattern, tenant, channel string
	size                     int
	hash                     uint64
}

func newOverlapFilter() overlapFilter {
	return overlapFilter{seen: map[*conn]map[dedupeKey]int{}, seed: maphash.MakeSeed()}
}

func (f *overlapFilter) track(c *conn) {
	if _, ok := f.seen[c]; !ok {
		f.seen[c] = map[dedupeKey]int{}
	}
}

func (f *overlapFilter) forget(c *conn) {
	delete(f.seen, c)
	if len(f.seen) < 2 {
		clear(f.seen)
	}
}

func (f *overlapFilter) active() bool { return len(f.seen) >= 2 }

func (f *overlapFilter) key(pattern, tenant, channel string, payload []byte) dedupeKey {
	return dedupeKey{pattern, tenant, channel, len(payload), maphash.Bytes(f.seed, payload)}
}

// accept reports whether this delivery is new and should reach the application.
func (f *overlapFilter) accept(c *conn, k dedupeKey) bool {
	for other, counts := range f.seen {
		if other == c {
			continue
		}
		if n, ok := counts[k]; ok {
			if n <= 1 {
				delete(counts, k)
			} else {
				counts[k] = n - 1
			}
			return false
		}
	}
	if mine, ok := f.seen[c]; ok {
		mine[k]++
	}
	return true
}
