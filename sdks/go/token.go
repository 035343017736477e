package fastpubsub

import "time"

// refreshToken asks the provider for a new token; concurrent callers share one call.
func (c *Client) refreshToken(reason TokenReason) error {
	provider := c.opts.tokenProvider
	if provider == nil {
		return newError(CodeTokenProvider, "no token provider to refresh the token")
	}
	c.mu.Lock()
	if ch := c.refreshing; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-c.closeCtx.Done():
			return newError(CodeClosed, "client closed")
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.refreshErr
	}
	ch := make(chan struct{})
	c.refreshing = ch
	c.mu.Unlock()

	tok, err := provider(c.closeCtx, reason)
	if err == nil && tok.Token == "" {
		err = newError(CodeTokenProvider, "the token provider returned no token")
	}
	if err != nil {
		err = &Error{Code: CodeTokenProvider, Message: "token provider failed: " + err.Error(), Err: err}
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.refreshing = nil
	c.refreshErr = err
	close(ch)
	if err != nil {
		c.reportLocked(err)
		return err
	}
	c.token, c.tokenExpires = tok.Token, tok.ExpiresAt
	c.scheduleTokenRefreshLocked()
	return nil
}

// refreshAsyncLocked refreshes in the background, then migrates make-before-break to a
// connection that uses the new token.
func (c *Client) refreshAsyncLocked(reason TokenReason) {
	if c.state == StateClosed {
		return
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		err := c.refreshToken(reason)
		c.mu.Lock()
		defer c.mu.Unlock()
		if err == nil && c.active != nil {
			c.startLoopLocked()
		} else if err != nil && c.state != StateClosed {
			// Try again shortly; the current connection keeps working meanwhile.
			c.armTokenTimerLocked(2*time.Second, reason)
		}
	}()
}

// scheduleTokenRefreshLocked arms a refresh RefreshMargin before a known expiry (or halfway
// there when the token is shorter-lived than twice the margin).
func (c *Client) scheduleTokenRefreshLocked() {
	if c.tokenExpires.IsZero() || c.opts.tokenProvider == nil || c.state == StateClosed {
		return
	}
	remaining := time.Until(c.tokenExpires)
	margin := min(c.opts.refreshMargin, max(0, remaining/2))
	reason := TokenExpiring
	if remaining-margin <= 0 {
		reason = TokenExpired
	}
	c.armTokenTimerLocked(max(0, remaining-margin), reason)
}

func (c *Client) armTokenTimerLocked(d time.Duration, reason TokenReason) {
	if c.tokenTimer != nil {
		c.tokenTimer.Stop()
	}
	c.tokenTimer = time.AfterFunc(d, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.refreshAsyncLocked(reason)
	})
}
