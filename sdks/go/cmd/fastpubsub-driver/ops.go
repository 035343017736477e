package main

import (
	"context"
	"encoding/base64"
	"sync/atomic"
	"time"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
)

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

func strings_(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// tokenProvider mints tokens with the SDK's own CreateToken helper from the command's fields.
func (d *driver) tokenProvider(name string, spec cmd) (fastpubsub.TokenProvider, error) {
	url, err := str(spec, "url")
	if err != nil {
		return nil, err
	}
	master, err := str(spec, "masterToken")
	if err != nil {
		return nil, err
	}
	tenant, err := str(spec, "tenant")
	if err != nil {
		return nil, err
	}
	ttl, err := num(spec, "ttlSeconds")
	if err != nil {
		return nil, err
	}
	grant := fastpubsub.TenantGrant{TenantIDs: []string{tenant}, AllowChannelsPub: strings_(spec["pub"]), AllowChannelsSub: strings_(spec["sub"])}
	admin := fastpubsub.Admin{URL: url, MasterToken: master}
	return func(ctx context.Context, _ fastpubsub.TokenReason) (fastpubsub.Token, error) {
		d.out.write(map[string]any{"event": "token_provided", "client": name})
		expires := time.Now().Add(time.Duration(ttl * float64(time.Second)))
		tok, err := admin.CreateToken(ctx, fastpubsub.CreateTokenRequest{Grants: []fastpubsub.TenantGrant{grant}, ExpiresAt: expires, CreatedBy: "conformance-driver"})
		return fastpubsub.Token{Token: tok, ExpiresAt: expires}, err
	}, nil
}

func (d *driver) connect(c cmd) (map[string]any, error) {
	name := clientName(c)
	d.mu.Lock()
	old := d.clients[name]
	d.mu.Unlock()
	if old != nil {
		select {
		case <-old.client.Done(): // closed clients stay known (their commands answer "closed") until replaced
		default:
			return nil, badArg("client %s is already connected", name)
		}
	}
	opts := []fastpubsub.Option{
		fastpubsub.WithStateHandler(func(s fastpubsub.State) {
			d.out.write(map[string]any{"event": "state", "client": name, "state": string(s)})
		}),
		fastpubsub.WithErrorHandler(func(err error) {
			d.out.write(map[string]any{"event": "error", "client": name, "error": errorJSON(err)})
		}),
	}
	endpoint, _ := c["endpoint"].(string)
	if endpoint == "" {
		edges := strings_(c["edges"])
		if len(edges) == 0 {
			return nil, badArg("connect needs endpoint or edges")
		}
		opts = append(opts, fastpubsub.WithEdges(edges...))
	}
	if tok, ok := c["token"].(string); ok {
		opts = append(opts, fastpubsub.WithToken(tok))
	}
	if spec := obj(c, "tokenProvider"); spec != nil {
		p, err := d.tokenProvider(name, spec)
		if err != nil {
			return nil, err
		}
		opts = append(opts, fastpubsub.WithTokenProvider(p))
	}
	switch c["transport"] {
	case nil, "websocket":
	case "quic":
		q := obj(c, "quic")
		cfg := fastpubsub.QUICConfig{}
		cfg.Address, _ = q["address"].(string)
		cfg.CAFile, _ = q["caFile"].(string)
		cfg.ServerName, _ = q["serverName"].(string)
		opts = append(opts, fastpubsub.WithQUIC(cfg))
	default:
		return nil, badArg("unknown transport %v", c["transport"])
	}
	if r := obj(c, "reconnect"); r != nil {
		base, maxDelay := 250.0, 10000.0
		if v, ok := r["baseDelayMs"].(float64); ok {
			base = v
		}
		if v, ok := r["maxDelayMs"].(float64); ok {
			maxDelay = v
		}
		opts = append(opts, fastpubsub.WithReconnect(ms(base), ms(maxDelay), 0))
	}
	if q := obj(c, "publishQueue"); q != nil {
		if v, ok := q["maxMessages"].(float64); ok {
			opts = append(opts, fastpubsub.WithPublishQueue(int(v), fastpubsub.DropOldest))
		}
	}
	if p := obj(c, "ping"); p != nil {
		interval, timeout := 5000.0, 10000.0
		if v, ok := p["intervalMs"].(float64); ok {
			interval = v
		}
		if v, ok := p["timeoutMs"].(float64); ok {
			timeout = v
		}
		opts = append(opts, fastpubsub.WithPing(ms(interval), ms(timeout)))
	}
	if b := obj(c, "subscriptionBuffer"); b != nil {
		if v, ok := b["size"].(float64); ok {
			opts = append(opts, fastpubsub.WithSubscriptionBuffer(int(v)))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := fastpubsub.Connect(ctx, endpoint, opts...)
	if err != nil {
		return nil, err
	}
	dc := &driverClient{name: name, client: client, subs: map[string]*driverSub{}, ordered: make(chan func(), 1024)}
	d.mu.Lock()
	d.clients[name] = dc
	d.mu.Unlock()
	go func() { // lives as long as the driver: commands for a closed client still get replies
		for fn := range dc.ordered {
			fn()
		}
	}()
	go func() {
		<-client.Done()
		var e any
		if err := client.Err(); err != nil {
			e = errorJSON(err)
		}
		d.out.write(map[string]any{"event": "closed", "client": name, "error": e})
	}()
	return map[string]any{"edge": client.Edge().HTTPURL}, nil
}

func (d *driver) subscribe(c cmd) (map[string]any, error) {
	dc, err := d.getClient(c)
	if err != nil {
		return nil, err
	}
	vals, err := fields(c, str, "sub", "tenant", "pattern")
	if err != nil {
		return nil, err
	}
	name, tenant, pattern := vals[0], vals[1], vals[2]
	var opts []fastpubsub.SubscribeOption
	if v, ok := c["bufferSize"].(float64); ok {
		opts = append(opts, fastpubsub.WithBufferSize(int(v)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub, err := dc.client.Subscribe(ctx, tenant, pattern, opts...)
	if err != nil {
		return nil, err
	}
	s := &driverSub{sub: sub}
	dc.mu.Lock()
	dc.subs[name] = s
	dc.mu.Unlock()
	if paused, _ := c["paused"].(bool); !paused {
		d.consume(dc, name, s)
	}
	return map[string]any{}, nil
}

// consume emits a message event for each message the subscription yields.
func (d *driver) consume(dc *driverClient, name string, s *driverSub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active {
		return
	}
	s.active = true
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go func() {
		for {
			m, err := s.sub.Next(ctx)
			if err != nil {
				return
			}
			d.out.write(map[string]any{"event": "message", "client": dc.name, "sub": name, "tenant": m.Tenant,
				"channel": m.Channel, "payload": base64.StdEncoding.EncodeToString(m.Payload), "patterns": m.Patterns})
		}
	}()
}

func (s *driverSub) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		s.cancel()
	}
}

// throughput subscribes to channel, publishes count payloads of size bytes as fast as the SDK
// accepts them (Publish blocks on backpressure), and counts them back.
func (d *driver) throughput(c cmd) (map[string]any, error) {
	dc, err := d.getClient(c)
	if err != nil {
		return nil, err
	}
	vals, err := fields(c, str, "tenant", "channel")
	if err != nil {
		return nil, err
	}
	tenant, channel := vals[0], vals[1]
	sizes, err := fields(c, num, "count", "size")
	if err != nil {
		return nil, err
	}
	countF, size := sizes[0], sizes[1]
	timeout := 60 * time.Second
	if v, ok := c["timeoutMs"].(float64); ok {
		timeout = ms(v)
	}
	count := int(countF)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	sub, err := dc.client.Subscribe(ctx, tenant, channel, fastpubsub.WithBufferSize(max(1024, min(count, 1<<20))))
	if err != nil {
		return nil, err
	}
	defer sub.Unsubscribe(context.Background())
	payload := make([]byte, int(size))
	for i := range payload {
		payload[i] = 'a'
	}
	// At most window messages in flight (published, not yet back): end-to-end backpressure,
	// so a fast publisher never overruns the relay's per-subscriber queue.
	window := count
	if v, ok := c["window"].(float64); ok && v > 0 {
		window = int(v)
	}
	var got atomic.Int64
	progress := make(chan struct{}, 1)
	received := make(chan int, 1)
	go func() {
		n := 0
		for n < count {
			if _, err := sub.Next(ctx); err != nil {
				break
			}
			n++
			got.Store(int64(n))
			select {
			case progress <- struct{}{}:
			default:
			}
		}
		received <- n
	}()
	start := time.Now()
publish:
	for i := 0; i < count; i++ {
		if i-int(got.Load()) >= window {
			// Full: wait until half the window came back, then publish the next half as one
			// burst (one write) instead of one message per message received.
			for i-int(got.Load()) >= max(window/2, 1) {
				select {
				case <-progress:
				case <-ctx.Done():
					break publish
				}
			}
		}
		if err := dc.client.Publish(ctx, tenant, channel, payload); err != nil {
			break
		}
	}
	n := <-received
	seconds := time.Since(start).Seconds()
	return map[string]any{"received": n, "seconds": seconds, "messagesPerSecond": float64(n) / seconds}, nil
}
