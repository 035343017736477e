package relaytest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Mesh is `fastpubsub dev`: an embedded control plane and three relays linked into a mesh
// (tokens minted at any relay are valid at every relay).
type Mesh struct {
	Relays      map[string]*MeshRelay // by name: tokyo, singapore, frankfurt
	MasterToken string                // of the ready tenant "demo"
	process
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
	cmd, err := cliCommand("dev", "--dir", dir, "--topology", topoFile)
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("cannot start fastpubsub dev: %v", err)
	}
	m := &Mesh{Relays: map[string]*MeshRelay{}, process: process{cmd: cmd, exited: make(chan struct{})}}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			m.mu.Lock()
			m.logLine(line)
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
	t.Cleanup(func() { m.terminate(20 * time.Second) })
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
