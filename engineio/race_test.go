package engineio

import (
	"context"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/internal/testclient"
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

// countingHandler counts opens and closes.
type countingHandler struct{ opened, closed atomic.Int64 }

func (h *countingHandler) OnOpen(*Session)                      { h.opened.Add(1) }
func (h *countingHandler) OnMessage(*Session, []byte, bool)     {}
func (h *countingHandler) OnClose(*Session, CloseReason, error) { h.closed.Add(1) }

// A handshake that passed the server's closing check while Server.Close
// ran must not leave an open session behind: every session opened gets
// its OnClose once Close has returned, and none stays in the registry.
func TestHandshakeRacingServerCloseLeavesNoSession(t *testing.T) {
	for iter := 0; iter < 60; iter++ {
		h := &countingHandler{}
		opts := fixtureOptions()
		opts.PingInterval = time.Minute
		opts.PingTimeout = time.Minute
		srv := NewServer(h, opts)
		var stop atomic.Bool
		done := make(chan struct{})
		const workers = 8
		for range workers {
			go func() {
				defer func() { done <- struct{}{} }()
				for !stop.Load() {
					r := httptest.NewRequest("GET", "/engine.io/?EIO=4&transport=polling", nil)
					srv.ServeHTTP(httptest.NewRecorder(), r)
				}
			}()
		}
		time.Sleep(time.Duration(iter%5) * 100 * time.Microsecond)
		_ = srv.Close(context.Background())
		stop.Store(true)
		for range workers {
			<-done
		}
		if n := srv.Count(); n != 0 || h.opened.Load() != h.closed.Load() {
			t.Fatalf("iteration %d: after Server.Close: %d sessions in the registry, %d opened, %d closed", iter, n, h.opened.Load(), h.closed.Load())
		}
	}
}

// The upgrade timer may fire just as the client's upgrade packet arrives:
// its abortProbe then waits for the session lock while onUpgrade holds it.
// Once the upgrade completed, the late abort must not close the session's
// new WebSocket. The test holds the session lock so that both wait for it.
func TestUpgradeTimerFiringAsTheUpgradeCompletesKeepsTheWebSocket(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 5 * time.Second
	opts.UpgradeTimeout = 300 * time.Millisecond
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	s := ts.sessions.get(sid)
	start := time.Now()
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket&sid="+sid))
	c.Text("2probe")
	if msg, _ := c.Read(); msg != "3probe" {
		t.Fatalf("probe answer %q", msg)
	}
	s.mu.Lock()
	c.Text("5")                        // onUpgrade waits for the lock first…
	time.Sleep(100 * time.Millisecond) // (it has read the packet by now)
	time.Sleep(time.Until(start.Add(opts.UpgradeTimeout + 100*time.Millisecond)))
	s.mu.Unlock() // …then the timer's abortProbe, which has fired meanwhile
	waitTransport(t, s, TransportWebSocket)
	time.Sleep(50 * time.Millisecond)
	c.Text("4hello")
	if msg, _ := c.Read(); msg != "4hello" {
		t.Fatalf("after upgrade: %q", msg)
	}
	select {
	case r := <-ts.h.reasons:
		t.Fatalf("session closed after its upgrade: %q", r)
	default:
	}
}

// Send then Close with a poll pending: whether the poll takes the message
// before or after the close, the client gets the message, then the close
// packet ("1") in a later poll, as Node answers it, never an error.
func TestCloseAfterSendWithAPendingPollEndsWithTheClosePacket(t *testing.T) {
	opts := fixtureOptions()
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	for i := 0; i < 30; i++ {
		sid := ts.openPolling(t)
		s := ts.sessions.get(sid)
		first := make(chan string)
		go func() {
			_, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
			first <- body
		}()
		for {
			s.mu.Lock()
			polling := s.polling
			s.mu.Unlock()
			if polling {
				break
			}
			time.Sleep(time.Millisecond)
		}
		_ = s.Send(0, NewTextMessage("bye"))
		if i%2 == 1 {
			time.Sleep(5 * time.Millisecond) // let the poll answer before the close
		}
		s.Close()
		got := []string{<-first}
		for len(got) < 4 && got[len(got)-1] != "1" {
			code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), "")
			if code != 200 {
				t.Fatalf("iteration %d: after %q: poll %d %s, want the close packet", i, got, code, body)
			}
			got = append(got, body)
		}
		if len(got) != 2 || got[0] != "4bye" || got[1] != "1" {
			t.Fatalf("iteration %d: polls got %q, want [4bye 1]", i, got)
		}
		ts.h.waitReason(t)
	}
}

// A client's POST racing the server's Close (the session is closed but
// still waits for the client's next poll, to hand it the queue and the
// close packet) is answered "ok" as Node answers it, its packets dropped:
// a 400 would make the client fail with a transport error instead of
// reading the close packet.
func TestPostRacingCloseIsAnsweredOK(t *testing.T) {
	ts, sid := closedPollingSession(t)
	if code, body, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4late"); code != 200 || body != "ok" {
		t.Fatalf("POST after the server's close: %d %s, want 200 ok", code, body)
	}
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "4bye" {
		t.Fatalf("poll after close: %d %q", code, body)
	}
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 200 || body != "1" {
		t.Fatalf("last poll: %d %q", code, body)
	}
}

// Server.Close ends every session, also one that Session.Close left
// waiting for the client's next poll: nothing stays in the registry and a
// later poll is refused, as after Node's server.close.
func TestServerCloseReleasesSessionsClosedButWaitingForAPoll(t *testing.T) {
	ts, sid := closedPollingSession(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := ts.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if n := ts.Count(); n != 0 {
		t.Fatalf("%d sessions left after Server.Close", n)
	}
	if code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling&sid="+sid), ""); code != 400 {
		t.Fatalf("poll after shutdown: %d %q", code, body)
	}
}

// closedPollingSession opens a polling session, queues "bye" on it and closes
// it from the server: it then waits for the client's next poll.
func closedPollingSession(t *testing.T) (*testServer, string) {
	t.Helper()
	opts := fixtureOptions()
	opts.PingInterval = 5 * time.Second
	ts := startEcho(t, opts)
	sid := ts.openPolling(t)
	s := ts.sessions.get(sid)
	_ = s.Send(0, NewTextMessage("bye"))
	s.Close()
	return ts, sid
}
