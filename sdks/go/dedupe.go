package fastpubsub

import "hash/maphash"

// overlapFilter suppresses duplicates while connections overlap (make-before-break). Every
// connection delivers each copy of a message once, so during the overlap the application gets
// as many copies of a (pattern, tenant, channel, payload) key as the connection that delivered
// it most often: a delivery on connection X is new only when X has now delivered the key more
// often than any other live connection. A publisher legitimately sending the same bytes twice
// still gets both, and this holds for any number of overlapping connections (two quick
// migrations leave three alive). It is active only while more than one connection is live,
// so the single-connection hot path pays nothing.
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

// forget drops a connection that closed: it cannot deliver again.
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
	mine, ok := f.seen[c]
	if !ok {
		return true
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
