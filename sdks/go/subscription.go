package fastpubsub

import (
	"context"
	"sync"
)

// Message is one delivery to a subscription.
type Message struct {
	Tenant  string
	Channel string // the concrete channel published to
	Payload []byte
	// Patterns lists every pattern of this client's connection that matched (WebSocket edge:
	// one frame per message lists them all; QUIC edge: the subscription's own pattern).
	Patterns []string
}

// SubscriptionStats counts a subscription's messages.
type SubscriptionStats struct {
	Received uint64 // messages that reached the buffer
	Dropped  uint64 // messages the full buffer dropped (oldest first)
	Buffered int    // messages waiting for Next
}

// Subscription receives the messages of one (tenant, pattern). Its buffer is bounded: when the
// application does not call Next fast enough, the oldest messages are dropped and counted.
type Subscription struct {
	client  *Client
	tenant  string
	pattern string

	mu       sync.Mutex
	ring     []Message
	head, n  int
	received uint64
	dropped  uint64
	ended    bool
	endErr   error
	notify   chan struct{} // one pending wake-up for Next
}

func newSubscription(c *Client, tenant, pattern string, size int) *Subscription {
	if size < 1 {
		size = 1
	}
	return &Subscription{client: c, tenant: tenant, pattern: pattern, ring: make([]Message, size), notify: make(chan struct{}, 1)}
}

// Tenant and Pattern name the subscription.
func (s *Subscription) Tenant() string  { return s.tenant }
func (s *Subscription) Pattern() string { return s.pattern }

func (s *Subscription) wake() {
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// push never blocks: a full buffer drops its oldest message.
func (s *Subscription) push(m Message) {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.received++
	if s.n == len(s.ring) {
		s.ring[s.head] = Message{}
		s.head = (s.head + 1) % len(s.ring)
		s.n--
		s.dropped++
	}
	s.ring[(s.head+s.n)%len(s.ring)] = m
	s.n++
	s.mu.Unlock()
	s.wake()
}

// end stops the subscription; Next returns buffered messages, then err (or ErrClosed).
func (s *Subscription) end(err error) {
	s.mu.Lock()
	if !s.ended {
		s.ended = true
		s.endErr = err
	}
	s.mu.Unlock()
	s.wake()
}

// Next returns the next message, waiting until one arrives, the subscription ends (an *Error
// with CodeClosed, or the reason it was ended, e.g. a refused pattern) or ctx is done.
func (s *Subscription) Next(ctx context.Context) (Message, error) {
	for {
		s.mu.Lock()
		if s.n > 0 {
			m := s.ring[s.head]
			s.ring[s.head] = Message{}
			s.head = (s.head + 1) % len(s.ring)
			s.n--
			more := s.n > 0
			s.mu.Unlock()
			if more {
				s.wake()
			}
			return m, nil
		}
		if s.ended {
			err := s.endErr
			s.mu.Unlock()
			if err == nil {
				err = newError(CodeClosed, "subscription %s:%s ended", s.tenant, s.pattern)
			}
			s.wake() // let other waiting Next calls see the end too
			return Message{}, err
		}
		s.mu.Unlock()
		select {
		case <-s.notify:
		case <-ctx.Done():
			return Message{}, ctxError(ctx)
		}
	}
}

// Stats returns the subscription's counters.
func (s *Subscription) Stats() SubscriptionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return SubscriptionStats{Received: s.received, Dropped: s.dropped, Buffered: s.n}
}

// Unsubscribe removes the subscription (UNSUB is sent when no other Subscription of this
// client holds the same tenant and pattern). It does not wait for the edge's OK.
func (s *Subscription) Unsubscribe(ctx context.Context) error {
	if ctx.Err() != nil {
		return ctxError(ctx)
	}
	s.client.removeSub(s)
	s.end(nil)
	return nil
}
