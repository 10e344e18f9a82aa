package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws/wsutil"

	"switchboard/internal/testclient"
	"switchboard/internal/testprog"
)

// These tests run the real program, built from this package, as a child
// process, and stop it with real signals.

// procWait bounds every wait on the child process. Tests that check that
// something happens "at once" give the program a shutdown timeout far
// longer than this.
const procWait = 30 * time.Second

// syncBuffer is a bytes.Buffer safe for a writer and readers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is the program running as a child process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	URL    string
	Addr   string
	DB     string
	stderr *syncBuffer
	done   chan struct{} // closed when it has exited
}

// startProc runs the program on a free port of 127.0.0.1 with a new
// database, extra flags args and extra environment variables environ
// ("NAME=value"), and waits until GET /healthz answers 200. It is killed
// if still running when the test ends.
func startProc(t *testing.T, args []string, environ ...string) *proc {
	t.Helper()
	bin := testprog.Binary(t)
	p := &proc{t: t, DB: filepath.Join(t.TempDir(), "chat.db")}
	for attempt := 0; ; attempt++ { // a free port may be taken before we listen
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p.Addr = ln.Addr().String()
		ln.Close()
		p.URL = "http://" + p.Addr
		err = p.start(bin, args, environ)
		if err == nil {
			return p
		}
		if attempt == 4 || !strings.Contains(err.Error(), "address already in use") {
			t.Fatal(err)
		}
	}
}

func (p *proc) start(bin string, args, environ []string) error {
	p.cmd = exec.Command(bin, append([]string{"--addr", p.Addr, "--db", p.DB}, args...)...)
	p.cmd.Env = append(os.Environ(), environ...)
	p.stderr = &syncBuffer{}
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		return err
	}
	p.done = make(chan struct{})
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	p.t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if p.t.Failed() {
			p.t.Logf("switchboard stderr:\n%s", p.stderr.String())
		}
	})
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(procWait)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("switchboard exited at start (%v): %s", p.cmd.ProcessState, p.stderr.String())
		default:
		}
		if res, err := client.Get(p.URL + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("switchboard did not answer GET /healthz within %v: %s", procWait, p.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("%v: %v", sig, err)
	}
}

// waitLog waits until the program's stderr contains s.
func (p *proc) waitLog(s string) {
	p.t.Helper()
	deadline := time.Now().Add(procWait)
	for !strings.Contains(p.stderr.String(), s) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the log does not say %q within %v:\n%s", s, procWait, p.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitNotListening waits until connections to the program are refused:
// it has closed its listener, so its shutdown is under way.
func (p *proc) waitNotListening() {
	p.t.Helper()
	deadline := time.Now().Add(procWait)
	for {
		c, err := net.Dial("tcp", p.Addr)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			p.t.Fatalf("still accepting connections %v after the signal", procWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for the program to exit and returns its exit code.
func (p *proc) wait() int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(procWait):
		p.t.Fatalf("switchboard did not exit within %v:\n%s", procWait, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// heldRequest is an HTTP request in flight: its handler is running and
// reading a body the client has not finished sending.
type heldRequest struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
	rest string
}

// holdLogin starts POST /login for b's user with the form's CSRF token,
// sending the headers and half the body; it returns once the server's
// handler is reading the body (it asked for it with 100 Continue).
func holdLogin(t *testing.T, b *browser, username, password string) *heldRequest {
	t.Helper()
	form := url.Values{"username": {username}, "password": {password}, "csrf_token": {b.csrf("/")}}.Encode()
	u, _ := url.Parse(b.base)
	var cookies []string
	for _, c := range b.http.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(2 * procWait))
	half := len(form) / 2
	fmt.Fprintf(conn, "POST /login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"Content-Length: %d\r\nCookie: %s\r\nExpect: 100-continue\r\n\r\n",
		u.Host, len(form), strings.Join(cookies, "; "))
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusContinue {
		t.Fatalf("POST /login with Expect: 100-continue: status %d, want 100", res.StatusCode)
	}
	if _, err := conn.Write([]byte(form[:half])); err != nil {
		t.Fatal(err)
	}
	return &heldRequest{t: t, conn: conn, r: r, rest: form[half:]}
}

// finish sends the rest of the body and returns the response.
func (h *heldRequest) finish() *http.Response {
	h.t.Helper()
	if _, err := h.conn.Write([]byte(h.rest)); err != nil {
		h.t.Fatal(err)
	}
	res, err := http.ReadResponse(h.r, nil)
	if err != nil {
		h.t.Fatalf("the request in flight got no response: %v", err)
	}
	res.Body.Close()
	return res
}

// wantCleanClose reads the socket until the server closes it and checks
// that it did so with a WebSocket close frame, not by dropping the TCP
// connection.
func wantCleanClose(t *testing.T, c *testclient.Conn) {
	t.Helper()
	for {
		_, _, err := c.TryRead(procWait)
		if err == nil {
			continue
		}
		var closed wsutil.ClosedError
		if !errors.As(err, &closed) {
			t.Errorf("the socket ended with %v, want a WebSocket close frame", err)
		}
		return
	}
}

// wantDatabaseClosedCleanly checks that the program left a database with
// its write-ahead log checkpointed (no -wal file with pages in it).
func wantDatabaseClosedCleanly(t *testing.T, db string) {
	t.Helper()
	if fi, err := os.Stat(db + "-wal"); err == nil && fi.Size() > 0 {
		t.Errorf("%s-wal holds %d bytes after exit: the database was not closed cleanly", db, fi.Size())
	}
}

// SIGTERM with a connected socket and a request in flight: the request is
// answered, the socket closed with a close frame, the database closed, the
// program exits 0.
func TestSIGTERMShutsDownGracefully(t *testing.T) {
	p := startProc(t, []string{"--shutdown-timeout", "5m"})
	alice := newBrowserAt(t, p.URL)
	wantRedirect(t, alice.register("alice", "correct horse"), "/chat")
	sock := openChatSocketAt(t, p.URL, alice)
	bob := newBrowserAt(t, p.URL)
	wantRedirect(t, bob.register("bob", "correct horse"), "/chat")
	wantRedirect(t, bob.submit("/chat", "/logout", nil), "/?logged_out")
	login := holdLogin(t, bob, "bob", "correct horse")

	p.signal(syscall.SIGTERM)
	p.waitLog("shutting down")
	p.waitNotListening()
	wantCleanClose(t, sock)
	if res := login.finish(); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/chat" {
		t.Errorf("the login in flight was answered %d %q, want 303 to /chat", res.StatusCode, res.Header.Get("Location"))
	}
	if code := p.wait(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	wantDatabaseClosedCleanly(t, p.DB)
	logs := p.stderr.String()
	if n := strings.Count(logs, "switchboard is listening"); n != 1 ||
		!strings.Contains(logs, "url="+p.URL) || !strings.Contains(logs, "db="+p.DB) {
		t.Errorf("want one startup line with the URL and the database:\n%s", logs)
	}
}

// A second signal during the shutdown ends the program at once, with a
// non-zero exit code, instead of waiting for what is still in flight.
func TestSecondSignalExitsAtOnce(t *testing.T) {
	p := startProc(t, []string{"--shutdown-timeout", "1h"})
	b := newBrowserAt(t, p.URL)
	wantRedirect(t, b.register("alice", "correct horse"), "/chat")
	wantRedirect(t, b.submit("/chat", "/logout", nil), "/?logged_out")
	holdLogin(t, b, "alice", "correct horse") // never finished

	p.signal(syscall.SIGTERM)
	p.waitLog("shutting down")
	p.waitNotListening()
	p.signal(syscall.SIGINT)
	if code := p.wait(); code == 0 {
		t.Error("exit code 0 after a second signal, want non-zero")
	}
	if !strings.Contains(p.stderr.String(), "second signal") {
		t.Errorf("the log does not say why it stopped:\n%s", p.stderr.String())
	}
}

// A request that never finishes holds the shutdown only for
// --shutdown-timeout: then it is cut off, the socket closed, the database
// closed cleanly, and the exit code (1) and the log say the shutdown was
// not clean.
func TestShutdownTimeoutCutsOffWhatIsLeft(t *testing.T) {
	p := startProc(t, []string{"--shutdown-timeout", "500ms"})
	b := newBrowserAt(t, p.URL)
	wantRedirect(t, b.register("alice", "correct horse"), "/chat")
	sock := openChatSocketAt(t, p.URL, b)
	other := newBrowserAt(t, p.URL)
	holdLogin(t, other, "alice", "correct horse") // never finished

	p.signal(syscall.SIGTERM)
	wantCleanClose(t, sock)
	if code := p.wait(); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if logs := p.stderr.String(); !strings.Contains(logs, "--shutdown-timeout") {
		t.Errorf("the log does not say the shutdown timeout cut requests off:\n%s", logs)
	}
	wantDatabaseClosedCleanly(t, p.DB)
}

// With --shutdown-delay, a signal first turns GET /healthz to 503 while
// every other route is still served, so that a load balancer polling it
// takes the instance out before it stops accepting connections.
func TestShutdownDelayDrainsWith503Healthz(t *testing.T) {
	p := startProc(t, []string{"--shutdown-delay", "1h"})
	client := &http.Client{Timeout: procWait, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	status := func(path string) int {
		t.Helper()
		res, err := client.Get(p.URL + path)
		if err != nil {
			t.Fatalf("GET %s while draining: %v", path, err)
		}
		res.Body.Close()
		return res.StatusCode
	}

	p.signal(syscall.SIGTERM)
	deadline := time.Now().Add(procWait)
	for status("/healthz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz still not 503 %v after SIGTERM", procWait)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := status("/"); got != http.StatusOK {
		t.Errorf("GET / while draining: %d, want 200", got)
	}
	p.waitLog("draining")
	p.signal(syscall.SIGTERM) // the operator will not wait the hour
	if code := p.wait(); code == 0 {
		t.Error("exit code 0 after a second signal, want non-zero")
	}
}
