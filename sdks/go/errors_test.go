package fastpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

// A publish the edge refuses (channel outside the token's grants) is accepted by Publish and
// reported through the error handler as a server error; the connection lives on.
func TestRefusedPublishIsReported(t *testing.T) {
	r := relaytest.Start(t)
	tok := mint(t, r, time.Hour)
	for name, opts := range transports(t, r) {
		t.Run(name, func(t *testing.T) {
			errs := make(chan error, 10)
			c := connect(t, r, tok, append(opts, fastpubsub.WithErrorHandler(func(err error) { errs <- err }))...)
			ctx := testCtx(t, 10*time.Second)
			if err := c.Publish(ctx, "demo", "secret.x", []byte("no")); err != nil {
				t.Fatalf("publish: %v", err)
			}
			select {
			case err := <-errs:
				if !errors.Is(err, &fastpubsub.Error{Code: fastpubsub.CodeServer, ServerCode: "permission_denied"}) {
					t.Fatalf("reported %v, want server/permission_denied", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no error reported for a refused publish")
			}
			sub, err := c.Subscribe(ctx, "demo", "chat.#")
			if err != nil {
				t.Fatalf("subscribe after the refusal: %v", err)
			}
			_ = sub.Unsubscribe(ctx)
		})
	}
}

func TestConnectErrors(t *testing.T) {
	dead := fmt.Sprintf("http://127.0.0.1:%d", relaytest.FreePort(t))
	_, err := fastpubsub.Connect(testCtx(t, 10*time.Second), dead, fastpubsub.WithToken("AT_a_b"))
	expectCode(t, err, fastpubsub.CodeConnectFailed)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = fastpubsub.Connect(cancelled, dead, fastpubsub.WithToken("AT_a_b"))
	expectCode(t, err, fastpubsub.CodeAborted)

	_, err = fastpubsub.Connect(testCtx(t, time.Second), dead)
	expectCode(t, err, fastpubsub.CodeBadArgument)
	_, err = fastpubsub.Connect(testCtx(t, time.Second), "ftp://x", fastpubsub.WithToken("AT_a_b"))
	expectCode(t, err, fastpubsub.CodeBadArgument)
}

// Without reconnect, a lost connection ends the client with connect_failed.
func TestWithoutReconnectEndsOnLoss(t *testing.T) {
	r := relaytest.Start(t)
	c := connect(t, r, mint(t, r, time.Hour), fastpubsub.WithoutReconnect())
	r.Kill()
	select {
	case <-c.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("client did not end after the relay died")
	}
	if !errors.Is(c.Err(), fastpubsub.ErrConnectFailed) {
		t.Fatalf("terminal error %v, want connect_failed", c.Err())
	}
}
