package fastpubsub_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

// TestTokenProviderRefreshes: 3 s tokens from a provider are replaced before they expire,
// make-before-break, while a steady stream flows: nothing lost, nothing duplicated.
func TestTokenProviderRefreshes(t *testing.T) {
	r := relaytest.Start(t)
	for name, opts := range transports(t, r) {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			provider := func(ctx context.Context, _ fastpubsub.TokenReason) (fastpubsub.Token, error) {
				calls.Add(1)
				expires := time.Now().Add(3 * time.Second)
				tok, err := admin(r).CreateToken(ctx, fastpubsub.CreateTokenRequest{
					Grants:    []fastpubsub.TenantGrant{{TenantIDs: []string{"demo"}, AllowChannelsPub: []string{"chat.#"}, AllowChannelsSub: []string{"chat.#"}}},
					ExpiresAt: expires, CreatedBy: "go-sdk-tests",
				})
				return fastpubsub.Token{Token: tok, ExpiresAt: expires}, err
			}
			ctx := testCtx(t, 30*time.Second)
			c, err := fastpubsub.Connect(ctx, r.URL, append([]fastpubsub.Option{fastpubsub.WithTokenProvider(provider)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			pub := connect(t, r, mint(t, r, time.Hour), opts...)
			sub, err := c.Subscribe(ctx, "demo", "chat.#")
			if err != nil {
				t.Fatal(err)
			}
			const n = 100 // 5 s at one message per 50 ms: two or three refreshes
			go func() {
				for i := range n {
					if pub.Publish(ctx, "demo", "chat.steady", []byte(fmt.Sprint(i))) != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}()
			for i := range n {
				m, err := sub.Next(ctx)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if string(m.Payload) != fmt.Sprint(i) {
					t.Fatalf("message %d: got %q (lost, duplicated or reordered)", i, m.Payload)
				}
			}
			quiet, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			if m, err := sub.Next(quiet); err == nil {
				t.Fatalf("duplicate after the stream: %q", m.Payload)
			}
			if calls.Load() < 3 || c.Stats().Reconnects < 2 {
				t.Fatalf("provider calls %d, reconnects %d: want ≥3 and ≥2", calls.Load(), c.Stats().Reconnects)
			}
		})
	}
}

// TestRevokedTokenIsTerminal: revoking the token closes the connection; the reconnect gets a
// 401 and, with no provider, the client closes with unauthorized instead of retrying forever.
func TestRevokedTokenIsTerminal(t *testing.T) {
	r := relaytest.Start(t)
	for name, opts := range transports(t, r) {
		t.Run(name, func(t *testing.T) {
			tok := mint(t, r, time.Hour)
			c := connect(t, r, tok, append(opts, fastpubsub.WithReconnect(20*time.Millisecond, 100*time.Millisecond, 0))...)
			if _, err := c.Subscribe(testCtx(t, 10*time.Second), "demo", "chat.#"); err != nil {
				t.Fatal(err)
			}
			if err := admin(r).RevokeToken(testCtx(t, 10*time.Second), tok); err != nil {
				t.Fatal(err)
			}
			select {
			case <-c.Done():
			case <-time.After(15 * time.Second):
				t.Fatalf("client still %s 15 s after the revocation", c.State())
			}
			if err := c.Err(); !errors.Is(err, fastpubsub.ErrUnauthorized) {
				t.Fatalf("terminal error %v, want unauthorized", err)
			}
			err := c.Publish(testCtx(t, time.Second), "demo", "chat.x", nil)
			expectCode(t, err, fastpubsub.CodeClosed)
		})
	}
}

// TestFastestEdge: among a dead edge and a live one, the live one is selected by GET /ping.
func TestFastestEdge(t *testing.T) {
	r := relaytest.Start(t)
	dead := fmt.Sprintf("http://127.0.0.1:%d", relaytest.FreePort(t))
	ctx := testCtx(t, 15*time.Second)
	c, err := fastpubsub.Connect(ctx, "", fastpubsub.WithEdges(dead, r.URL), fastpubsub.WithToken(mint(t, r, time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Edge().HTTPURL != r.URL {
		t.Fatalf("edge %s, want %s", c.Edge().HTTPURL, r.URL)
	}
	_, err = fastpubsub.Connect(ctx, "", fastpubsub.WithEdges(dead), fastpubsub.WithToken("AT_a_b"))
	if err == nil {
		t.Fatal("a single dead edge connected")
	}
	_, err = fastpubsub.SelectFastestEdge(ctx, []fastpubsub.Edge{{HTTPURL: dead}})
	expectCode(t, err, fastpubsub.CodeNoEdge)
}

func TestTokenRESTHelpers(t *testing.T) {
	r := relaytest.Start(t)
	ctx := testCtx(t, 15*time.Second)
	tok := mint(t, r, time.Hour)
	id, err := fastpubsub.TokenID(tok)
	if err != nil {
		t.Fatal(err)
	}
	newExpiry, err := admin(r).RefreshToken(ctx, id, time.Now().Add(2*time.Hour))
	if err != nil || newExpiry == "" {
		t.Fatalf("refresh: %q %v", newExpiry, err)
	}
	bad := fastpubsub.Admin{URL: r.URL, MasterToken: "wrong-master-token-wrong-master-token"}
	_, err = bad.CreateToken(ctx, fastpubsub.CreateTokenRequest{Grants: []fastpubsub.TenantGrant{{TenantIDs: []string{"demo"}}}, ExpiresAt: time.Now().Add(time.Hour), CreatedBy: "x"})
	fe := expectCode(t, err, fastpubsub.CodeUnauthorized)
	if fe.Status != 401 {
		t.Fatalf("status %d", fe.Status)
	}
	_, err = admin(r).CreateToken(ctx, fastpubsub.CreateTokenRequest{Grants: []fastpubsub.TenantGrant{{TenantIDs: []string{"demo"}}}, ExpiresAt: time.Now().Add(25 * time.Hour), CreatedBy: "x"})
	if fe := expectCode(t, err, fastpubsub.CodeHTTP); fe.Status != 400 {
		t.Fatalf("25 h expiry: status %d, want 400", fe.Status)
	}
	if _, err := fastpubsub.TokenID("nope"); !errors.Is(err, fastpubsub.ErrBadArgument) {
		t.Fatalf("TokenID(nope): %v", err)
	}
}
