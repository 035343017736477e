package fastpubsub_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
	os.Exit(0)
}

func admin(r *relaytest.Relay) fastpubsub.Admin {
	return fastpubsub.Admin{URL: r.URL, MasterToken: relaytest.MasterToken}
}

// mint creates a token for tenant "demo" allowing chat.# (pub and sub).
func mint(t testing.TB, r *relaytest.Relay, ttl time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := admin(r).CreateToken(ctx, fastpubsub.CreateTokenRequest{
		Grants:    []fastpubsub.TenantGrant{{TenantIDs: []string{"demo"}, AllowChannelsPub: []string{"chat.#"}, AllowChannelsSub: []string{"chat.#"}}},
		ExpiresAt: time.Now().Add(ttl),
		CreatedBy: "go-sdk-tests",
	})
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return tok
}

func testCtx(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// transports runs a test body over the WebSocket edge and the QUIC edge of one relay.
func transports(t *testing.T, r *relaytest.Relay) map[string][]fastpubsub.Option {
	return map[string][]fastpubsub.Option{
		"websocket": nil,
		"quic":      {fastpubsub.WithQUIC(fastpubsub.QUICConfig{Address: r.QUICAddr, CAFile: r.CAFile, ServerName: "localhost"})},
	}
}

func connect(t *testing.T, r *relaytest.Relay, token string, extra ...fastpubsub.Option) *fastpubsub.Client {
	t.Helper()
	c, err := fastpubsub.Connect(testCtx(t, 15*time.Second), r.URL, append([]fastpubsub.Option{fastpubsub.WithToken(token)}, extra...)...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func connectB(b *testing.B, r *relaytest.Relay, token string, extra ...fastpubsub.Option) *fastpubsub.Client {
	b.Helper()
	c, err := fastpubsub.Connect(testCtx(b, 15*time.Second), r.URL, append([]fastpubsub.Option{fastpubsub.WithToken(token)}, extra...)...)
	if err != nil {
		b.Fatalf("connect: %v", err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func fastpubsubBuffer(n int) fastpubsub.SubscribeOption {
	return fastpubsub.WithBufferSize(max(n, 1024))
}

func expectCode(t *testing.T, err error, code fastpubsub.ErrorCode) *fastpubsub.Error {
	t.Helper()
	var fe *fastpubsub.Error
	if err == nil {
		t.Fatalf("want error %s, got nil", code)
	}
	if !asError(err, &fe) || fe.Code != code {
		t.Fatalf("want error code %s, got %v", code, err)
	}
	return fe
}
