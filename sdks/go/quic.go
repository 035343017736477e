package fastpubsub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/fastpubsub/fastpubsub/sdks/go/internal/wire"
)

// QUICALPN is the QUIC edge's ALPN (docs/quic-edge.md).
const QUICALPN = "fastpubsub/1"

type quicTransport struct {
	cfg   QUICConfig
	roots *x509.CertPool
}

func newQUICTransport(cfg QUICConfig) (*quicTransport, error) {
	t := &quicTransport{cfg: cfg}
	pem := cfg.CAPEM
	if cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, badArgument("cannot read QUIC CA file: %v", err)
		}
		pem = append(append([]byte(nil), pem...), b...)
	}
	if len(pem) > 0 {
		t.roots = x509.NewCertPool()
		if !t.roots.AppendCertsFromPEM(pem) {
			return nil, badArgument("QUIC CA: no PEM certificate found")
		}
	}
	return t, nil
}

func (t *quicTransport) name() string { return "quic" }

// address is the configured one, or the edge's host at its HTTP port + 1 (the relay's default).
func (t *quicTransport) address(edge Edge) (string, error) {
	if t.cfg.Address != "" {
		return t.cfg.Address, nil
	}
	u, err := url.Parse(edge.HTTPURL)
	if err != nil {
		return "", badArgument("bad edge %s", edge.HTTPURL)
	}
	port := 443
	if u.Port() != "" {
		port, _ = strconv.Atoi(u.Port())
	} else if u.Scheme == "http" {
		port = 80
	}
	return net.JoinHostPort(u.Hostname(), strconv.Itoa(port+1)), nil
}

func (t *quicTransport) open(ctx context.Context, p openParams) (link, error) {
	addr, err := t.address(p.edge)
	if err != nil {
		return nil, err
	}
	serverName := t.cfg.ServerName
	if serverName == "" {
		serverName, _, _ = net.SplitHostPort(addr)
	}
	// A relay that vanished (crash, lost path) sends no CONNECTION_CLOSE: the idle timeout,
	// fed by keep-alives every quarter of it, is how the client notices and reconnects.
	idle := t.cfg.IdleTimeout
	if idle <= 0 {
		idle = 5 * time.Second
	}
	tlsConf := &tls.Config{RootCAs: t.roots, ServerName: serverName, NextProtos: []string{QUICALPN}, MinVersion: tls.VersionTLS13}
	qconf := &quic.Config{
		KeepAlivePeriod:                idle / 4,
		MaxIdleTimeout:                 idle,
		InitialStreamReceiveWindow:     256 << 10,
		InitialConnectionReceiveWindow: 8 << 20,
		MaxIncomingUniStreams:          10000,
	}
	qc, err := quic.DialAddr(ctx, addr, tlsConf, qconf)
	if err != nil {
		if ctx.Err() != nil {
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, newError(CodeTimeout, "QUIC connect to %s timed out after %v", addr, p.timeout)
			}
			return nil, ctxError(ctx)
		}
		return nil, &Error{Code: CodeConnectFailed, Message: "QUIC connect to " + addr + " failed", Err: err}
	}
	ctrl, err := qc.OpenStreamSync(ctx)
	if err != nil {
		qc.CloseWithError(0, "")
		return nil, &Error{Code: CodeConnectFailed, Message: "cannot open the QUIC control stream", Err: err}
	}
	l := &quicLink{qc: qc, ctrl: ctrl, events: p.events, out: newOutbox(p.opts.writeBufferBytes),
		byKey: map[subKey]*quicSub{}, byID: map[uint32]*quicSub{}, authed: make(chan error, 1)}
	l.ctx, l.cancel = context.WithCancel(context.Background())
	if _, err := ctrl.Write(wire.EncodeAuth(wire.Auth{Token: p.token})); err != nil {
		qc.CloseWithError(0, "")
		return nil, &Error{Code: CodeConnectFailed, Message: "cannot send AUTH", Err: err}
	}
	p.wg.Add(3)
	go func() { defer p.wg.Done(); l.readControl() }()
	go func() { defer p.wg.Done(); l.writeLoop() }()
	go func() { defer p.wg.Done(); l.acceptStreams(p.wg) }()
	select {
	case err = <-l.authed:
	case <-ctx.Done():
		err = newError(CodeTimeout, "QUIC AUTH at %s: no answer within %v", addr, p.timeout)
		if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = ctxError(ctx)
		}
	}
	if err != nil {
		l.silent.Store(true)
		l.close()
		return nil, err
	}
	return l, nil
}

type quicSub struct {
	id              uint32
	tenant, pattern string
	confirmed       bool
}

type quicLink struct {
	qc     *quic.Conn
	ctrl   *quic.Stream
	events linkEvents
	out    *outbox
	ctx    context.Context
	cancel context.CancelFunc
	authed chan error
	silent atomic.Bool // set before close when open failed: report nothing

	mu     sync.Mutex
	nextID uint32
	byKey  map[subKey]*quicSub
	byID   map[uint32]*quicSub
	auth   bool
	once   sync.Once
}

func closeReason(err error) *Error {
	var app *quic.ApplicationError
	if errors.As(err, &app) && app.Remote {
		code := CodeConnectFailed
		switch app.ErrorMessage {
		case "unauthorized", "token_expired", "token_revoked":
			code = CodeUnauthorized
		case "forbidden":
			code = CodeForbidden
		}
		return &Error{Code: code, ServerCode: app.ErrorMessage, Message: "QUIC connection closed by the edge (" + app.ErrorMessage + ")", Err: err}
	}
	return &Error{Code: CodeConnectFailed, Message: "QUIC connection lost", Err: err}
}

func (l *quicLink) readControl() {
	var dec wire.Decoder
	buf := make([]byte, 64<<10)
	for {
		n, err := l.ctrl.Read(buf)
		if n > 0 {
			frames, derr := dec.Feed(buf[:n])
			for _, f := range frames {
				l.onControl(f)
			}
			if derr != nil {
				l.qc.CloseWithError(0x4, "protocol_error")
				l.finish(&Error{Code: CodeProtocol, Message: "bad frame on the control stream", Err: derr})
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = context.Cause(l.qc.Context())
			}
			l.finish(closeReason(err))
			return
		}
	}
}

func (l *quicLink) onControl(f wire.Frame) {
	switch f.Type {
	case wire.TypeOK:
		ok, err := wire.DecodeOK(f)
		if err != nil {
			return
		}
		if ok.ID == 0 {
			l.mu.Lock()
			first := !l.auth
			l.auth = true
			l.mu.Unlock()
			if first {
				l.authed <- nil
			}
			return
		}
		l.mu.Lock()
		s := l.byID[ok.ID]
		confirmed := s != nil && !s.confirmed && l.byKey[subKey{s.tenant, s.pattern}] == s
		if confirmed {
			s.confirmed = true
		}
		l.mu.Unlock()
		if confirmed {
			l.events.onSubscribed(s.tenant, s.pattern)
		}
	case wire.TypeERR:
		e, err := wire.DecodeErr(f)
		if err != nil {
			return
		}
		if e.ID == 0 {
			l.mu.Lock()
			authPending := !l.auth
			l.mu.Unlock()
			switch {
			case authPending:
				code := CodeUnauthorized
				if e.Code == "forbidden" {
					code = CodeForbidden
				} else if e.Code == "internal" {
					code = CodeConnectFailed
				}
				l.authed <- &Error{Code: code, ServerCode: e.Code, Detail: e.Detail, Message: "relay refused AUTH: " + e.Code}
			case e.Code == "reconnect":
				l.events.onReconnectRequested()
			default:
				l.events.onServerError(e.Code, e.Detail)
			}
			return
		}
		l.mu.Lock()
		s := l.byID[e.ID]
		if s != nil {
			delete(l.byID, e.ID)
			if l.byKey[subKey{s.tenant, s.pattern}] == s {
				delete(l.byKey, subKey{s.tenant, s.pattern})
			}
		}
		l.mu.Unlock()
		if s != nil {
			// Refused, or ended later (slow_consumer under the reset policy).
			l.events.onServerError(e.Code, "SUB:"+s.tenant+":"+s.pattern)
		} else {
			l.events.onServerError(e.Code, e.Detail)
		}
	case wire.TypePONG:
		l.events.onPong()
	}
}

// acceptStreams reads each subscription stream in its own goroutine: its first frame is
// OK(id), then MSG frames for that subscription only.
func (l *quicLink) acceptStreams(wg *sync.WaitGroup) {
	for {
		s, err := l.qc.AcceptUniStream(l.ctx)
		if err != nil {
			return
		}
		wg.Add(1)
		go func() { defer wg.Done(); l.readSubStream(s) }()
	}
}

func (l *quicLink) readSubStream(s *quic.ReceiveStream) {
	var dec wire.Decoder
	var sub *quicSub
	buf := make([]byte, 16<<10) // per subscription: kept small, many may be open
	for {
		n, err := s.Read(buf)
		if n > 0 {
			frames, derr := dec.Feed(buf[:n])
			for _, f := range frames {
				if sub == nil {
					ok, oerr := wire.DecodeOK(f)
					if oerr == nil {
						l.mu.Lock()
						sub = l.byID[ok.ID]
						l.mu.Unlock()
					}
					if sub == nil {
						s.CancelRead(0)
						return
					}
					continue
				}
				if f.Type == wire.TypeMSG {
					if m, merr := wire.DecodeMsg(f); merr == nil {
						l.events.onDelivery(sub.tenant, m.Channel, m.Data, []string{sub.pattern})
					}
				}
			}
			if derr != nil {
				s.CancelRead(0)
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// writeLoop writes each burst of queued control frames with one stream write. A failed write
// ends it; the control reader reports the connection's end.
func (l *quicLink) writeLoop() {
	_ = l.out.serve(l.ctx, func(arena []byte, _ []outFrame) error {
		_, err := l.ctrl.Write(arena)
		return err
	})
}

func (l *quicLink) finish(err *Error) {
	l.once.Do(func() {
		local := l.ctx.Err() != nil
		l.cancel()
		l.out.shut()
		l.qc.CloseWithError(0, "")
		l.mu.Lock()
		authPending := !l.auth
		l.auth = true
		l.mu.Unlock()
		if authPending {
			l.authed <- err
			return
		}
		if l.silent.Load() {
			return
		}
		if local {
			l.events.onClose(nil)
		} else {
			l.events.onClose(err)
		}
	})
}

func (l *quicLink) send(ctx context.Context, wait bool, build func([]byte) []byte) error {
	return l.out.add(ctx, false, wait, build)
}

func (l *quicLink) subscribe(tenant, pattern string) {
	k := subKey{tenant, pattern}
	l.mu.Lock()
	if l.byKey[k] != nil {
		// Already requested on this connection (its OK reports it); no event from here, as
		// the caller may hold the client's lock.
		l.mu.Unlock()
		return
	}
	l.nextID++
	s := &quicSub{id: l.nextID, tenant: tenant, pattern: pattern}
	l.byKey[k], l.byID[s.id] = s, s
	l.mu.Unlock()
	_ = l.send(context.Background(), false, func(b []byte) []byte {
		return append(b, wire.EncodeSub(wire.Sub{ID: s.id, Tenant: tenant, Pattern: pattern})...)
	})
}

func (l *quicLink) unsubscribe(tenant, pattern string) {
	k := subKey{tenant, pattern}
	l.mu.Lock()
	s := l.byKey[k]
	if s == nil {
		l.mu.Unlock()
		return
	}
	delete(l.byKey, k)
	l.mu.Unlock()
	_ = l.send(context.Background(), false, func(b []byte) []byte {
		return append(b, wire.EncodeUnsub(wire.Unsub{ID: s.id, Tenant: tenant, Pattern: pattern})...)
	})
}

func (l *quicLink) publish(ctx context.Context, tenant, channel string, payload []byte, mode byte, wait bool) error {
	return l.send(ctx, wait, func(b []byte) []byte { return wire.AppendPub(b, mode, tenant, channel, payload) })
}

func (l *quicLink) ping() {
	_ = l.send(context.Background(), false, func(b []byte) []byte { return append(b, wire.EncodePing(nil)...) })
}

func (l *quicLink) buffered() int                   { return l.out.pending() }
func (l *quicLink) flush(ctx context.Context) error { return l.out.flush(ctx) }

// close ends the connection without waiting; the control reader reports onClose(nil).
func (l *quicLink) close() {
	l.cancel()
	l.out.shut()
	l.qc.CloseWithError(0, "client close")
}
