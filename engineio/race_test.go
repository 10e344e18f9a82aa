package engineio

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// openBlockingHandler holds OnOpen until release is closed and records
// whether OnClose ever ran before OnOpen returned.
type openBlockingHandler struct {
	entered  chan *Session
	release  chan struct{}
	inOpen   atomic.Bool
	early    atomic.Bool // OnClose ran while OnOpen was in progress
	reasons  chan CloseReason
	openDone atomic.Bool
}

func (h *openBlockingHandler) OnOpen(s *Session) {
	h.inOpen.Store(true)
	h.entered <- s
	<-h.release
	h.inOpen.Store(false)
	h.openDone.Store(true)
}

func (h *openBlockingHandler) OnMessage(*Session, []byte, bool) {}

func (h *openBlockingHandler) OnClose(_ *Session, r CloseReason, _ error) {
	if h.inOpen.Load() || !h.openDone.Load() {
		h.early.Store(true)
	}
	h.reasons <- r
}

// A session is in the registry (Server.Close, Server.Session see it) while
// OnOpen runs; a close from another goroutine then must not call OnClose
// during OnOpen or before it: OnClose comes last, after OnOpen returned.
func TestCloseDuringOnOpenDeliversOnCloseAfterOnOpen(t *testing.T) {
	h := &openBlockingHandler{entered: make(chan *Session, 1), release: make(chan struct{}), reasons: make(chan CloseReason, 4)}
	srv := NewServer(h, fixtureOptions())
	ts := startEchoWith(t, srv)
	go do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	<-h.entered
	closed := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Close(ctx) // a shutdown while the session is being opened
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(2 * time.Second):
		t.Fatal("Server.Close blocked on OnOpen")
	}
	close(h.release)
	select {
	case r := <-h.reasons:
		if r != ReasonServerShutdown {
			t.Fatalf("reason %q", r)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("OnClose never called")
	}
	if h.early.Load() {
		t.Fatal("OnClose was called while OnOpen was still running")
	}
}
