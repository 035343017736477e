package fastpubsub

import (
	"context"
	"strings"

	"github.com/fastpubsub/fastpubsub/sdks/go/internal/wire"
)

// ---- subscriptions -------------------------------------------------------------------------

// SubscribeOption modifies one Subscribe.
type SubscribeOption func(*int)

// WithBufferSize sets this subscription's buffer (messages; the oldest is dropped when full).
func WithBufferSize(n int) SubscribeOption { return func(s *int) { *s = n } }

// Subscribe adds a subscription and returns once the edge confirmed it. A pattern the token
// does not allow gives an *Error with CodeServer and ServerCode "permission_denied".
func (c *Client) Subscribe(ctx context.Context, tenant, pattern string, opts ...SubscribeOption) (*Subscription, error) {
	size := c.opts.bufferSize
	for _, o := range opts {
		o(&size)
	}
	if err := wire.ValidateTenant(tenant); err != nil {
		return nil, &Error{Code: CodeBadArgument, Message: err.Error(), Err: err}
	}
	if strings.TrimSpace(pattern) == "" {
		return nil, badArgument("blank pattern")
	}
	if err := wire.ValidatePattern(pattern); err != nil {
		return nil, &Error{Code: CodeBadArgument, Message: err.Error(), Err: err}
	}
	if size < 1 {
		return nil, badArgument("buffer size %d: must be at least 1", size)
	}
	if ctx.Err() != nil {
		return nil, ctxError(ctx)
	}
	k := subKey{tenant, pattern}
	c.mu.Lock()
	if c.state == StateClosed {
		c.mu.Unlock()
		return nil, newError(CodeClosed, "client closed")
	}
	e := c.entries[k]
	fresh := e == nil
	if fresh {
		e = &entry{tenant: tenant, pattern: pattern, subs: map[*Subscription]struct{}{}, waiters: map[chan error]struct{}{}}
		c.entries[k] = e
	}
	s := newSubscription(c, tenant, pattern, size)
	e.subs[s] = struct{}{}
	if fresh {
		for cn := range c.conns {
			if cn.role == roleDraining {
				continue
			}
			if cn.role == rolePending {
				cn.awaiting[k] = struct{}{}
			}
			cn.link.subscribe(tenant, pattern)
		}
	}
	if c.active != nil {
		if _, ok := c.active.confirmed[k]; ok {
			c.mu.Unlock()
			return s, nil
		}
	}
	w := make(chan error, 1)
	e.waiters[w] = struct{}{}
	c.mu.Unlock()
	select {
	case err := <-w:
		if err != nil {
			s.end(err)
			return nil, err
		}
		return s, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(e.waiters, w)
		c.mu.Unlock()
		c.removeSub(s)
		s.end(nil)
		return nil, ctxError(ctx)
	}
}

func (c *Client) removeSub(s *Subscription) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := subKey{s.tenant, s.pattern}
	e := c.entries[k]
	if e == nil {
		return
	}
	if _, ok := e.subs[s]; !ok {
		return
	}
	delete(e.subs, s)
	if len(e.subs) > 0 {
		return
	}
	delete(c.entries, k)
	for w := range e.waiters {
		w <- newError(CodeClosed, "unsubscribed")
	}
	for cn := range c.conns {
		delete(cn.confirmed, k)
		cn.confirm(k)
		if cn.role != roleDraining {
			cn.link.unsubscribe(s.tenant, s.pattern)
		}
	}
}
