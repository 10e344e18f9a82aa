package realtime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/chat"
	"switchboard/internal/testclient"
	"switchboard/socketio"
)

// logBuffer is a log destination safe for concurrent use.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLogged serves a realtime server (newEnv's, but for authenticate
// and an origin check that refuses any Origin), logging at debug level
// into the returned buffer.
func startLogged(t *testing.T, authenticate func(*http.Request) (*chat.User, error)) (*httptest.Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	e := newEnvWith(t, func(c *Config) {
		c.Authenticate = authenticate
		c.CheckOrigin = func(r *http.Request) bool { return r.Header.Get("Origin") == "" }
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	return e.http, logs
}

// A tab closed while its session cookie is being looked up stops the
// lookup (its request's context ends, instead of running on for nobody
// until the 5 s timeout), and the server logs no error for it.
func TestAuthenticationStopsWhenTheTabLeaves(t *testing.T) {
	entered := make(chan struct{})
	stopped := make(chan error, 1)
	ts, logs := startLogged(t, func(r *http.Request) (*chat.User, error) {
		close(entered)
		select {
		case <-r.Context().Done():
			stopped <- context.Cause(r.Context())
			return nil, chat.Errorf(chat.EINTERNAL, "lookup: %v", r.Context().Err())
		case <-time.After(30 * time.Second):
			stopped <- nil
			return nil, chat.Errorf(chat.EUNAUTHORIZED, "too late")
		}
	})
	c := testclient.Dial(t, testclient.WSURL(ts.URL)+"/socket.io/?EIO=4&transport=websocket")
	c.ReadText()
	c.Text("40")
	<-entered
	c.Close()
	select {
	case cause := <-stopped:
		if !errors.Is(cause, socketio.ErrDisconnected) {
			t.Fatalf("the lookup ended with %v, not because the tab left", cause)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the lookup did not stop when the tab left")
	}
	time.Sleep(50 * time.Millisecond) // the middleware's return and its logging, if any
	if got := logs.String(); strings.Contains(got, "level=ERROR") {
		t.Fatalf("a tab that left during authentication was logged as an error:\n%s", got)
	}
}

// Requests the engine refuses (a page from another origin, a session id
// the server does not know — a client that outlived a restart) are logged
// at debug level with the reason and where they came from, so an operator
// can find out why clients fail to connect.
func TestRefusedRequestsAreLoggedAtDebugLevel(t *testing.T) {
	ts, logs := startLogged(t, func(*http.Request) (*chat.User, error) {
		return nil, chat.Errorf(chat.EUNAUTHORIZED, "no")
	})
	do := func(query, origin string) {
		req, _ := http.NewRequest("GET", ts.URL+"/socket.io/?"+query, nil)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	do("EIO=4&transport=polling&sid=stale", "")
	do("EIO=4&transport=polling", "https://evil.example")
	got := logs.String()
	for _, want := range []string{`message="Session ID unknown"`, `code=1`, `code=4`, "127.0.0.1", "level=DEBUG"} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %s:\n%s", want, got)
		}
	}
}
