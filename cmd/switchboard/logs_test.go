package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedWriter is an io.Writer for the program's stderr that the test can
// read while the program writes.
type lockedWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

// hashWait bounds a request of TestLogsCarryNoSecrets that hashes a
// password at the production cost.
const hashWait = 2 * time.Minute

// The log, at debug level, through a whole life — start, registration,
// login, a failed login, GitHub login, a socket and a
// message, logout, shutdown — never contains a secret: the GitHub client
// secret, passwords, session or CSRF cookies, CSRF tokens, OAuth codes or
// tokens. And it starts with one line saying where it listens and which
// database it uses.
func TestLogsCarryNoSecrets(t *testing.T) {
	gh := newFakeGitHub(t)
	gh.setUser(4242, "octo", "Octo Cat")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	dbPath := t.TempDir() + "/chat.db"

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &lockedWriter{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--addr", addr, "--log-level", "debug"}, env(map[string]string{
			"DATABASE":             dbPath,
			"GITHUB_CLIENT_ID":     fakeClientID,
			"GITHUB_CLIENT_SECRET": fakeClientSecret,
			"GITHUB_AUTH_URL":      gh.URL + "/login/oauth/authorize",
			"GITHUB_TOKEN_URL":     gh.URL + "/login/oauth/access_token",
			"GITHUB_API_URL":       gh.URL,
		}), io.Discard, stderr)
	}()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	for deadline := time.Now().Add(procWait); ; {
		if res, err := client.Get(base + "/healthz"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program did not come up:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	var secrets []string
	keep := func(b *browser) {
		u, _ := url.Parse(b.base)
		for _, c := range b.http.Jar.Cookies(u) {
			secrets = append(secrets, c.Value)
		}
	}
	const password, wrong = "correct horse battery", "wrong-guess-9431"
	secrets = append(secrets, fakeClientSecret, password, wrong)

	// run uses the production bcrypt cost, 12: a hash under the race
	// detector takes 2.5 s of an idle core and took 13 s on a busy one,
	// beyond the browser's usual 10 s.
	alice := newBrowserAt(t, base)
	alice.http.Timeout = hashWait
	wantRedirect(t, alice.register("alice", password), "/chat")
	keep(alice)
	sock := openChatSocketAt(t, base, alice)
	sock.Text(`42["chat message","hello from alice"]`)
	for !strings.Contains(sock.ReadSkippingPongs(), "hello from alice") {
	}
	token := alice.csrf("/chat")
	secrets = append(secrets, token)
	wantRedirect(t, alice.post("/logout", url.Values{"csrf_token": {token}}), "/?logged_out")

	wantRedirect(t, alice.login("alice", password), "/chat")
	keep(alice)
	mallory := newBrowserAt(t, base)
	mallory.http.Timeout = hashWait
	wantStatus(t, mallory.login("alice", wrong), http.StatusUnauthorized)
	keep(mallory)

	octo := newBrowserAt(t, base)
	start := octo.get("/auth/github")
	loc, _ := url.Parse(start.Header.Get("Location"))
	keep(octo) // the state cookie (state and PKCE verifier)
	req, _ := http.NewRequest(http.MethodGet, loc.String(), nil)
	authorize := octo.do(req)
	back, _ := url.Parse(authorize.Header.Get("Location"))
	code := back.Query().Get("code")
	secrets = append(secrets, code, "gho_"+code, loc.Query().Get("code_challenge"))
	req, _ = http.NewRequest(http.MethodGet, back.String(), nil)
	wantRedirect(t, octo.do(req), "/chat")
	keep(octo)

	cancel()
	select {
	case c := <-done:
		if c != 0 {
			t.Errorf("exit code %d", c)
		}
	case <-time.After(procWait):
		t.Fatal("run did not return after cancel")
	}

	logs := stderr.String()
	for _, s := range secrets {
		if len(s) < 6 {
			t.Fatalf("test bug: %q is too short to look for", s)
		}
		if strings.Contains(logs, s) {
			t.Errorf("the log contains the secret %q", s)
		}
	}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if !strings.Contains(lines[0], "switchboard is listening") || !strings.Contains(lines[0], "url="+base) ||
		!strings.Contains(lines[0], "db="+dbPath) || strings.Count(logs, "switchboard is listening") != 1 {
		t.Errorf("want one first line with the URL and the database:\n%s", logs)
	}
	for _, want := range []string{"user registered with GitHub", "path=/auth/github/callback"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %q (did the scenario run?):\n%s", want, logs)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", logs)
	}
}
