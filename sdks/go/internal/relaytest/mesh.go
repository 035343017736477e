package relaytest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Mesh is `fastpubsub dev`: an embedded control plane and three relays linked into a mesh
// (tokens minted at any relay are valid at every relay).
type Mesh struct {
	Relays      map[string]*MeshRelay // by name: tokyo, singapore, frankfurt
	MasterToken string                // of the ready tenant "demo"
	cmd         *exec.Cmd
	exited      chan struct{}
	mu          sync.Mutex
	logs        strings.Builder
}

// MeshRelay is one relay of the mesh; Shutdown sends it SIGTERM (graceful: RECONNECT).
type MeshRelay struct {
	Name string
	URL  string
	pid  int
}

var (
	meshRelayLine = regexp.MustCompile(`^\s+(\S+)\s+http (\S+)\s+ws \S+\s+quic \S+(?: \(udp\))?\s+mesh \S+(?: \(udp\))?\s+pid (\d+)`)
	meshTenant    = regexp.MustCompile(`^tenant:\s+demo\s+master token (\S+)`)
)

// StartMesh starts `fastpubsub dev` with the given topology JSON (see topologies/) in a
// temporary directory and stops it when the test ends.
func StartMesh(t testing.TB, topology string) *Mesh {
	t.Helper()
	dir := t.TempDir()
	topoFile := filepath.Join(t.TempDir(), "topology.json")
	if err := os.WriteFile(topoFile, []byte(topology), 0o644); err != nil {
		t.Fatal(err)
	}
	cli := filepath.Join(RepoRoot(), "packages", "cli", "bin", "fastpubsub.js")
	cmd := exec.Command("node", cli, "dev", "--dir", dir, "--topology", topoFile)
	cmd.Dir = RepoRoot()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start fastpubsub dev: %v", err)
	}
	m := &Mesh{Relays: map[string]*MeshRelay{}, cmd: cmd, exited: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			m.mu.Lock()
			if m.logs.Len() < 1<<20 {
				m.logs.WriteString(line + "\n")
			}
			if g := meshRelayLine.FindStringSubmatch(line); g != nil {
				pid, _ := strconv.Atoi(g[3])
				m.Relays[g[1]] = &MeshRelay{Name: g[1], URL: g[2], pid: pid}
			}
			if g := meshTenant.FindStringSubmatch(line); g != nil {
				m.MasterToken = g[1]
				close(ready)
			}
			m.mu.Unlock()
		}
		_ = cmd.Wait()
		close(m.exited)
	}()
	t.Cleanup(m.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	select {
	case <-ready:
	case <-m.exited:
		t.Fatalf("fastpubsub dev exited before it was ready:\n%s", m.Logs())
	case <-ctx.Done():
		t.Fatalf("fastpubsub dev not ready within 60 s:\n%s", m.Logs())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.Relays) < 2 {
		t.Fatalf("fastpubsub dev listed %d relays:\n%s", len(m.Relays), m.logs.String())
	}
	return m
}

// Logs returns what `fastpubsub dev` printed so far.
func (m *Mesh) Logs() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.logs.String()
}

// ByURL finds the relay serving url.
func (m *Mesh) ByURL(url string) (*MeshRelay, error) {
	for _, r := range m.Relays {
		if r.URL == url {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no relay at %s", url)
}

// Shutdown stops one relay of the mesh gracefully (SIGTERM: it sends RECONNECT, then drains).
func (r *MeshRelay) Shutdown() error { return syscall.Kill(r.pid, syscall.SIGTERM) }

func (m *Mesh) stop() {
	select {
	case <-m.exited:
		return
	default:
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exited:
	case <-time.After(20 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exited
	}
}
