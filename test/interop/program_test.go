package interop

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/internal/testprog"
)

// The chat tests run the real program, cmd/switchboard, as a child process:
// built once per test binary, started per test on a free port of 127.0.0.1
// with its own database file.
//
// SWITCHBOARD_PROGRAM_RACE=1 builds the program with the race detector (a
// race it reports fails the test). Not the default: bcrypt under the race
// detector makes each registration cost seconds on a small machine.

// program is the chat server running as a child process. Stop and start
// it again to restart it on the same address and database.
type program struct {
	t    *testing.T
	Addr string // 127.0.0.1:port
	URL  string // http://127.0.0.1:port
	DB   string
	args []string // extra flags

	mu     sync.Mutex
	cmd    *exec.Cmd
	done   chan struct{} // closed when the current process has exited
	stderr *lockedBuffer // of the current process
	logs   []string      // stderr of the processes that ended
}

// pingFlags are the heartbeat settings of the chat tests: a lost client is
// counted out about half a second after it stops answering.
var pingFlags = []string{"--ping-interval", "300ms", "--ping-timeout", "200ms"}

// startProgram runs the chat server on a free port with a new database;
// args are extra flags. The process is stopped when the test ends.
func startProgram(t *testing.T, args ...string) *program {
	t.Helper()
	bin := testprog.Binary(t)
	p := &program{t: t, DB: filepath.Join(t.TempDir(), "chat.db"), args: args}
	t.Cleanup(p.cleanup)
	var err error
	for range 5 { // a port found free may be taken before the program listens
		p.Addr, err = freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p.URL = "http://" + p.Addr
		if err = p.run(bin); err == nil {
			return p
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	t.Fatal(err)
	return nil
}

// freeAddr returns an address of 127.0.0.1 with a port nobody listens on.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs the program again on the same address and database.
func (p *program) start(t *testing.T) {
	t.Helper()
	if err := p.run(testprog.Binary(t)); err != nil {
		t.Fatal(err)
	}
}

// run starts the process and waits until it answers GET /healthz.
func (p *program) run(bin string) error {
	args := append([]string{"--addr", p.Addr, "--db", p.DB, "--log-level", "warn", "--shutdown-timeout", "3s"}, pingFlags...)
	cmd := exec.Command(bin, append(args, p.args...)...)
	cmd.Env = append(os.Environ(), "GORACE=halt_on_error=0")
	stderr := &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	p.mu.Lock()
	p.cmd, p.done, p.stderr = cmd, done, stderr
	p.mu.Unlock()

	tr := ownTransport(p.t)
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: time.Second, Transport: tr}
	deadline := time.Now().Add(waitTimeout)
	for {
		select {
		case <-done:
			p.ended()
			return fmt.Errorf("switchboard exited at start (%v): %s", cmd.ProcessState, stderr.String())
		default:
		}
		if res, err := client.Get(p.URL + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			p.kill()
			return fmt.Errorf("switchboard did not answer GET /healthz within %v: %s", waitTimeout, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits for the graceful exit, which must succeed
// (exit code 0) within a few seconds.
func (p *program) stop(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		t.Fatal("the program is not running")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	select {
	case <-done:
	case <-time.After(waitTimeout):
		p.kill()
		t.Fatalf("switchboard did not exit within %v of SIGTERM", waitTimeout)
	}
	state := cmd.ProcessState
	p.ended()
	if !state.Success() {
		t.Errorf("switchboard exited with %v after SIGTERM, want 0", state)
	}
}

// signal sends sig to the current process (SIGSTOP freezes it, as a server
// that hangs; SIGCONT resumes it).
func (p *program) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.mu.Lock()
	cmd := p.cmd
	p.mu.Unlock()
	if cmd == nil {
		t.Fatal("the program is not running")
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
}

// kill ends the current process with SIGKILL and waits for it.
func (p *program) kill() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
	p.ended()
}

// ended files the log of the process that exited.
func (p *program) ended() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		p.logs = append(p.logs, p.stderr.String())
		p.cmd, p.done, p.stderr = nil, nil, nil
	}
}

// cleanup stops the program (SIGTERM, then SIGKILL after a deadline) and
// checks its logs: a data race or a panic fails the test; on failure the
// logs are shown.
func (p *program) cleanup() {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd != nil {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		p.ended()
	}
	p.mu.Lock()
	logs := strings.Join(p.logs, "\n--- restarted ---\n")
	p.mu.Unlock()
	for _, bad := range []string{"DATA RACE", "panic:", "fatal error:"} {
		if strings.Contains(logs, bad) {
			p.t.Errorf("switchboard's log shows %q", bad)
		}
	}
	if p.t.Failed() && strings.TrimSpace(logs) != "" {
		p.t.Logf("switchboard stderr:\n%s", logs)
	}
}
