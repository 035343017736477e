package fastpubsub

import (
	"context"
	"strings"
	"time"
)

// connEvents routes one connection's transport events to the client.
type connEvents struct {
	c  *Client
	cn *conn
}

func (e connEvents) onDelivery(tenant, channel string, payload []byte, patterns []string) {
	e.c.onDelivery(e.cn, tenant, channel, payload, patterns)
}
func (e connEvents) onSubscribed(tenant, pattern string) { e.c.onSubscribed(e.cn, tenant, pattern) }
func (e connEvents) onPong()                             { e.c.onPong(e.cn) }
func (e connEvents) onServerError(code, detail string)   { e.c.onServerError(e.cn, code, detail) }
func (e connEvents) onReconnectRequested() {
	e.c.mu.Lock()
	defer e.c.mu.Unlock()
	if e.cn == e.c.active && e.cn.alive {
		// The edge is going away: migrate, to another edge of the list when there is one.
		e.cn.leaving = true
		e.c.startLoopLocked()
	}
}
func (e connEvents) onClose(err error) { e.c.onConnClosed(e.cn, err) }

func (c *Client) pickEdge(reselect bool) (Edge, error) {
	c.mu.Lock()
	cur := c.edge
	leaving := c.active != nil && c.active.leaving
	c.mu.Unlock()
	if len(c.candidates) == 1 {
		return c.candidates[0], nil
	}
	candidates := c.candidates
	if leaving { // RECONNECT: the current edge is shutting down
		candidates = nil
		for _, e := range c.candidates {
			if e != cur {
				candidates = append(candidates, e)
			}
		}
		reselect = true
	}
	if !reselect && cur != (Edge{}) {
		return cur, nil
	}
	p, err := SelectFastestEdge(c.closeCtx, candidates)
	return p.Edge, err
}

// openAndSubscribe opens a connection, sends every SUB and returns once every OK:SUB arrived.
func (c *Client) openAndSubscribe(reselect bool) (*conn, error) {
	edge, err := c.pickEdge(reselect)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	token := c.token
	c.mu.Unlock()
	cn := &conn{edge: edge, alive: true, confirmed: map[subKey]struct{}{}, awaiting: map[subKey]struct{}{}, failed: make(chan error, 1)}
	openCtx, cancel := context.WithTimeout(c.closeCtx, c.opts.openTimeout)
	l, err := c.transport.open(openCtx, openParams{edge: edge, token: token, events: connEvents{c, cn}, timeout: c.opts.openTimeout, wg: &c.wg, opts: &c.opts})
	cancel()
	if err != nil {
		if c.closeCtx.Err() != nil {
			return nil, newError(CodeClosed, "client closed")
		}
		return nil, err
	}
	c.mu.Lock()
	cn.link = l
	if c.state == StateClosed || !cn.alive {
		c.mu.Unlock()
		l.close()
		return nil, newError(CodeConnectFailed, "connection closed while opening")
	}
	c.conns[cn] = struct{}{}
	if len(c.conns) >= 2 {
		for other := range c.conns {
			c.overlap.track(other)
		}
	}
	for k := range c.entries {
		cn.awaiting[k] = struct{}{}
		l.subscribe(k.tenant, k.pattern)
	}
	var all chan struct{}
	if len(cn.awaiting) > 0 {
		all = make(chan struct{})
		cn.allConfirmed = all
	}
	c.mu.Unlock()
	if all == nil {
		return cn, nil
	}
	timer := time.NewTimer(c.opts.resubscribeTimout)
	defer timer.Stop()
	select {
	case <-all:
		return cn, nil
	case err = <-cn.failed:
	case <-timer.C:
		err = newError(CodeTimeout, "no OK:SUB for every subscription within %v", c.opts.resubscribeTimout)
	case <-c.closeCtx.Done():
		err = newError(CodeClosed, "client closed")
	}
	c.mu.Lock()
	c.dropConnLocked(cn)
	c.mu.Unlock()
	return nil, err
}

func (c *Client) switchToLocked(cn *conn) {
	if c.state == StateClosed || !cn.alive {
		c.dropConnLocked(cn)
		return
	}
	old := c.active
	cn.role = roleActive
	c.active = cn
	c.edge = cn.edge
	if c.everConnected {
		c.stats.Reconnects++
	}
	c.everConnected = true
	if old != nil && old.alive && old != cn {
		old.role = roleDraining
		if old.pingTimer != nil {
			old.pingTimer.Stop()
		}
		old.drainTimer = time.AfterFunc(c.opts.overlap, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			c.dropConnLocked(old)
		})
	}
	for k, e := range c.entries {
		if _, ok := cn.confirmed[k]; !ok {
			continue
		}
		for w := range e.waiters {
			w <- nil
		}
		clear(e.waiters)
	}
	c.setStateLocked(StateConnected)
	queue := c.queue
	c.queue = nil
	for _, m := range queue {
		if cn.link.publish(context.Background(), m.tenant, m.channel, m.payload, m.mode, false) == nil {
			c.stats.Published++
		}
	}
	c.schedulePingLocked(cn, 0)
}

func (c *Client) dropConnLocked(cn *conn) {
	if !cn.alive {
		return
	}
	cn.alive = false
	if cn.pingTimer != nil {
		cn.pingTimer.Stop()
	}
	if cn.drainTimer != nil {
		cn.drainTimer.Stop()
	}
	delete(c.conns, cn)
	c.overlap.forget(cn)
	select {
	case cn.failed <- newError(CodeConnectFailed, "connection closed before every OK:SUB arrived"):
	default:
	}
	if cn.link != nil {
		cn.link.close()
	}
}

func (c *Client) onConnClosed(cn *conn, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	wasActive := cn == c.active && cn.alive
	if cn.alive && err != nil {
		select {
		case cn.failed <- err:
		default:
		}
	}
	c.dropConnLocked(cn)
	if !wasActive || c.state == StateClosed {
		return
	}
	c.active = nil
	if !c.opts.reconnect {
		if err == nil {
			err = newError(CodeConnectFailed, "connection closed")
		}
		c.shutdownLocked(err)
		return
	}
	c.setStateLocked(StateReconnecting)
	c.startLoopLocked()
}

func (c *Client) startLoopLocked() {
	if c.loopRunning || c.state == StateClosed {
		return
	}
	c.loopRunning = true
	c.wg.Add(1)
	go c.reconnectLoop()
}

// reconnectLoop opens a new connection (make-before-break when the active one still works),
// with exponential backoff and full jitter between attempts. A 401 is terminal unless a token
// provider gives a token the edge accepts.
func (c *Client) reconnectLoop() {
	defer c.wg.Done()
	defer func() {
		c.mu.Lock()
		c.loopRunning = false
		c.mu.Unlock()
	}()
	attempt, unauthorized := 0, 0
	for c.closeCtx.Err() == nil {
		cn, err := c.openAndSubscribe(attempt > 0)
		if err == nil {
			c.mu.Lock()
			c.switchToLocked(cn)
			c.mu.Unlock()
			return
		}
		if c.closeCtx.Err() != nil {
			return
		}
		if isCode(err, CodeUnauthorized) {
			unauthorized++
			if c.opts.tokenProvider == nil || unauthorized > 1 || c.refreshToken(TokenUnauthorized) != nil {
				c.mu.Lock()
				c.shutdownLocked(err)
				c.mu.Unlock()
				return
			}
			continue // retry at once with the new token
		}
		unauthorized = 0
		attempt++
		c.mu.Lock()
		c.reportLocked(err)
		if a := c.active; a != nil && a.leaving {
			// The edge asked us to leave and no new connection could be made: stop using the
			// doomed one, so publishes queue until a connection is back.
			c.dropConnLocked(a)
			c.active = nil
			c.setStateLocked(StateReconnecting)
		}
		if c.opts.maxAttempts > 0 && attempt >= c.opts.maxAttempts {
			if c.active == nil {
				c.shutdownLocked(err)
			}
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
		select {
		case <-time.After(backoffDelay(attempt, c.opts.baseDelay, c.opts.maxDelay)):
		case <-c.closeCtx.Done():
			return
		}
	}
}

func (c *Client) onDelivery(cn *conn, tenant, channel string, payload []byte, patterns []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !cn.alive {
		return
	}
	checkDup := c.overlap.active()
	for _, p := range patterns {
		e := c.entries[subKey{tenant, p}]
		if e == nil {
			continue // unsubscribed meanwhile
		}
		if checkDup && !c.overlap.accept(cn, c.overlap.key(p, tenant, channel, payload)) {
			c.stats.DuplicatesDropped++
			continue
		}
		m := Message{Tenant: tenant, Channel: channel, Payload: payload, Patterns: patterns}
		for s := range e.subs {
			s.push(m)
		}
	}
}

func (c *Client) onSubscribed(cn *conn, tenant, pattern string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := subKey{tenant, pattern}
	e := c.entries[k]
	if e == nil {
		return
	}
	cn.confirmed[k] = struct{}{}
	cn.confirm(k)
	if cn == c.active {
		for w := range e.waiters {
			w <- nil
		}
		clear(e.waiters)
	}
}

func (c *Client) onServerError(cn *conn, code, detail string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	serr := &Error{Code: CodeServer, ServerCode: code, Detail: detail, Message: "edge error: " + code}
	if detail != "" {
		serr.Message += ": " + detail
	}
	// A refused SUB names itself: ERR:{code}:SUB:{tenant}:{pattern}.
	if rest, ok := strings.CutPrefix(detail, "SUB:"); ok {
		tenant, pattern, _ := strings.Cut(rest, ":")
		if e := c.entries[subKey{tenant, pattern}]; e != nil {
			c.failEntryLocked(e, serr)
		}
	}
	if code == "token_expired" && cn == c.active && c.opts.tokenProvider != nil {
		c.refreshAsyncLocked(TokenExpired)
	}
	c.reportLocked(serr)
}

func (c *Client) failEntryLocked(e *entry, err *Error) {
	k := subKey{e.tenant, e.pattern}
	delete(c.entries, k)
	for w := range e.waiters {
		w <- err
	}
	for s := range e.subs {
		s.end(err)
	}
	for cn := range c.conns {
		delete(cn.confirmed, k)
		cn.confirm(k)
	}
}

// ---- ping -------------------------------------------------------------------------------

func (c *Client) schedulePingLocked(cn *conn, delay time.Duration) {
	if c.opts.pingInterval <= 0 {
		return
	}
	if cn.pingTimer != nil {
		cn.pingTimer.Stop()
	}
	cn.pingTimer = time.AfterFunc(delay, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if !cn.alive || cn != c.active {
			return
		}
		cn.pingSentAt = time.Now()
		cn.link.ping()
		cn.pingTimer = time.AfterFunc(c.opts.pingTimeout, func() {
			// No PONG in time: the connection counts as lost (contract v0.1 §4).
			c.mu.Lock()
			alive := cn.alive
			c.mu.Unlock()
			if alive {
				c.onConnClosed(cn, newError(CodeTimeout, "no PONG within %v", c.opts.pingTimeout))
			}
		})
	})
}

func (c *Client) onPong(cn *conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cn.pingSentAt.IsZero() {
		return
	}
	rtt := time.Since(cn.pingSentAt)
	cn.pingSentAt = time.Time{}
	if cn != c.active || !cn.alive {
		return
	}
	c.rtt = max(rtt, time.Nanosecond)
	c.schedulePingLocked(cn, c.opts.pingInterval)
}
