package fastpubsub

import (
	"testing"
	"time"
)

func TestOverlapFilterThreeConnections(t *testing.T) {
	f := newOverlapFilter()
	a, b, c := &conn{}, &conn{}, &conn{}
	for _, x := range []*conn{a, b, c} {
		f.track(x)
	}
	k := f.key("p", "t", "ch", []byte("m1"))
	got := []bool{f.accept(a, k), f.accept(b, k), f.accept(c, k)}
	if got[0] != true || got[1] || got[2] {
		t.Fatalf("one copy on three connections: %v, want [true false false]", got)
	}
	// The same bytes published again: a second copy reaches the app once.
	got = []bool{f.accept(c, k), f.accept(a, k), f.accept(b, k)}
	if got[0] != true || got[1] || got[2] {
		t.Fatalf("second copy: %v, want [true false false]", got)
	}
	now := time.Unix(0, 0)
	f.now = func() time.Time { return now }
	f.forget(a)
	f.forget(b)
	if !f.active() {
		t.Fatal("closed connections in their grace period: the filter must stay on")
	}
	now = now.Add(closedGrace)
	if f.active() {
		t.Fatal("one live connection left after the grace period: the filter must be off")
	}
}

// TestOverlapFilterClosedConnectionGrace: a copy the old connection delivered just before it
// closed is not delivered again when the new connection delivers it right after.
func TestOverlapFilterClosedConnectionGrace(t *testing.T) {
	f := newOverlapFilter()
	now := time.Unix(0, 0)
	f.now = func() time.Time { return now }
	old, cur := &conn{}, &conn{}
	f.track(old)
	f.track(cur)
	k := f.key("p", "t", "ch", []byte("m1"))
	if !f.accept(old, k) {
		t.Fatal("first copy on the old connection must be delivered")
	}
	f.forget(old)
	now = now.Add(500 * time.Millisecond)
	if !f.active() || f.accept(cur, k) {
		t.Fatal("the same copy on the new connection right after the old one closed must be dropped")
	}
	if !f.accept(cur, k) {
		t.Fatal("a second copy is a new message")
	}
	if f.accept(old, k) {
		t.Fatal("a late delivery on the closed connection is redundant")
	}
	now = now.Add(closedGrace)
	if f.active() {
		t.Fatal("after the grace period the single connection pays nothing")
	}
	// A single tracked connection that closes (no overlap) has no grace period.
	g := newOverlapFilter()
	g.track(cur)
	g.forget(cur)
	if g.active() {
		t.Fatal("no overlap, no grace period")
	}
}
