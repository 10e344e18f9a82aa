package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"switchboard/chat"
)

// fakeRealtime stands in for the Socket.IO server: it answers each request
// with who Authenticate and CheckOrigin say is asking, and records its
// shutdown.
type fakeRealtime struct {
	deps RealtimeDeps

	mu          sync.Mutex
	shutdown    bool
	dbOpenAtEnd bool
}

func (f *fakeRealtime) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !f.deps.CheckOrigin(r) {
		http.Error(w, "origin", http.StatusForbidden)
		return
	}
	u, err := f.deps.Authenticate(r)
	if err != nil {
		http.Error(w, chat.ErrorCode(err), http.StatusUnauthorized)
		return
	}
	fmt.Fprintf(w, "hello %s", u.Username)
}

func (f *fakeRealtime) Shutdown(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.shutdown = true
	// The store must still be usable while clients are told goodbye.
	_, err := f.deps.Messages.RecentMessages(ctx, 1)
	f.dbOpenAtEnd = err == nil
	return nil
}

func TestRealtimeIsMountedAndAuthenticatesWithTheSessionCookie(t *testing.T) {
	var rt *fakeRealtime
	m := MustRunMain(t, func(m *Main) {
		m.NewRealtime = func(d RealtimeDeps) (Realtime, error) {
			if d.Users == nil || d.Messages == nil || d.Presence == nil || d.Poster == nil || d.Logger == nil {
				return nil, fmt.Errorf("missing dependencies: %+v", d)
			}
			rt = &fakeRealtime{deps: d}
			return rt, nil
		}
	})

	b := newBrowser(t, m)
	r := b.get("/socket.io/?EIO=4&transport=polling")
	wantStatus(t, r, http.StatusUnauthorized)
	wantBody(t, r, chat.EUNAUTHORIZED)

	wantRedirect(t, b.register("sockets", "password123"), "/chat")
	r = b.get("/socket.io/?EIO=4&transport=polling")
	wantStatus(t, r, http.StatusOK)
	wantBody(t, r, "hello sockets")
	if r.Header.Get("Content-Security-Policy") != "" {
		t.Error("page middleware wrapped the realtime handler")
	}

	// Same origin (host of the request) is allowed, others are not.
	b.headers.Set("Origin", b.base)
	wantStatus(t, b.get("/socket.io/?EIO=4"), http.StatusOK)
	b.headers.Set("Origin", "https://evil.example")
	wantStatus(t, b.get("/socket.io/?EIO=4"), http.StatusForbidden)

	// Presence is shared with the chat page's initial count.
	m.Presence.Connect("conn-1", 1)
	b.headers.Del("Origin")
	wantBody(t, b.get("/chat"), "1 users online")
	m.Presence.Disconnect("conn-1")

	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if !rt.shutdown || !rt.dbOpenAtEnd {
		t.Errorf("realtime shutdown=%v with the database open=%v; want both", rt.shutdown, rt.dbOpenAtEnd)
	}
}

func TestAllowedOriginsReachTheRealtimeServer(t *testing.T) {
	var rt *fakeRealtime
	m := MustRunMain(t, func(m *Main) {
		m.Config.AllowedOrigins = []string{"https://Partner.example"}
		m.NewRealtime = func(d RealtimeDeps) (Realtime, error) { rt = &fakeRealtime{deps: d}; return rt, nil }
	})
	if got := rt.deps.AllowedOrigins; len(got) != 1 || got[0] != "https://partner.example" {
		t.Errorf("AllowedOrigins = %q", got)
	}
	b := newBrowser(t, m)
	b.headers.Set("Origin", "https://partner.example")
	wantStatus(t, b.get("/socket.io/"), http.StatusUnauthorized) // origin fine, not logged in
}

func TestWithoutRealtimeTheEndpointSaysSo(t *testing.T) {
	m := MustRunMain(t, func(m *Main) { m.NewRealtime = nil })
	r := newBrowser(t, m).get("/socket.io/socket.io.js")
	wantStatus(t, r, http.StatusServiceUnavailable)
}

func TestRealtimeConstructorErrorStopsRun(t *testing.T) {
	m := NewMain()
	m.Config.Addr = "127.0.0.1:0"
	m.Config.DBPath = t.TempDir() + "/x.db"
	m.NewRealtime = func(RealtimeDeps) (Realtime, error) { return nil, fmt.Errorf("boom") }
	if err := m.Run(context.Background()); err == nil {
		t.Error("Run succeeded")
	}
	if err := m.Close(); err != nil {
		t.Error(err)
	}
}

func TestShutdownHooksRunInReverseOrder(t *testing.T) {
	m := MustRunMain(t)
	var order []int
	m.OnShutdown(func(context.Context) error { order = append(order, 1); return nil })
	m.OnShutdown(func(context.Context) error { order = append(order, 2); return nil })
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(order) != "[2 1]" {
		t.Errorf("hooks ran in order %v", order)
	}
	if err := m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseDoesNotWaitForConnectionsWithoutARequest(t *testing.T) {
	m := MustRunMain(t)
	// A browser's spare connection: open, nothing sent.
	spare, err := net.Dial("tcp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer spare.Close()
	waitAccepted := time.Now().Add(2 * time.Second)
	for {
		m.fresh.mu.Lock()
		n := len(m.fresh.conns)
		m.fresh.mu.Unlock()
		if n == 1 || time.Now().After(waitAccepted) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	closed := make(chan error, 1)
	go func() { closed <- m.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(4 * time.Second): // net/http alone waits 5 s for it
		t.Fatal("Close waited for a connection that never sent a request")
	}
	spare.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := spare.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("the spare connection is still open (read: %v)", err)
	}
}
