package fastpubsub

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"

	"github.com/fastpubsub/fastpubsub/sdks/go/internal/wire"
)

// subprotocol of contract v0.1 §2; the token travels as a second entry `at.<token>`.
const subprotocol = "llps.v1"

// maxDeliveryFrame bounds one incoming WebSocket message: a 65,535-byte payload plus names and
// a generous pattern list.
const maxDeliveryFrame = 1 << 20

type wsTransport struct{}

func (wsTransport) name() string { return "websocket" }

// corkedConn batches writes: while corked, Write appends to a buffer, and uncork sends it with
// one write. The writer goroutine corks around each burst, so a burst of publishes costs one
// system call instead of one per message.
type corkedConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

func (c *corkedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	return c.Conn.Write(p)
}

func (c *corkedConn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

func (c *corkedConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	if cap(c.buf) > 1<<20 {
		c.buf = nil // do not keep a huge burst's buffer forever
	} else {
		c.buf = c.buf[:0]
	}
	return err
}

func (wsTransport) open(ctx context.Context, p openParams) (link, error) {
	var cc *corkedConn
	dialer := &net.Dialer{}
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			raw, err := dialer.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			cc = &corkedConn{Conn: raw}
			return cc, nil
		},
	}
	defer tr.CloseIdleConnections()
	ws, res, err := websocket.Dial(ctx, p.edge.WSURL, &websocket.DialOptions{
		HTTPClient:   &http.Client{Transport: tr},
		Subprotocols: []string{subprotocol, "at." + p.token},
	})
	if err != nil {
		if res != nil {
			switch res.StatusCode {
			case http.StatusUnauthorized:
				return nil, &Error{Code: CodeUnauthorized, Status: 401, Message: "edge " + p.edge.WSURL + " refused the token (401)"}
			case http.StatusForbidden:
				return nil, &Error{Code: CodeForbidden, Status: 403, Message: "edge " + p.edge.WSURL + " denied the connection (403)"}
			}
		}
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, newError(CodeTimeout, "opening %s timed out after %v", p.edge.WSURL, p.timeout)
			}
			return nil, ctxError(ctx)
		}
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		return nil, &Error{Code: CodeConnectFailed, Status: status, Message: "cannot open " + p.edge.WSURL, Err: err}
	}
	if ws.Subprotocol() != subprotocol {
		ws.CloseNow()
		return nil, newError(CodeProtocol, "edge %s answered subprotocol %q, expected %s", p.edge.WSURL, ws.Subprotocol(), subprotocol)
	}
	ws.SetReadLimit(maxDeliveryFrame)
	l := &wsLink{ws: ws, cork: cc, events: p.events, out: newOutbox(p.opts.writeBufferBytes)}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	p.wg.Add(2)
	go func() { defer p.wg.Done(); l.readLoop() }()
	go func() { defer p.wg.Done(); l.writeLoop() }()
	return l, nil
}

type wsLink struct {
	ws     *websocket.Conn
	cork   *corkedConn
	events linkEvents
	out    *outbox
	ctx    context.Context
	cancel context.CancelFunc

	once     sync.Once
	mu       sync.Mutex
	closedBy error // why the link ended (nil: local close)
}

func (l *wsLink) readLoop() {
	for {
		// Background: a cancellable context costs coder/websocket a timer registration per
		// message; close() unblocks the read by closing the socket instead.
		typ, data, err := l.ws.Read(context.Background())
		if err != nil {
			l.finish(closeError(err))
			return
		}
		if typ == websocket.MessageText {
			l.onText(string(data))
			continue
		}
		d, err := wire.DecodeDelivery(data)
		if err != nil {
			continue // contract v0.1 §3: the client drops a malformed frame
		}
		l.events.onDelivery(d.Tenant, d.Channel, d.Payload, d.Patterns)
	}
}

func (l *wsLink) onText(text string) {
	t := wire.ParseServerText(text)
	switch t.Kind {
	case "OK":
		if t.Op == "SUB" {
			l.events.onSubscribed(t.Tenant, t.Pattern)
		}
	case "PONG":
		l.events.onPong()
	case "ERR":
		l.events.onServerError(t.Code, t.Detail)
	case "RECONNECT":
		l.events.onReconnectRequested()
	}
}

func closeError(err error) error {
	if status := websocket.CloseStatus(err); status != -1 {
		return &Error{Code: CodeConnectFailed, Message: "connection closed by the edge (" + status.String() + ")", Err: err}
	}
	return &Error{Code: CodeConnectFailed, Message: "connection lost", Err: err}
}

// writeLoop writes each burst of queued frames corked, so the burst leaves in one write.
func (l *wsLink) writeLoop() {
	if err := l.out.serve(l.ctx, l.writeBurst); err != nil {
		l.finish(&Error{Code: CodeConnectFailed, Message: "write failed", Err: err})
	}
}

func (l *wsLink) writeBurst(arena []byte, frames []outFrame) error {
	l.cork.cork()
	var err error
	for _, f := range frames {
		typ := websocket.MessageBinary
		if f.text {
			typ = websocket.MessageText
		}
		if err = l.ws.Write(context.Background(), typ, arena[f.off:f.off+f.n]); err != nil {
			break
		}
	}
	if uerr := l.cork.uncork(); err == nil {
		err = uerr
	}
	return err
}

// finish reports the end once, and releases the socket.
func (l *wsLink) finish(err error) {
	l.once.Do(func() {
		l.mu.Lock()
		local := l.ctx.Err() != nil
		l.mu.Unlock()
		l.cancel()
		l.out.shut()
		l.ws.CloseNow()
		if local {
			err = nil
		}
		l.events.onClose(err)
	})
}

func (l *wsLink) sendText(text string) {
	_ = l.out.add(context.Background(), true, false, func(b []byte) []byte { return append(b, text...) })
}

func (l *wsLink) subscribe(tenant, pattern string)   { l.sendText(wire.FormatSub(tenant, pattern)) }
func (l *wsLink) unsubscribe(tenant, pattern string) { l.sendText(wire.FormatUnsub(tenant, pattern)) }
func (l *wsLink) ping()                              { l.sendText("PING") }
func (l *wsLink) buffered() int                      { return l.out.pending() }
func (l *wsLink) flush(ctx context.Context) error    { return l.out.flush(ctx) }

func (l *wsLink) publish(ctx context.Context, tenant, channel string, payload []byte, mode byte, wait bool) error {
	return l.out.add(ctx, false, wait, func(b []byte) []byte { return wire.AppendPublish(b, tenant, channel, payload, mode) })
}

// close ends the link without waiting: the reader reports onClose(nil) as it exits.
func (l *wsLink) close() {
	l.cancel()
	l.out.shut()
	l.ws.CloseNow()
}
