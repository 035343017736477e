package fastpubsub

import "testing"

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
	f.forget(a)
	f.forget(b)
	if f.active() {
		t.Fatal("one live connection left: the filter must be off")
	}
}
