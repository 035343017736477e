package fastpubsub

import (
	"context"
	"math/rand/v2"
	"time"
)

// TokenReason says why the token provider is called.
type TokenReason string

const (
	TokenInitial      TokenReason = "initial"      // no token yet
	TokenExpiring     TokenReason = "expiring"     // the known expiry is within the refresh margin
	TokenExpired      TokenReason = "expired"      // the edge said token_expired
	TokenUnauthorized TokenReason = "unauthorized" // a reconnect got 401
)

// Token is what a TokenProvider returns; ExpiresAt is zero when unknown.
type Token struct {
	Token     string
	ExpiresAt time.Time
}

// TokenProvider mints a fresh access token. It is called before a known expiry, on
// token_expired, and on a 401 when reconnecting. ctx ends when the client closes.
type TokenProvider func(ctx context.Context, reason TokenReason) (Token, error)

// QueuePolicy is what a full publish queue does.
type QueuePolicy int

const (
	DropOldest QueuePolicy = iota // drop the oldest queued message (default)
	DropNewest                    // drop the message being published
	QueueError                    // refuse it with CodeQueueFull
)

// QUICConfig selects the QUIC edge (docs/quic-edge.md). Zero fields take defaults.
type QUICConfig struct {
	// Address is host:port of the QUIC edge; default: the edge's host at its HTTP port + 1.
	Address string
	// CAFile is a PEM file with the CA the relay's certificate chains to; default: system roots.
	CAFile string
	// CAPEM is the same as CAFile, given inline.
	CAPEM []byte
	// ServerName is the name checked against the certificate; default: the address's host.
	ServerName string
	// IdleTimeout: a connection silent this long is lost (keep-alives every quarter of it
	// keep a healthy one busy); default 5 s.
	IdleTimeout time.Duration
}

type options struct {
	token             string
	tokenExpiresAt    time.Time
	tokenProvider     TokenProvider
	refreshMargin     time.Duration
	edges             []string
	quic              *QUICConfig
	reconnect         bool
	baseDelay         time.Duration
	maxDelay          time.Duration
	maxAttempts       int
	overlap           time.Duration
	queueMax          int
	queuePolicy       QueuePolicy
	pingInterval      time.Duration
	pingTimeout       time.Duration
	bufferSize        int
	openTimeout       time.Duration
	resubscribeTimout time.Duration
	writeBufferBytes  int
	onState           func(State)
	onError           func(error)
}

func defaultOptions() options {
	return options{
		refreshMargin:     30 * time.Second,
		reconnect:         true,
		baseDelay:         250 * time.Millisecond,
		maxDelay:          10 * time.Second,
		overlap:           5 * time.Second,
		queueMax:          1000,
		pingInterval:      5 * time.Second,
		pingTimeout:       10 * time.Second,
		bufferSize:        1024,
		openTimeout:       10 * time.Second,
		resubscribeTimout: 10 * time.Second,
		writeBufferBytes:  4 << 20,
	}
}

// Option configures Connect.
type Option func(*options)

// WithToken sets the access token (AT_…).
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// WithTokenExpiry tells the client when the token given by WithToken expires, so a
// TokenProvider is asked for a new one RefreshMargin before.
func WithTokenExpiry(t time.Time) Option { return func(o *options) { o.tokenExpiresAt = t } }

// WithTokenProvider installs a provider of fresh tokens (see TokenProvider).
func WithTokenProvider(p TokenProvider) Option { return func(o *options) { o.tokenProvider = p } }

// WithTokenRefreshMargin sets how long before a known expiry the provider is called (30 s).
func WithTokenRefreshMargin(d time.Duration) Option { return func(o *options) { o.refreshMargin = d } }

// WithEdges gives candidate edges instead of one endpoint; the fastest by GET /ping wins.
func WithEdges(edges ...string) Option { return func(o *options) { o.edges = edges } }

// WithQUIC uses the relay's QUIC edge instead of the WebSocket edge.
func WithQUIC(cfg QUICConfig) Option { return func(o *options) { c := cfg; o.quic = &c } }

// WithReconnect sets the backoff (exponential, full jitter) between reconnect attempts;
// maxAttempts 0 means unlimited.
func WithReconnect(base, maxDelay time.Duration, maxAttempts int) Option {
	return func(o *options) { o.baseDelay, o.maxDelay, o.maxAttempts = base, maxDelay, maxAttempts }
}

// WithoutReconnect makes a lost connection close the client.
func WithoutReconnect() Option { return func(o *options) { o.reconnect = false } }

// WithOverlap sets how long an old connection is still read after a switch (5 s).
func WithOverlap(d time.Duration) Option { return func(o *options) { o.overlap = d } }

// WithPublishQueue bounds the queue that holds publishes while disconnected (1000, DropOldest).
func WithPublishQueue(max int, policy QueuePolicy) Option {
	return func(o *options) { o.queueMax, o.queuePolicy = max, policy }
}

// WithPing sets the PING interval and PONG timeout (5 s, 10 s); interval 0 disables pings.
func WithPing(interval, timeout time.Duration) Option {
	return func(o *options) { o.pingInterval, o.pingTimeout = interval, timeout }
}

// WithSubscriptionBuffer sets the default per-subscription buffer (1024 messages, drop-oldest).
func WithSubscriptionBuffer(size int) Option { return func(o *options) { o.bufferSize = size } }

// WithTimeouts bounds opening a connection and getting every OK:SUB on a new one (10 s each).
func WithTimeouts(open, resubscribe time.Duration) Option {
	return func(o *options) { o.openTimeout, o.resubscribeTimout = open, resubscribe }
}

// WithStateHandler is called on every state change, in order, from one goroutine of the client;
// keep it short and do not call Close from it (Close waits for that goroutine).
func WithStateHandler(fn func(State)) Option { return func(o *options) { o.onState = fn } }

// WithErrorHandler receives non-fatal errors: ERR lines from the edge, failed token refreshes, …
func WithErrorHandler(fn func(error)) Option { return func(o *options) { o.onError = fn } }

// backoffDelay is exponential backoff with full jitter: uniform in [0, min(max, base·2^(n-1))).
func backoffDelay(attempt int, base, maxDelay time.Duration) time.Duration {
	shift := min(max(attempt-1, 0), 30)
	limit := base << shift
	if limit > maxDelay || limit <= 0 {
		limit = maxDelay
	}
	if limit <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(limit)))
}
