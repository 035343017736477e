package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	fastpubsub "github.com/fastpubsub/fastpubsub/sdks/go"
	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

// TestDriverProtocol runs the built driver as the conformance runner does: JSON lines over
// stdin/stdout against a real relay, over both transports.
func TestDriverProtocol(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "driver")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	r := relaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tok, err := fastpubsub.Admin{URL: r.URL, MasterToken: relaytest.MasterToken}.CreateToken(ctx, fastpubsub.CreateTokenRequest{
		Grants:    []fastpubsub.TenantGrant{{TenantIDs: []string{"t1"}, AllowChannelsPub: []string{"a.#"}, AllowChannelsSub: []string{"a.#"}}},
		ExpiresAt: time.Now().Add(time.Hour), CreatedBy: "driver-test",
	})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin)
	cmd.Dir = relaytest.RepoRoot()
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	lines := make(chan map[string]any, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("driver wrote a non-JSON line %q", sc.Text())
				continue
			}
			lines <- m
		}
	}()
	last := "ready"
	var backlog []map[string]any // lines read while looking for another one (order is free)
	next := func(match func(map[string]any) bool) map[string]any {
		t.Helper()
		for i, m := range backlog {
			if match(m) {
				backlog = append(backlog[:i], backlog[i+1:]...)
				return m
			}
		}
		for {
			select {
			case m, ok := <-lines:
				if !ok {
					t.Fatal("driver exited")
				}
				if match(m) {
					return m
				}
				backlog = append(backlog, m)
			case <-time.After(15 * time.Second):
				t.Fatalf("driver: no expected line within 15 s (after %s)", last)
			}
		}
	}
	id := 0
	call := func(c map[string]any) map[string]any {
		t.Helper()
		id++
		c["id"] = id
		last = fmt.Sprint(c["op"], " ", c["client"])
		b, _ := json.Marshal(c)
		if _, err := io.WriteString(stdin, string(b)+"\n"); err != nil {
			t.Fatal(err)
		}
		want := float64(id)
		return next(func(m map[string]any) bool { return m["id"] == want })
	}
	ready := next(func(m map[string]any) bool { return m["event"] == "ready" })
	if ready["sdk"] != "go" || fmt.Sprint(ready["transports"]) != "[websocket quic]" {
		t.Fatalf("ready %v", ready)
	}
	for _, transport := range []string{"websocket", "quic"} {
		client := "c-" + transport
		res := call(map[string]any{"op": "connect", "client": client, "endpoint": r.URL, "token": tok, "transport": transport,
			"quic": map[string]any{"address": r.QUICAddr, "caFile": r.CAFile, "serverName": "localhost"}})
		if res["ok"] != true || res["edge"] != r.URL {
			t.Fatalf("connect: %v", res)
		}
		if res := call(map[string]any{"op": "subscribe", "client": client, "sub": "s", "tenant": "t1", "pattern": "a.#"}); res["ok"] != true {
			t.Fatalf("subscribe: %v", res)
		}
		payload := base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 255})
		if res := call(map[string]any{"op": "publish", "client": client, "tenant": "t1", "channel": "a.b", "payload": payload}); res["ok"] != true {
			t.Fatalf("publish: %v", res)
		}
		msg := next(func(m map[string]any) bool { return m["event"] == "message" && m["client"] == client })
		if msg["payload"] != payload || msg["channel"] != "a.b" || fmt.Sprint(msg["patterns"]) != "[a.#]" {
			t.Fatalf("message %v", msg)
		}
		res = call(map[string]any{"op": "publish", "client": client, "tenant": "t1", "channel": "a.*", "payload": ""})
		if e, _ := res["error"].(map[string]any); res["ok"] != false || e["code"] != "bad_argument" {
			t.Fatalf("wildcard publish: %v", res)
		}
		res = call(map[string]any{"op": "subscribe", "client": client, "sub": "x", "tenant": "t1", "pattern": "b.#"})
		if e, _ := res["error"].(map[string]any); e["code"] != "server" || e["serverCode"] != "permission_denied" {
			t.Fatalf("forbidden subscribe: %v", res)
		}
		if res := call(map[string]any{"op": "stats", "client": client, "sub": "s"}); res["received"] != float64(1) {
			t.Fatalf("sub stats: %v", res)
		}
		if res := call(map[string]any{"op": "unsubscribe", "client": client, "sub": "s"}); res["ok"] != true {
			t.Fatalf("unsubscribe: %v", res)
		}
		res = call(map[string]any{"op": "throughput", "client": client, "tenant": "t1", "channel": "a.tp", "count": 2000, "size": 256, "timeoutMs": 20000})
		if res["ok"] != true || res["received"] != float64(2000) {
			t.Fatalf("throughput: %v", res)
		}
		if res := call(map[string]any{"op": "close", "client": client}); res["ok"] != true {
			t.Fatalf("close: %v", res)
		}
		last = "closed event of " + client
		closed := next(func(m map[string]any) bool { return m["event"] == "closed" && m["client"] == client })
		if closed["error"] != nil {
			t.Fatalf("closed: %v", closed)
		}
	}
	if res := call(map[string]any{"op": "bogus"}); res["ok"] != false {
		t.Fatalf("unknown op: %v", res)
	}
	if res := call(map[string]any{"op": "exit"}); res["ok"] != true {
		t.Fatalf("exit: %v", res)
	}
}

// TestFieldReaders checks the command field readers: values in the order asked, the first
// missing or mistyped field named in a bad_argument error.
func TestFieldReaders(t *testing.T) {
	c := cmd{"tenant": "t1", "channel": "a.b", "count": 3.0, "size": "big"}
	got, err := fields(c, str, "channel", "tenant")
	if err != nil || len(got) != 2 || got[0] != "a.b" || got[1] != "t1" {
		t.Fatalf("fields(str) = %v, %v", got, err)
	}
	for _, keys := range [][]string{{"tenant", "payload"}, {"count"}} {
		_, err := fields(c, str, keys...)
		var de *driverError
		if !errors.As(err, &de) || de.code != "bad_argument" || !strings.Contains(de.msg, fmt.Sprintf("%q", keys[len(keys)-1])) {
			t.Fatalf("fields(str, %v) error = %v", keys, err)
		}
	}
	if _, err := fields(c, num, "count", "size"); err == nil || !strings.Contains(err.Error(), `"size" must be a number`) {
		t.Fatalf("fields(num) error = %v", err)
	}
	if n, err := fields(c, num, "count"); err != nil || n[0] != 3 {
		t.Fatalf("fields(num) = %v, %v", n, err)
	}
}
