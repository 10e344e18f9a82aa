package engineio

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"switchboard/internal/testclient"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// echoHandler sends every message back and records closes.
type echoHandler struct {
	mu      sync.Mutex
	opened  []*Session
	reasons chan CloseReason
}

func newEcho() *echoHandler { return &echoHandler{reasons: make(chan CloseReason, 16)} }

func (h *echoHandler) OnOpen(s *Session) {
	h.mu.Lock()
	h.opened = append(h.opened, s)
	h.mu.Unlock()
}

func (h *echoHandler) OnMessage(s *Session, data []byte, binary bool) {
	_ = s.Send(0, NewMessage(bytes.Clone(data), binary))
}

func (h *echoHandler) OnClose(s *Session, reason CloseReason, err error) { h.reasons <- reason }

// session returns the i-th session opened, waiting for its OnOpen (which
// runs after the open packet is sent).
func (h *echoHandler) session(t *testing.T, i int) *Session {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		if len(h.opened) > i {
			s := h.opened[i]
			h.mu.Unlock()
			return s
		}
		h.mu.Unlock()
		if time.Now().After(deadline) {
			t.Fatalf("session %d never opened", i)
		}
		time.Sleep(time.Millisecond)
	}
}

func (h *echoHandler) waitReason(t *testing.T) CloseReason {
	t.Helper()
	select {
	case r := <-h.reasons:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("OnClose not called")
		return ""
	}
}

// fixtureOptions are the official suites' settings.
func fixtureOptions() *Options {
	return &Options{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 1_000_000,
		CORS:              &CORS{Origins: []string{"*"}},
	}
}

type testServer struct {
	*Server
	h    *echoHandler
	http *httptest.Server
}

func startEcho(t *testing.T, opts *Options) *testServer {
	t.Helper()
	h := newEcho()
	ts := startEchoWith(t, NewServer(h, opts))
	ts.h = h
	return ts
}

// startEchoWith serves srv (whatever its handler) for the test.
func startEchoWith(t *testing.T, srv *Server) *testServer {
	t.Helper()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx)
		hs.Close()
	})
	return &testServer{Server: srv, http: hs}
}

func (ts *testServer) url(query string) string { return ts.http.URL + "/engine.io/?" + query }

func (ts *testServer) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(ts.http.URL, "http") + "/engine.io/?" + query
}

var do = testclient.Do

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, s string) openPacket {
	t.Helper()
	if !strings.HasPrefix(s, "0") {
		t.Fatalf("not an open packet: %q", s)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s[1:]), &keys); err != nil {
		t.Fatalf("open packet %q: %v", s, err)
	}
	if len(keys) != 5 {
		t.Fatalf("open packet keys: %q", s)
	}
	var o openPacket
	_ = json.Unmarshal([]byte(s[1:]), &o)
	return o
}

func (ts *testServer) openPolling(t *testing.T) string {
	t.Helper()
	code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	if code != 200 {
		t.Fatalf("handshake: %d %s", code, body)
	}
	return parseOpen(t, body).SID
}
