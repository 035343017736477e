package relaytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// maxLogBytes bounds what a process's output is kept for test failure messages.
const maxLogBytes = 1 << 20

// process is the bookkeeping a relay and a dev mesh share: the `fastpubsub` CLI child, when it
// exited, and what it printed.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	mu     sync.Mutex // guards logs (and, for a Mesh, what its output reader fills in)
	logs   strings.Builder
}

// cliCommand is `node packages/cli/bin/fastpubsub.js args...` run from the repository root.
func cliCommand(args ...string) (*exec.Cmd, error) {
	cli := filepath.Join(RepoRoot(), "packages", "cli", "bin", "fastpubsub.js")
	if _, err := os.Stat(cli); err != nil {
		return nil, fmt.Errorf("relay CLI missing (%s): run npm ci and npm run build at the repo root: %w", cli, err)
	}
	cmd := exec.Command("node", append([]string{cli}, args...)...)
	cmd.Dir = RepoRoot()
	return cmd, nil
}

// logLine keeps one line of output (up to maxLogBytes in all); the caller holds mu.
func (p *process) logLine(line string) {
	if p.logs.Len() < maxLogBytes {
		p.logs.WriteString(line + "\n")
	}
}

// Logs returns what the process printed so far.
func (p *process) Logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// terminate sends SIGTERM (graceful: relays send RECONNECT and drain), waits up to grace, then
// kills. Safe to call more than once.
func (p *process) terminate(grace time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}
