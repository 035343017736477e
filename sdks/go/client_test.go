package fastpubsub_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

func asError(err error, target **fastpubsub.Error) bool { return errors.As(err, target) }

func TestEchoAndValidation(t *testing.T) {
	r := relaytest.Start(t)
	tok := mint(t, r, time.Hour)
	for name, opts := range transports(t, r) {
		t.Run(name, func(t *testing.T) {
			ctx := testCtx(t, 20*time.Second)
			c := connect(t, r, tok, opts...)
			sub, err := c.Subscribe(ctx, "demo", "chat.#")
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{0, 1, 65535} {
				payload := bytes.Repeat([]byte{byte(size % 251)}, size)
				if err := c.Publish(ctx, "demo", "chat.room1", payload); err != nil {
					t.Fatal(err)
				}
				msg, err := sub.Next(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if msg.Tenant != "demo" || msg.Channel != "chat.room1" || !bytes.Equal(msg.Payload, payload) || !reflect.DeepEqual(msg.Patterns, []string{"chat.#"}) {
					t.Fatalf("size %d: got %s/%s %d bytes %v", size, msg.Tenant, msg.Channel, len(msg.Payload), msg.Patterns)
				}
			}
			// Bad input is refused before anything is sent.
			expectCode(t, c.Publish(ctx, "demo", "chat.*", nil), fastpubsub.CodeBadArgument)
			expectCode(t, c.Publish(ctx, "", "chat.a", nil), fastpubsub.CodeBadArgument)
			expectCode(t, c.Publish(ctx, "demo", "chat.a", make([]byte, 65536)), fastpubsub.CodeBadArgument)
			_, err = c.Subscribe(ctx, "demo", "  ")
			expectCode(t, err, fastpubsub.CodeBadArgument)
			if !errors.Is(c.Publish(ctx, "demo", "a..b", nil), fastpubsub.ErrBadArgument) {
				t.Fatal("errors.Is(ErrBadArgument) failed")
			}
			// A forbidden pattern is refused by the edge with a typed error; the client lives on.
			_, err = c.Subscribe(ctx, "demo", "secret.#")
			fe := expectCode(t, err, fastpubsub.CodeServer)
			if fe.ServerCode != "permission_denied" {
				t.Fatalf("serverCode %q, want permission_denied", fe.ServerCode)
			}
			if err := c.Publish(ctx, "demo", "chat.after", []byte("still alive")); err != nil {
				t.Fatal(err)
			}
			msg, err := sub.Next(ctx)
			if err != nil || string(msg.Payload) != "still alive" {
				t.Fatalf("after refusal: %v %q", err, msg.Payload)
			}
			if err := sub.Unsubscribe(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := sub.Next(ctx); !errors.Is(err, fastpubsub.ErrClosed) {
				t.Fatalf("Next after Unsubscribe: %v", err)
			}
			// The first PING goes out when the connection becomes active.
			deadline := time.Now().Add(5 * time.Second)
			for _, ok := c.RTT(); !ok && time.Now().Before(deadline); _, ok = c.RTT() {
				time.Sleep(10 * time.Millisecond)
			}
			if rtt, ok := c.RTT(); !ok || rtt <= 0 || rtt > 5*time.Second {
				t.Fatalf("RTT %v (measured: %v)", rtt, ok)
			}
			if s := c.Stats(); s.Published != 4 {
				t.Fatalf("published %d, want 4", s.Published)
			}
		})
	}
}

func TestWildcardsListEveryMatchingPattern(t *testing.T) {
	r := relaytest.Start(t)
	tok := mint(t, r, time.Hour)
	ctx := testCtx(t, 20*time.Second)
	c := connect(t, r, tok)
	all, err := c.Subscribe(ctx, "demo", "chat.#")
	if err != nil {
		t.Fatal(err)
	}
	one, err := c.Subscribe(ctx, "demo", "chat.*")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "demo", "chat.a.b", []byte("deep")); err != nil {
		t.Fatal(err)
	}
	if err := c.Publish(ctx, "demo", "chat.a", []byte("flat")); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"deep", "flat"} {
		m, err := all.Next(ctx)
		if err != nil || string(m.Payload) != want {
			t.Fatalf("chat.#: %v %q, want %q", err, m.Payload, want)
		}
	}
	m, err := one.Next(ctx)
	if err != nil || string(m.Payload) != "flat" || len(m.Patterns) != 2 {
		t.Fatalf("chat.*: %v %q %v", err, m.Payload, m.Patterns)
	}
}

func TestUnauthorizedConnect(t *testing.T) {
	r := relaytest.Start(t)
	for name, opts := range transports(t, r) {
		t.Run(name, func(t *testing.T) {
			_, err := fastpubsub.Connect(testCtx(t, 10*time.Second), r.URL, append(opts, fastpubsub.WithToken("AT_0000_1111"))...)
			expectCode(t, err, fastpubsub.CodeUnauthorized)
			if !errors.Is(err, fastpubsub.ErrUnauthorized) {
				t.Fatal("errors.Is(ErrUnauthorized) failed")
			}
		})
	}
}

func TestSlowConsumerDropsAreCounted(t *testing.T) {
	r := relaytest.Start(t)
	tok := mint(t, r, time.Hour)
	ctx := testCtx(t, 20*time.Second)
	c := connect(t, r, tok)
	sub, err := c.Subscribe(ctx, "demo", "chat.#", fastpubsub.WithBufferSize(10))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		if err := c.Publish(ctx, "demo", "chat.x", []byte(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for sub.Stats().Received < 50 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	st := sub.Stats()
	if st.Received != 50 || st.Dropped != 40 || st.Buffered != 10 {
		t.Fatalf("stats %+v, want received 50 dropped 40 buffered 10", st)
	}
	m, err := sub.Next(ctx)
	if err != nil || string(m.Payload) != "40" {
		t.Fatalf("oldest kept: %v %q, want 40", err, m.Payload)
	}
}
