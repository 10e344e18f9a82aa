package realtime

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"switchboard/chat"
	"switchboard/chat/sqlite"
	"switchboard/internal/testclient"
	"switchboard/socketio"
)

// A tab closed while its session cookie is being looked up stops the
// lookup (its request's context ends, instead of running on for nobody
// until the 5 s timeout), and the server logs no error for it.
func TestAuthenticationStopsWhenTheTabLeaves(t *testing.T) {
	db := sqlite.NewDB(t.TempDir() + "/chat.db")
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	messages := sqlite.NewMessageService(db)
	var logMu sync.Mutex
	var logs bytes.Buffer
	entered := make(chan struct{})
	stopped := make(chan error, 1)
	rt, err := New(Config{
		Authenticate: func(r *http.Request) (*chat.User, error) {
			close(entered)
			select {
			case <-r.Context().Done():
				stopped <- context.Cause(r.Context())
				return nil, chat.Errorf(chat.EINTERNAL, "lookup: %v", r.Context().Err())
			case <-time.After(30 * time.Second):
				stopped <- nil
				return nil, chat.Errorf(chat.EUNAUTHORIZED, "too late")
			}
		},
		CheckOrigin: func(*http.Request) bool { return true },
		Presence:    chat.NewPresence(),
		Poster:      chat.NewPoster(messages, time.Now),
		Messages:    messages,
		Logger: slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
			logMu.Lock()
			defer logMu.Unlock()
			return logs.Write(p)
		}), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(rt)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		_ = rt.Shutdown(ctx)
		ts.Close()
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
	logMu.Lock()
	defer logMu.Unlock()
	if bytes.Contains(logs.Bytes(), []byte("level=ERROR")) {
		t.Fatalf("a tab that left during authentication was logged as an error:\n%s", logs.String())
	}
}

type writerFunc func(p []byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
