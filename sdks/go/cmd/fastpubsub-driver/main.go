// Command fastpubsub-driver is the Go SDK's conformance driver: JSON lines on stdin (commands)
// and stdout (replies and events), as spec/conformance/driver-protocol.md defines. It uses
// only the SDK's public API.
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
)

type cmd map[string]any

// driverError is a driver-side failure (bad command) in the protocol's ERROR shape.
type driverError struct{ code, msg string }

func (e *driverError) Error() string { return e.msg }

func badArg(format string, args ...any) error {
	return &driverError{"bad_argument", fmt.Sprintf(format, args...)}
}

func errorJSON(err error) map[string]any {
	var fe *fastpubsub.Error
	if errors.As(err, &fe) {
		var server any
		if fe.ServerCode != "" {
			server = fe.ServerCode
		}
		return map[string]any{"code": string(fe.Code), "serverCode": server, "message": fe.Error()}
	}
	var de *driverError
	if errors.As(err, &de) {
		return map[string]any{"code": de.code, "serverCode": nil, "message": de.msg}
	}
	return map[string]any{"code": "bad_argument", "serverCode": nil, "message": err.Error()}
}

// out serialises every line written to stdout.
type out struct {
	mu sync.Mutex
	w  *bufio.Writer
}

func (o *out) write(v map[string]any) {
	line, err := json.Marshal(v)
	if err != nil {
		fmt.Fprintln(os.Stderr, "driver: cannot encode", err)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.w.Write(line)
	o.w.WriteByte('\n')
	o.w.Flush()
}

type driverSub struct {
	sub    *fastpubsub.Subscription
	mu     sync.Mutex
	active bool
	cancel context.CancelFunc
}

type driverClient struct {
	name   string
	client *fastpubsub.Client
	mu     sync.Mutex
	subs   map[string]*driverSub
	// ordered runs publish and flush commands one after the other, in arrival order.
	ordered chan func()
}

type driver struct {
	out     *out
	mu      sync.Mutex
	clients map[string]*driverClient
	wg      sync.WaitGroup
}

func str(c cmd, key string) (string, error) {
	v, ok := c[key].(string)
	if !ok {
		return "", badArg("%q must be a string", key)
	}
	return v, nil
}

func num(c cmd, key string) (float64, error) {
	v, ok := c[key].(float64)
	if !ok {
		return 0, badArg("%q must be a number", key)
	}
	return v, nil
}

// fields reads several fields with read (str or num), in the order of keys, or names the first
// missing or mistyped one.
func fields[T any](c cmd, read func(cmd, string) (T, error), keys ...string) ([]T, error) {
	vals := make([]T, len(keys))
	for i, key := range keys {
		v, err := read(c, key)
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

func obj(c cmd, key string) cmd {
	if v, ok := c[key].(map[string]any); ok {
		return v
	}
	return nil
}

func clientName(c cmd) string {
	if v, ok := c["client"].(string); ok {
		return v
	}
	return "default"
}

func (d *driver) getClient(c cmd) (*driverClient, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dc := d.clients[clientName(c)]
	if dc == nil {
		return nil, badArg("no client named %s", clientName(c))
	}
	return dc, nil
}

func (d *driver) getSub(c cmd) (*driverClient, *driverSub, string, error) {
	dc, err := d.getClient(c)
	if err != nil {
		return nil, nil, "", err
	}
	name, err := str(c, "sub")
	if err != nil {
		return nil, nil, "", err
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	s := dc.subs[name]
	if s == nil {
		return nil, nil, "", badArg("no subscription named %s", name)
	}
	return dc, s, name, nil
}

func main() {
	d := &driver{out: &out{w: bufio.NewWriter(os.Stdout)}, clients: map[string]*driverClient{}}
	d.out.write(map[string]any{"event": "ready", "sdk": "go", "transports": []string{"websocket", "quic"}})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 16<<20)
	for in.Scan() {
		line := in.Bytes()
		if len(line) == 0 {
			continue
		}
		var c cmd
		if err := json.Unmarshal(line, &c); err != nil {
			fmt.Fprintf(os.Stderr, "driver: not JSON: %.200s\n", line)
			continue
		}
		id := c["id"]
		if c["op"] == "exit" {
			d.exit(id)
		}
		d.dispatch(id, c)
	}
	d.exit(nil)
}

func (d *driver) reply(id any, result map[string]any, err error) {
	if err != nil {
		d.out.write(map[string]any{"id": id, "ok": false, "error": errorJSON(err)})
		return
	}
	r := map[string]any{"id": id, "ok": true}
	for k, v := range result {
		r[k] = v
	}
	d.out.write(r)
}

// dispatch runs each command in its own goroutine (replies may come in any order), except
// publish and flush, which keep their order per client.
func (d *driver) dispatch(id any, c cmd) {
	run := func() {
		res, err := d.handle(c)
		d.reply(id, res, err)
	}
	if op := c["op"]; op == "publish" || op == "flush" {
		if dc, err := d.getClient(c); err == nil {
			dc.ordered <- run
			return
		}
	}
	d.wg.Add(1)
	go func() { defer d.wg.Done(); run() }()
}

func (d *driver) exit(id any) {
	// Commands in progress get their reply first (bounded: a stuck one does not hold the exit).
	idle := make(chan struct{})
	go func() { d.wg.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-time.After(2 * time.Second):
	}
	d.mu.Lock()
	clients := make([]*driverClient, 0, len(d.clients))
	for _, dc := range d.clients {
		clients = append(clients, dc)
	}
	d.mu.Unlock()
	for _, dc := range clients {
		dc.client.Close()
	}
	if id != nil {
		d.out.write(map[string]any{"id": id, "ok": true})
	}
	os.Exit(0)
}

func (d *driver) handle(c cmd) (map[string]any, error) {
	switch c["op"] {
	case "connect":
		return d.connect(c)
	case "subscribe":
		return d.subscribe(c)
	case "unsubscribe":
		dc, s, name, err := d.getSub(c)
		if err != nil {
			return nil, err
		}
		s.stop()
		dc.mu.Lock()
		delete(dc.subs, name)
		dc.mu.Unlock()
		return map[string]any{}, s.sub.Unsubscribe(context.Background())
	case "resume":
		dc, s, name, err := d.getSub(c)
		if err != nil {
			return nil, err
		}
		d.consume(dc, name, s)
		return map[string]any{}, nil
	case "publish":
		return d.publish(c)
	case "flush":
		dc, err := d.getClient(c)
		if err != nil {
			return nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return map[string]any{}, dc.client.Flush(ctx)
	case "stats":
		if _, ok := c["sub"]; ok {
			_, s, _, err := d.getSub(c)
			if err != nil {
				return nil, err
			}
			st := s.sub.Stats()
			return map[string]any{"received": st.Received, "dropped": st.Dropped}, nil
		}
		dc, err := d.getClient(c)
		if err != nil {
			return nil, err
		}
		st := dc.client.Stats()
		return map[string]any{"published": st.Published, "queued": st.Queued, "queueDropped": st.QueueDropped, "reconnects": st.Reconnects}, nil
	case "ping":
		dc, err := d.getClient(c)
		if err != nil {
			return nil, err
		}
		var rtt any
		if r, ok := dc.client.RTT(); ok {
			rtt = float64(r.Microseconds()) / 1000
		}
		return map[string]any{"rttMs": rtt}, nil
	case "close":
		d.mu.Lock()
		dc := d.clients[clientName(c)]
		d.mu.Unlock()
		if dc != nil {
			dc.client.Close()
		}
		return map[string]any{}, nil
	case "throughput":
		return d.throughput(c)
	default:
		return nil, badArg("unknown op %v", c["op"])
	}
}

func deliveryMode(v any) (fastpubsub.Delivery, error) {
	switch v {
	case nil, "broadcast":
		return fastpubsub.Broadcast, nil
	case "one-low-latency":
		return fastpubsub.OneLowLatency, nil
	case "one-random":
		return fastpubsub.OneRandom, nil
	}
	return 0, badArg("unknown delivery %v", v)
}

func (d *driver) publish(c cmd) (map[string]any, error) {
	dc, err := d.getClient(c)
	if err != nil {
		return nil, err
	}
	vals, err := fields(c, str, "tenant", "channel", "payload")
	if err != nil {
		return nil, err
	}
	tenant, channel, p64 := vals[0], vals[1], vals[2]
	payload, err := base64.StdEncoding.DecodeString(p64)
	if err != nil {
		return nil, badArg("payload is not base64: %v", err)
	}
	mode, err := deliveryMode(c["delivery"])
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return map[string]any{}, dc.client.Publish(ctx, tenant, channel, payload, fastpubsub.WithDelivery(mode))
}
