package fastpubsub

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Edge is one relay edge: its REST base and WebSocket URL.
type Edge struct {
	HTTPURL string // http(s)://host[:port]
	WSURL   string // ws(s)://host[:port]/ws unless a ws(s):// URL gave its path
}

// PingTimeout bounds GET /ping (contract v0.1 §7).
const PingTimeout = 3 * time.Second

// ParseEdge accepts https://host, http://127.0.0.1:7700, wss://host/ws or a bare host[:port]
// (which means https).
func ParseEdge(input string) (Edge, error) {
	s := strings.TrimSpace(input)
	if s == "" {
		return Edge{}, badArgument("empty edge URL")
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Edge{}, badArgument("invalid edge URL %q", input)
	}
	var secure, isWS bool
	switch strings.ToLower(u.Scheme) {
	case "http":
	case "https":
		secure = true
	case "ws":
		isWS = true
	case "wss":
		secure, isWS = true, true
	default:
		return Edge{}, badArgument("unsupported scheme in edge URL %q", input)
	}
	httpScheme, wsScheme := "http", "ws"
	if secure {
		httpScheme, wsScheme = "https", "wss"
	}
	path := "/ws"
	if isWS {
		path = u.EscapedPath()
		if u.RawQuery != "" {
			path += "?" + u.RawQuery
		}
	}
	return Edge{HTTPURL: httpScheme + "://" + u.Host, WSURL: wsScheme + "://" + u.Host + path}, nil
}

// EdgeProbe is the result of one GET /ping.
type EdgeProbe struct {
	Edge Edge
	OK   bool
	RTT  time.Duration
	Err  error
}

// PingEdge measures GET /ping on one edge; the trimmed body must be exactly "pong".
func PingEdge(ctx context.Context, edge Edge) EdgeProbe {
	ctx, cancel := context.WithTimeout(ctx, PingTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, edge.HTTPURL+"/ping", nil)
	if err != nil {
		return EdgeProbe{Edge: edge, Err: badArgument("bad edge %s: %v", edge.HTTPURL, err)}
	}
	req.Close = true // no idle keep-alive connection (and its goroutines) outlives the probe
	start := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return EdgeProbe{Edge: edge, Err: &Error{Code: CodeConnectFailed, Message: "GET " + edge.HTTPURL + "/ping failed", Err: err}}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1024))
	rtt := time.Since(start)
	if err != nil || res.StatusCode/100 != 2 || strings.TrimSpace(string(body)) != "pong" {
		return EdgeProbe{Edge: edge, Err: &Error{Code: CodeProtocol, Status: res.StatusCode, Message: "GET " + edge.HTTPURL + "/ping did not answer pong"}}
	}
	return EdgeProbe{Edge: edge, OK: true, RTT: rtt}
}

// SelectFastestEdge probes every edge in parallel and returns the fastest that answered pong;
// CodeNoEdge when none did.
func SelectFastestEdge(ctx context.Context, edges []Edge) (EdgeProbe, error) {
	if len(edges) == 0 {
		return EdgeProbe{}, badArgument("no edges to select from")
	}
	probes := make([]EdgeProbe, len(edges))
	var wg sync.WaitGroup
	for i, e := range edges {
		wg.Add(1)
		go func() {
			defer wg.Done()
			probes[i] = PingEdge(ctx, e)
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return EdgeProbe{}, ctxError(ctx)
	}
	best := -1
	for i, p := range probes {
		if p.OK && (best < 0 || p.RTT < probes[best].RTT) {
			best = i
		}
	}
	if best < 0 {
		return EdgeProbe{}, &Error{Code: CodeNoEdge, Message: "no edge answered GET /ping", Err: probes[len(probes)-1].Err}
	}
	return probes[best], nil
}
