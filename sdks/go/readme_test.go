package fastpubsub_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fastpubsub/fastpubsub/sdks/go/internal/relaytest"
)

// TestReadmeExample extracts the example after <!-- example:go --> from README.md and runs it
// as written (go run) against a real relay.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "<!-- example:go -->\n```go\n")
	if !ok {
		t.Fatal("README.md has no <!-- example:go --> block")
	}
	code, _, ok := strings.Cut(rest, "\n```")
	if !ok {
		t.Fatal("unterminated example block")
	}
	// Inside the module (so the import resolves), in a dot directory that ./... skips.
	dir, err := os.MkdirTemp(".", ".readme-example-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(code+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t)
	tok := mint(t, r, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "run", "./"+filepath.Base(dir))
	cmd.Env = append(os.Environ(), "FASTPUBSUB_URL="+r.URL, "FASTPUBSUB_TOKEN="+tok)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("example failed: %v\n%s", err, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != "chat.room1 hello" {
		t.Fatalf("example printed %q, want %q", got, "chat.room1 hello")
	}
}
