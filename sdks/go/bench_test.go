package fastpubsub_test

import (
	"testing"
	"time"

	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

// BenchmarkPublishReceive publishes b.N 256-byte messages through a real relay and receives
// them on the same client (go test -run X -bench PublishReceive).
func BenchmarkPublishReceive(b *testing.B) {
	r := relaytest.Start(b)
	tok := mint(b, r, time.Hour)
	t := &testing.T{}
	for name, opts := range transports(t, r) {
		b.Run(name, func(b *testing.B) {
			ctx := testCtx(b, 5*time.Minute)
			c := connectB(b, r, tok, opts...)
			sub, err := c.Subscribe(ctx, "demo", "chat.bench", fastpubsubBuffer(b.N))
			if err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 256)
			done := make(chan int)
			go func() {
				n := 0
				for n < b.N {
					if _, err := sub.Next(ctx); err != nil {
						break
					}
					n++
				}
				done <- n
			}()
			b.ResetTimer()
			for range b.N {
				if err := c.Publish(ctx, "demo", "chat.bench", payload); err != nil {
					b.Fatal(err)
				}
			}
			if n := <-done; n != b.N {
				b.Fatalf("received %d of %d", n, b.N)
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
		})
	}
}
