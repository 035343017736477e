// Package fastpubsub is the Go SDK for FastPubSub: publish/subscribe over a relay's WebSocket
// edge (contract v0.1) or QUIC edge (docs/quic-edge.md), with auto-reconnect (exponential
// backoff, full jitter, make-before-break resubscription), token refresh, a bounded publish
// queue while disconnected and bounded per-subscription buffers.
package fastpubsub

import (
	"context"
	"sync"
	"time"

	"github.com/fastpubsub/fastpubsub/sdks/go/internal/wire"
)

// State is the client's connection state.
type State string

const (
	StateConnecting   State = "connecting"
	StateConnected    State = "connected"
	StateReconnecting State = "reconnecting"
	StateClosed       State = "closed"
)

// Delivery selects who receives a publish.
type Delivery byte

const (
	Broadcast     Delivery = 0 // every matching subscriber
	OneLowLatency Delivery = 1 // exactly one subscriber, lowest-latency relay first
	OneRandom     Delivery = 2 // exactly one subscriber, picked at random
)

// Stats are the client's counters.
type Stats struct {
	Published         uint64 // messages handed to a connection
	Queued            int    // messages waiting in the publish queue (no connection)
	QueueDropped      uint64 // messages the publish queue dropped by its policy
	DuplicatesDropped uint64 // deliveries dropped as duplicates during a make-before-break overlap
	Reconnects        uint64 // connections that became active after the first
}

type subKey struct{ tenant, pattern string }

type entry struct {
	tenant, pattern string
	subs            map[*Subscription]struct{}
	waiters         map[chan error]struct{} // Subscribe calls waiting for OK:SUB on the active connection
}

type connRole int

const (
	rolePending connRole = iota
	roleActive
	roleDraining
)

// conn is one connection attempt or live connection, with its subscription bookkeeping.
type conn struct {
	edge         Edge
	link         link
	alive        bool
	role         connRole
	confirmed    map[subKey]struct{}
	awaiting     map[subKey]struct{}
	allConfirmed chan struct{} // closed when awaiting empties
	failed       chan error    // one error when it dies before every OK:SUB
	leaving      bool          // the edge sent RECONNECT on it
	pingSentAt   time.Time
	pingTimer    *time.Timer
	drainTimer   *time.Timer
}

func (cn *conn) confirm(k subKey) {
	if _, ok := cn.awaiting[k]; ok {
		delete(cn.awaiting, k)
		if len(cn.awaiting) == 0 && cn.allConfirmed != nil {
			close(cn.allConfirmed)
			cn.allConfirmed = nil
		}
	}
}

type queuedPublish struct {
	tenant, channel string
	payload         []byte
	mode            byte
}

// Client is a connection to the FastPubSub network. It is safe for concurrent use.
type Client struct {
	opts       options
	transport  transport
	candidates []Edge

	mu            sync.Mutex
	state         State
	edge          Edge
	entries       map[subKey]*entry
	conns         map[*conn]struct{}
	active        *conn
	everConnected bool
	queue         []queuedPublish
	stats         Stats
	rtt           time.Duration
	token         string
	tokenExpires  time.Time
	tokenTimer    *time.Timer
	refreshing    chan struct{} // non-nil while the provider runs
	refreshErr    error
	overlap       overlapFilter
	loopRunning   bool
	closeErr      error

	closeCtx    context.Context
	closeCancel context.CancelFunc
	stopping    chan struct{} // closed by the shutdown; the event loop then closes done
	done        chan struct{}
	wg          sync.WaitGroup
	events      chan func()
}

// Connect opens the first connection and returns once it is open (one attempt, plus one after a
// token refresh on 401). endpoint is one edge URL; with WithEdges it may be "".
func Connect(ctx context.Context, endpoint string, opts ...Option) (*Client, error) {
	o := defaultOptions()
	for _, apply := range opts {
		apply(&o)
	}
	if o.token == "" && o.tokenProvider == nil {
		return nil, badArgument("Connect needs WithToken or WithTokenProvider")
	}
	if o.queueMax < 0 || o.bufferSize < 1 || o.baseDelay < 0 || o.maxDelay < 0 {
		return nil, badArgument("invalid queue, buffer or reconnect option")
	}
	c := &Client{opts: o, state: StateConnecting, entries: map[subKey]*entry{}, conns: map[*conn]struct{}{},
		token: o.token, tokenExpires: o.tokenExpiresAt, overlap: newOverlapFilter(),
		stopping: make(chan struct{}), done: make(chan struct{}), events: make(chan func(), 4096)}
	var err error
	switch {
	case endpoint != "" && len(o.edges) > 0:
		return nil, badArgument("give an endpoint or WithEdges, not both")
	case endpoint != "":
		e, perr := ParseEdge(endpoint)
		if perr != nil {
			return nil, perr
		}
		c.candidates = []Edge{e}
	case len(o.edges) > 0:
		for _, s := range o.edges {
			e, perr := ParseEdge(s)
			if perr != nil {
				return nil, perr
			}
			c.candidates = append(c.candidates, e)
		}
	default:
		return nil, badArgument("Connect needs an endpoint or WithEdges")
	}
	if o.quic != nil {
		c.transport, err = newQUICTransport(*o.quic)
		if err != nil {
			return nil, err
		}
	} else {
		c.transport = wsTransport{}
	}
	c.closeCtx, c.closeCancel = context.WithCancel(context.Background())
	c.wg.Add(1)
	go c.eventLoop()
	if err := c.start(ctx); err != nil {
		c.mu.Lock()
		c.shutdownLocked(err)
		c.mu.Unlock()
		c.wg.Wait()
		return nil, err
	}
	return c, nil
}

func (c *Client) start(ctx context.Context) error {
	stop := context.AfterFunc(ctx, c.closeCancel) // the caller's ctx bounds the first connect
	defer stop()
	fail := func(err error) error {
		if ctx.Err() != nil {
			return ctxError(ctx)
		}
		return err
	}
	if c.token == "" {
		if err := c.refreshToken(TokenInitial); err != nil {
			return fail(err)
		}
	}
	cn, err := c.openAndSubscribe(false)
	if err != nil && isCode(err, CodeUnauthorized) && c.opts.tokenProvider != nil {
		if rerr := c.refreshToken(TokenUnauthorized); rerr != nil {
			return fail(rerr)
		}
		cn, err = c.openAndSubscribe(false)
	}
	if err != nil {
		return fail(err)
	}
	if !stop() {
		c.mu.Lock()
		c.dropConnLocked(cn)
		c.mu.Unlock()
		return ctxError(ctx)
	}
	c.mu.Lock()
	c.scheduleTokenRefreshLocked()
	c.switchToLocked(cn)
	c.mu.Unlock()
	return nil
}

func isCode(err error, code ErrorCode) bool {
	e, ok := err.(*Error)
	return ok && e.Code == code
}

// eventLoop runs the application's handlers outside the client's lock, in order.
func (c *Client) eventLoop() {
	defer c.wg.Done()
	for {
		select {
		case fn := <-c.events:
			fn()
		case <-c.stopping:
			for {
				select {
				case fn := <-c.events:
					fn()
				default:
					close(c.done) // after the last handler call, so Done follows every event
					return
				}
			}
		}
	}
}

func (c *Client) emitLocked(fn func()) {
	select {
	case c.events <- fn:
	default: // a handler that stalls loses events rather than stalling the client
	}
}

func (c *Client) setStateLocked(s State) {
	if c.state == s || c.state == StateClosed {
		return
	}
	c.state = s
	if h := c.opts.onState; h != nil {
		c.emitLocked(func() { h(s) })
	}
}

func (c *Client) reportLocked(err error) {
	if h := c.opts.onError; h != nil && c.state != StateClosed {
		c.emitLocked(func() { h(err) })
	}
}

// State returns the current state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Edge returns the edge in use (or last used).
func (c *Client) Edge() Edge {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.edge
}

// RTT returns the last PING/PONG round trip; ok is false before the first PONG.
func (c *Client) RTT() (rtt time.Duration, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rtt, c.rtt > 0
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Queued = len(c.queue)
	return s
}

// Done is closed when the client has closed, by Close or by a terminal error (see Err), after
// the last call of the state and error handlers.
func (c *Client) Done() <-chan struct{} { return c.done }

// Err returns the terminal error after Done is closed (nil after Close).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeErr
}

// Close closes every connection and ends every subscription; it waits for the client's
// goroutines to exit. Safe to call more than once.
func (c *Client) Close() error {
	c.mu.Lock()
	c.shutdownLocked(nil)
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

func (c *Client) shutdownLocked(err error) {
	if c.state == StateClosed {
		return
	}
	c.setStateLocked(StateClosed)
	c.closeErr = err
	c.closeCancel()
	if c.tokenTimer != nil {
		c.tokenTimer.Stop()
	}
	for cn := range c.conns {
		c.dropConnLocked(cn)
	}
	closedErr := newError(CodeClosed, "client closed")
	for _, e := range c.entries {
		for w := range e.waiters {
			w <- closedErr
		}
		for s := range e.subs {
			s.end(err)
		}
	}
	clear(c.entries)
	c.queue = nil
	close(c.stopping)
}

// Publish sends payload to channel in tenant. It validates first (CodeBadArgument: a wildcard
// or invalid channel, an invalid tenant, a payload over 65,535 bytes). While disconnected the
// message is queued (bounded; see WithPublishQueue). It blocks only while the connection's
// write buffer is full (backpressure), bounded by ctx.
func (c *Client) Publish(ctx context.Context, tenant, channel string, payload []byte, opts ...PublishOption) error {
	mode := Broadcast
	for _, o := range opts {
		o(&mode)
	}
	if err := wire.ValidateTenant(tenant); err != nil {
		return &Error{Code: CodeBadArgument, Message: err.Error(), Err: err}
	}
	if err := wire.ValidateChannel(channel); err != nil {
		return &Error{Code: CodeBadArgument, Message: err.Error(), Err: err}
	}
	if len(payload) > wire.MaxPayload {
		return badArgument("payload is %d bytes, more than %d", len(payload), wire.MaxPayload)
	}
	if mode > OneRandom {
		return badArgument("unknown delivery mode %d", mode)
	}
	c.mu.Lock()
	if c.state == StateClosed {
		c.mu.Unlock()
		return newError(CodeClosed, "client closed")
	}
	cn := c.active
	if cn == nil || !cn.alive {
		err := c.enqueueLocked(queuedPublish{tenant, channel, append([]byte(nil), payload...), byte(mode)})
		c.mu.Unlock()
		return err
	}
	c.stats.Published++
	l := cn.link
	c.mu.Unlock()
	err := l.publish(ctx, tenant, channel, payload, byte(mode), true)
	if err != errLinkClosed {
		return err
	}
	// The connection died under us: the message never left, so it waits for the next one.
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Published--
	if c.state == StateClosed {
		return newError(CodeClosed, "client closed")
	}
	return c.enqueueLocked(queuedPublish{tenant, channel, append([]byte(nil), payload...), byte(mode)})
}

// PublishOption modifies one Publish.
type PublishOption func(*Delivery)

// WithDelivery selects broadcast (default) or a deliver-one mode.
func WithDelivery(d Delivery) PublishOption { return func(m *Delivery) { *m = d } }

func (c *Client) enqueueLocked(m queuedPublish) error {
	if len(c.queue) >= c.opts.queueMax {
		switch c.opts.queuePolicy {
		case DropNewest:
			c.stats.QueueDropped++
			return nil
		case QueueError:
			return newError(CodeQueueFull, "publish queue full (%d messages)", c.opts.queueMax)
		default:
			if len(c.queue) == 0 {
				c.stats.QueueDropped++
				return nil
			}
			c.queue[0] = queuedPublish{}
			c.queue = c.queue[1:]
			c.stats.QueueDropped++
		}
	}
	c.queue = append(c.queue, m)
	return nil
}

// Flush waits until everything published so far has left the client (queue empty, written
// to the connection), bounded by ctx.
func (c *Client) Flush(ctx context.Context) error {
	for {
		c.mu.Lock()
		if c.state == StateClosed {
			c.mu.Unlock()
			return newError(CodeClosed, "client closed")
		}
		var l link
		if len(c.queue) == 0 && c.active != nil {
			l = c.active.link
		}
		c.mu.Unlock()
		if l != nil {
			if err := l.flush(ctx); err != errLinkClosed {
				return err
			}
		}
		select {
		case <-time.After(5 * time.Millisecond):
		case <-ctx.Done():
			return ctxError(ctx)
		}
	}
}
