package engineio

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/testclient"
)

// pausingHandler records messages and pauses reading after each one, until
// the test resumes it.
type pausingHandler struct {
	mu     sync.Mutex
	msgs   []string
	got    chan *Session
	closed chan CloseReason
}

func (h *pausingHandler) OnOpen(*Session) {}
func (h *pausingHandler) OnMessage(s *Session, data []byte, binary bool) {
	h.mu.Lock()
	h.msgs = append(h.msgs, string(bytes.Clone(data)))
	h.mu.Unlock()
	s.PauseReading()
	h.got <- s
}
func (h *pausingHandler) OnClose(_ *Session, r CloseReason, _ error) {
	select {
	case h.closed <- r:
	default:
	}
}

func (h *pausingHandler) list() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return strings.Join(h.msgs, ",")
}

func startPausing(t *testing.T) (*pausingHandler, *testServer) {
	h := &pausingHandler{got: make(chan *Session, 16), closed: make(chan CloseReason, 1)}
	srv := NewServer(h, fixtureOptions())
	ts := startEchoWith(t, srv)
	return h, ts
}

func TestPausedWebSocketIsNotReadUntilResumed(t *testing.T) {
	h, ts := startPausing(t)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	for _, m := range []string{"4a", "4b", "4c"} {
		c.Text(m)
	}
	s := <-h.got
	time.Sleep(50 * time.Millisecond)
	if got := h.list(); got != "a" {
		t.Fatalf("delivered while paused: %q", got)
	}
	for _, want := range []string{"a,b", "a,b,c"} {
		s.ResumeReading()
		<-h.got
		if got := h.list(); got != want {
			t.Fatalf("after resume: %q, want %q", got, want)
		}
	}
}

// A client is not timed out for silence while it was not being read: after a
// resume it has a whole PingTimeout to be heard, even when the heartbeat
// timer (re-armed while paused) was about to fire.
func TestResumedClientGetsAWholePingTimeout(t *testing.T) {
	h, ts := startPausing(t) // ping 300 ms, timeout 200 ms
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	opened := time.Now()
	c.Text("4a")
	s := <-h.got // paused
	// The ping leaves at 300 ms; while paused, the timer re-arms every
	// 200 ms: 500, 700, 900, 1100 ms. Resume 50 ms before the 1100 ms one,
	// and answer 120 ms after the resume.
	time.Sleep(time.Until(opened.Add(1050 * time.Millisecond)))
	s.ResumeReading()
	time.Sleep(120 * time.Millisecond)
	c.Text("3")
	select {
	case r := <-h.closed:
		t.Fatalf("closed (%s) although the pong came within PingTimeout of the resume", r)
	case <-time.After(250 * time.Millisecond):
	}
}

func TestPausedPollingAnswersThePostOnResume(t *testing.T) {
	h, ts := startPausing(t)
	sid := ts.openPolling(t)
	answered := make(chan int)
	go func() {
		code, _, _ := do(t, "POST", ts.url("EIO=4&transport=polling&sid="+sid), "4a")
		answered <- code
	}()
	s := <-h.got
	select {
	case code := <-answered:
		t.Fatalf("POST answered (%d) while reading is paused", code)
	case <-time.After(100 * time.Millisecond):
	}
	s.ResumeReading()
	if code := <-answered; code != 200 {
		t.Fatalf("POST after resume: %d", code)
	}
}

func TestTrafficCountsAsLivenessButSilenceTimesOut(t *testing.T) {
	ts := startEcho(t, fixtureOptions()) // ping 300 ms, timeout 200 ms
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	// Never answer pings, but keep sending: the client is alive.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for time.Now().Before(deadline) {
		c.Text("4tick")
		time.Sleep(100 * time.Millisecond)
	}
	select {
	case r := <-ts.h.reasons:
		t.Fatalf("closed (%s) while the client was sending", r)
	default:
	}
	// Silence now: the next ping goes unanswered and times out.
	if r := ts.h.waitReason(t); r != ReasonPingTimeout {
		t.Fatalf("reason %q", r)
	}
}

// blockingHandler holds the reader in OnMessage for the first message:
// a server that is behind in reading, without pausing.
type blockingHandler struct {
	block  time.Duration
	once   sync.Once
	closed chan CloseReason
}

func (h *blockingHandler) OnOpen(*Session) {}
func (h *blockingHandler) OnMessage(s *Session, data []byte, binary bool) {
	h.once.Do(func() { time.Sleep(h.block) })
}
func (h *blockingHandler) OnClose(_ *Session, r CloseReason, _ error) {
	select {
	case h.closed <- r:
	default:
	}
}

// A pong the server has not read yet (its reader is busy) still proves the
// client alive: no ping timeout.
func TestAnUnreadPongIsNotATimeout(t *testing.T) {
	h := &blockingHandler{block: 700 * time.Millisecond, closed: make(chan CloseReason, 1)}
	ts := startEchoWith(t, NewServer(h, fixtureOptions())) // ping 300 ms, timeout 200 ms
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	time.Sleep(250 * time.Millisecond)
	c.Text("4busy") // the reader is held until ~950 ms
	if msg := c.ReadText(); msg != "2" {
		t.Fatalf("got %q, want the ping", msg)
	}
	c.Text("3") // answered at once, read only when the handler returns
	select {
	case r := <-h.closed:
		t.Fatalf("closed (%s) although the pong was waiting in the socket", r)
	case <-time.After(900 * time.Millisecond):
	}
}

// A heartbeat timer that fires after its deadline was moved (a stale
// firing) does not time the client out.
func TestAStaleHeartbeatFiringIsIgnored(t *testing.T) {
	h, ts := startPausing(t)
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	c.Text("4a")
	s := <-h.got
	s.ResumeReading()
	s.mu.Lock()
	s.awaitPong = true
	s.recvAtPing = s.received.Load() // silent since the "ping"
	s.pongBy = time.Now().Add(time.Second)
	s.mu.Unlock()
	s.onHeartbeat() // fired for an older deadline
	select {
	case r := <-h.closed:
		t.Fatalf("closed (%s) by a stale timer firing", r)
	case <-time.After(100 * time.Millisecond):
	}
}

// The pong deadline counts from when the ping was due, not from when a
// timer running a little late sent it.
func TestPongDeadlineCountsFromWhenThePingWasDue(t *testing.T) {
	h, ts := startPausing(t) // timeout 200 ms
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	c.Text("4a")
	s := <-h.got
	s.ResumeReading()
	due := time.Now().Add(-30 * time.Millisecond)
	s.mu.Lock()
	s.awaitPong = false
	s.pingDue = due
	s.mu.Unlock()
	s.onHeartbeat() // the ping, sent 150 ms late
	s.mu.Lock()
	got, want := s.pongBy, due.Add(s.srv.cfg.PingTimeout)
	s.mu.Unlock()
	if !got.Equal(want) {
		t.Fatalf("pong deadline %v after the due time, want %v", got.Sub(due), s.srv.cfg.PingTimeout)
	}
}

// A ping that goes out after the server stalled (a timer more than half of
// PingTimeout late: a long pause, a starved machine) gives the client a
// whole PingTimeout from when it is sent, as Node does: counted from when
// it was due, the deadline had passed before the client could answer, and
// every client of a stalled server was timed out.
func TestAPingSentAfterAStallGivesTheClientItsTimeout(t *testing.T) {
	h, ts := startPausing(t) // interval 300 ms, timeout 200 ms
	c := testclient.Dial(t, ts.wsURL("EIO=4&transport=websocket"))
	c.Read()
	c.Text("4a")
	s := <-h.got
	s.ResumeReading()
	s.mu.Lock()
	s.awaitPong = false
	s.pingDue = time.Now().Add(-300 * time.Millisecond) // the server stalled 300 ms
	s.mu.Unlock()
	s.onHeartbeat()
	if m := c.ReadText(); m != "2" {
		t.Fatalf("got %q, want the ping", m)
	}
	c.Text("3") // answered at once
	// The session lives on: the next ping comes, a PingInterval later.
	if m := c.ReadText(); m != "2" {
		t.Fatalf("got %q after answering the late ping, want the next ping", m)
	}
	select {
	case r := <-h.closed:
		t.Fatalf("closed: %s", r)
	default:
	}
}
