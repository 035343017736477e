package fastpubsub

import (
	"testing"
	"time"
)

func TestBackoffIsFullJitterUnderTheCap(t *testing.T) {
	base, maxDelay := 100*time.Millisecond, time.Second
	for attempt := 1; attempt <= 40; attempt++ {
		limit := min(maxDelay, base<<min(attempt-1, 30))
		var top time.Duration
		for range 200 {
			d := backoffDelay(attempt, base, maxDelay)
			if d < 0 || d >= limit {
				t.Fatalf("attempt %d: delay %v outside [0, %v)", attempt, d, limit)
			}
			top = max(top, d)
		}
		// Full jitter spreads over the whole range (200 draws all below half: p = 2^-200).
		if top < limit/2 {
			t.Fatalf("attempt %d: 200 delays all below %v", attempt, limit/2)
		}
	}
}

func TestSubscriptionBufferDropsOldest(t *testing.T) {
	s := newSubscription(nil, "t", "p", 3)
	for i := range 5 {
		s.push(Message{Channel: string(rune('a' + i))})
	}
	st := s.Stats()
	if st.Received != 5 || st.Dropped != 2 || st.Buffered != 3 {
		t.Fatalf("stats %+v", st)
	}
	if m := s.ring[s.head]; m.Channel != "c" {
		t.Fatalf("oldest kept %q, want c", m.Channel)
	}
}
