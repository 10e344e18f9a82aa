package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"switchboard/internal/testprog"
	"switchboard/socketio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(cleanupM{m}) }

// cleanupM removes what the tests built (the chat program) once they have
// run, before goleak looks for leaked goroutines.
type cleanupM struct{ *testing.M }

func (m cleanupM) Run() int {
	defer testprog.Remove()
	return m.M.Run()
}

// waitTimeout bounds every wait for something the other side must do. It is
// generous: the race detector and two shared cores make everything slower.
const waitTimeout = 10 * time.Second

var (
	envOnce sync.Once
	envErr  error
	nodeBin string
)

// requireNode fails the test (never skips it) when Node or the npm packages
// of this directory are missing.
func requireNode(t *testing.T) {
	t.Helper()
	envOnce.Do(func() {
		var err error
		if nodeBin, err = exec.LookPath("node"); err != nil {
			envErr = fmt.Errorf("node is not installed (Node 20+ is needed): %w", err)
			return
		}
		for _, pkg := range []string{"socket.io-client", "playwright-core", "socket.io", "engine.io"} {
			if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
				envErr = fmt.Errorf("test/interop/node_modules/%s is missing (%v): run `scripts/deps.sh all` from the repository root", pkg, err)
				return
			}
		}
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
}

// requireBundle fails the test when the browser client bundle was not built
// into the server.
func requireBundle(t *testing.T) {
	t.Helper()
	if !socketio.ClientBundleAvailable() {
		t.Fatal("the socket.io client bundle is not embedded in the server: run `scripts/deps.sh all` from the repository root, then rerun the tests")
	}
}

// chromiumPath is the browser js/browser.mjs drives ($CHROMIUM overrides).
func chromiumPath() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// requireChromium fails the test when the browser is missing.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath()); err != nil {
		t.Fatalf("Chromium is missing (%v): run `scripts/deps.sh all` from the repository root (it installs Debian's chromium)", err)
	}
}
