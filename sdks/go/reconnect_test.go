package fastpubsub_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

// states records a client's state changes.
type states struct {
	mu   sync.Mutex
	seen []fastpubsub.State
}

func (s *states) add(st fastpubsub.State) { s.mu.Lock(); s.seen = append(s.seen, st); s.mu.Unlock() }

func (s *states) waitFor(t *testing.T, want fastpubsub.State, after int, within time.Duration) int {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		for i := after; i < len(s.seen); i++ {
			if s.seen[i] == want {
				s.mu.Unlock()
				return i + 1
			}
		}
		s.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t.Fatalf("no %s state within %v (saw %v)", want, within, s.seen)
	return 0
}

// TestRelayRestartQueuesAndResubscribes: the relay stops (gracefully: RECONNECT, then gone);
// publishes queue (bounded, drops counted); the relay comes back on the same address and the
// client resubscribes, then sends the queue.
func TestRelayRestartQueuesAndResubscribes(t *testing.T) {
	for _, transport := range []string{"websocket", "quic"} {
		t.Run(transport, func(t *testing.T) {
			dataDir, port := t.TempDir(), relaytest.FreePort(t)
			listen := fmt.Sprintf("127.0.0.1:%d", port)
			r := relaytest.StartAt(t, dataDir, listen)
			tok := mint(t, r, time.Hour)
			var st states
			opts := []fastpubsub.Option{fastpubsub.WithStateHandler(st.add), fastpubsub.WithPublishQueue(5, fastpubsub.DropOldest),
				fastpubsub.WithReconnect(50*time.Millisecond, 300*time.Millisecond, 0)}
			if transport == "quic" {
				opts = append(opts, transports(t, r)["quic"]...)
			}
			ctx := testCtx(t, 60*time.Second)
			c := connect(t, r, tok, opts...)
			sub, err := c.Subscribe(ctx, "demo", "chat.#")
			if err != nil {
				t.Fatal(err)
			}
			r.Stop()
			seen := st.waitFor(t, fastpubsub.StateReconnecting, 0, 10*time.Second)
			for i := range 8 {
				if err := c.Publish(ctx, "demo", "chat.q", []byte(fmt.Sprint("queued-", i))); err != nil {
					t.Fatal(err)
				}
			}
			if s := c.Stats(); s.Queued != 5 || s.QueueDropped != 3 {
				t.Fatalf("stats %+v, want queued 5 dropped 3", s)
			}
			relaytest.StartAt(t, dataDir, listen)
			st.waitFor(t, fastpubsub.StateConnected, seen, 20*time.Second)
			for i := 3; i < 8; i++ {
				m, err := sub.Next(ctx)
				if err != nil || string(m.Payload) != fmt.Sprint("queued-", i) {
					t.Fatalf("after restart: %v %q, want queued-%d", err, m.Payload, i)
				}
			}
			if s := c.Stats(); s.Queued != 0 || s.Reconnects < 1 {
				t.Fatalf("stats %+v after the restart", s)
			}
		})
	}
}
