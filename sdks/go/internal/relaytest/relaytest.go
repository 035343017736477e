// Package relaytest starts a real FastPubSub relay from this repository for tests: the CLI
// `node packages/cli/bin/fastpubsub.js relay`, on loopback, with a fresh data directory.
package relaytest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// MasterToken is the master token every test relay uses.
const MasterToken = "go-sdk-test-master-token-0123456789abcdef"

// Relay is one running relay process.
type Relay struct {
	URL      string // http://127.0.0.1:PORT
	QUICAddr string // 127.0.0.1:PORT (UDP)
	CAFile   string // the QUIC edge's generated CA
	DataDir  string
	process
}

// RepoRoot is the repository root (sdks/go/internal/relaytest → ../../../..).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", "..", "..", ".."))
}

// Start starts a relay on free ports and stops it (SIGTERM) when the test ends.
func Start(t testing.TB) *Relay {
	t.Helper()
	return StartAt(t, t.TempDir(), "127.0.0.1:0")
}

// StartAt starts a relay listening on listen (HTTP; QUIC on the next port unless the port is
// 0) with dataDir; a restart with the same values serves the same URL and tokens.
func StartAt(t testing.TB, dataDir, listen string) *Relay {
	t.Helper()
	r, err := start(dataDir, listen)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Stop() })
	return r
}

// FreePort returns a TCP port that was free a moment ago (for a relay that must restart on
// the same address).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func start(dataDir, listen string) (*Relay, error) {
	// The relay keeps secrets there and refuses a directory other users can read.
	if err := os.Chmod(dataDir, 0o700); err != nil {
		return nil, err
	}
	cmd, err := cliCommand("relay", "--listen", listen, "--master-token", MasterToken, "--data-dir", dataDir)
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot start the relay (is node installed?): %w", err)
	}
	r := &Relay{DataDir: dataDir, process: process{cmd: cmd, exited: make(chan struct{})}, CAFile: filepath.Join(dataDir, "quic", "ca.pem")}
	urlCh := make(chan string, 1)
	quicCh := make(chan string, 1)
	var readers sync.WaitGroup
	readers.Add(2)
	go func() {
		defer readers.Done()
		r.scan(stdout, func(line string) {
			if rest, ok := strings.CutPrefix(line, "fastpubsub relay listening on "); ok {
				select {
				case urlCh <- strings.Fields(rest)[0]:
				default:
				}
			}
		})
	}()
	go func() {
		defer readers.Done()
		r.scan(stderr, func(line string) {
			var entry struct {
				Msg  string `json:"msg"`
				Host string `json:"host"`
				Port int    `json:"port"`
			}
			if json.Unmarshal([]byte(line), &entry) == nil && entry.Msg == "quic edge listening" {
				select {
				case quicCh <- entry.Host + ":" + strconv.Itoa(entry.Port):
				default:
				}
			}
		})
	}()
	go func() {
		readers.Wait()
		_ = cmd.Wait()
		close(r.exited)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for r.URL == "" || r.QUICAddr == "" {
		select {
		case u := <-urlCh:
			r.URL = u
		case q := <-quicCh:
			r.QUICAddr = q
		case <-r.exited:
			return nil, fmt.Errorf("relay exited before it was ready:\n%s", r.Logs())
		case <-ctx.Done():
			r.Stop()
			return nil, fmt.Errorf("relay not ready within 30 s:\n%s", r.Logs())
		}
	}
	return r, nil
}

func (r *Relay) scan(rd io.Reader, onLine func(string)) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		r.mu.Lock()
		r.logLine(line)
		r.mu.Unlock()
		onLine(line)
	}
}

// Stop sends SIGTERM (the relay then sends RECONNECT to its clients and drains), waits up to
// 15 s, then kills it. Safe to call more than once.
func (r *Relay) Stop() { r.terminate(15 * time.Second) }

// Kill stops the relay at once (SIGKILL): clients see a lost connection.
func (r *Relay) Kill() {
	_ = r.cmd.Process.Kill()
	<-r.exited
}
