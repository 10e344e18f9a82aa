package socketio

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"switchboard/internal/testclient"
)

// readAll reads len(want) messages (skipping pings) and compares them; a
// binary message reads as "binary:" and its bytes.
func readAll(t *testing.T, name string, c *testclient.Conn, want ...string) {
	t.Helper()
	for i := 0; i < len(want); {
		got, bin := c.Read()
		if bin {
			got = "binary:" + got
		} else if got == "2" {
			continue
		}
		if got != want[i] {
			t.Fatalf("%s, message %d: got %q, want %q", name, i, got, want[i])
		}
		i++
	}
}

func TestEmitManySendsTheEventsInOrderToTheSelection(t *testing.T) {
	io, a, b, c, _, sb, _ := redAndBlue(t)

	if err := io.To("red").Except("blue").EmitMany(Message{"one", []any{1}}, Message{"two", nil}); err != nil {
		t.Fatal(err)
	}
	if err := sb.Broadcast().EmitMany(Message{"not b", nil}, Message{"still not b", []any{"x"}}); err != nil {
		t.Fatal(err)
	}
	if err := io.Of("/").EmitMany(
		Message{Event: "count", Args: []any{3}},
		Message{Event: "bin", Args: []any{map[string]any{"data": []byte{1, 2}}}},
		Message{Event: "last", Args: []any{true}},
	); err != nil {
		t.Fatal(err)
	}
	everyone := []string{`42["count",3]`, `451-["bin",{"data":{"_placeholder":true,"num":0}}]`, "binary:\x01\x02", `42["last",true]`}
	readAll(t, "a", a, append([]string{`42["one",1]`, `42["two"]`, `42["not b"]`, `42["still not b","x"]`}, everyone...)...)
	readAll(t, "b", b, everyone...)
	readAll(t, "c", c, append([]string{`42["not b"]`, `42["still not b","x"]`}, everyone...)...)
}

// An EmitMany that cannot send every event sends none of them.
func TestEmitManyRefusesBeforeSendingAnything(t *testing.T) {
	io := NewServer(quietOptions())
	ts := start(t, io)
	c, _ := ts.connect(t, "/", "")
	tooMany := make([]any, 11)
	for i := range tooMany {
		tooMany[i] = []byte{1}
	}
	ok := Message{"fine", []any{1}}
	for _, tc := range []struct {
		name    string
		bad     Message
		reserve bool
	}{
		{"a reserved name", Message{"disconnect", nil}, true},
		{"an argument JSON cannot encode", Message{"chan", []any{make(chan int)}}, false},
		{"too many binary values", Message{"many", tooMany}, false},
	} {
		err := io.EmitMany(ok, tc.bad, ok)
		if err == nil || errors.Is(err, ErrReservedEvent) != tc.reserve || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.bad.Event)) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if err := io.EmitMany(); err != nil {
		t.Fatalf("no events: %v", err)
	}
	_ = io.Emit("marker")
	readAll(t, "client", c, `42["marker"]`)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = io.Close(ctx)
	if err := io.EmitMany(ok); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := io.To("room").EmitMany(); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("no events after Close: %v", err)
	}
}

// A volatile EmitMany is dropped as a whole for a client that cannot take
// it at once (a polling client with no request waiting), and delivered as
// a whole to one that can.
func TestVolatileEmitManyIsDeliveredOrDroppedWhole(t *testing.T) {
	io := NewServer(quietOptions())
	ts := start(t, io)
	ws, _ := ts.connect(t, "/", "")

	poll := ts.pollingSocket(t)

	if err := io.Volatile().EmitMany(Message{"v1", nil}, Message{"v2", nil}); err != nil {
		t.Fatal(err)
	}
	_ = io.Emit("after")
	readAll(t, "websocket", ws, `42["v1"]`, `42["v2"]`, `42["after"]`)
	if code, body, _ := do(t, "GET", poll, ""); code != 200 || body != `42["after"]` {
		t.Fatalf("polling client got %d %q, want only the event after the volatile ones", code, body)
	}
}

// A socket connecting while EmitMany runs gets all of its events or none:
// its first event after the CONNECT reply is the first of a batch, and the
// rest of that batch follows.
func TestAClientConnectingDuringEmitManyGetsAllOrNoneOfIt(t *testing.T) {
	io := NewServer(quietOptions())
	ts := start(t, io)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				_ = io.EmitMany(Message{"a", []any{i}}, Message{"b", []any{i}}, Message{"c", []any{i}})
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for n := range 100 {
		c, _ := ts.connect(t, "/", "")
		first := c.ReadSkippingPings()
		var i int
		if _, err := fmt.Sscanf(first, `42["a",%d]`, &i); err != nil {
			t.Fatalf("client %d: first event %q, not the first of a batch", n, first)
		}
		readAll(t, fmt.Sprint("client ", n), c, fmt.Sprintf(`42["b",%d]`, i), fmt.Sprintf(`42["c",%d]`, i))
		c.Close()
	}
}

// pollingSocket connects a long-polling client to the main namespace and
// reads the CONNECT reply; it returns the session's polling URL, with no
// poll waiting.
func (ts *testServer) pollingSocket(t *testing.T) string {
	t.Helper()
	code, body, _ := do(t, "GET", ts.url("EIO=4&transport=polling"), "")
	if code != 200 || !strings.HasPrefix(body, `0{"sid":"`) {
		t.Fatalf("handshake %d %s", code, body)
	}
	poll := ts.url("EIO=4&transport=polling&sid=" + body[len(`0{"sid":"`):][:20])
	if code, body, _ := do(t, "POST", poll, "40"); code != 200 || body != "ok" {
		t.Fatalf("connect %d %s", code, body)
	}
	if code, body, _ := do(t, "GET", poll, ""); code != 200 || !strings.HasPrefix(body, `40{"sid":`) {
		t.Fatalf("connect reply %d %s", code, body)
	}
	return poll
}

// Socket.EmitMany sends its events to the one client, in order and in one
// step: a polling client gets them in one response; a volatile one gets all
// of them or none.
func TestSocketEmitManySendsTheEventsTogether(t *testing.T) {
	io, ts, ws, s := oneSocket(t)
	sockets := newEvents[*Socket]()
	io.OnConnection(func(s *Socket) { sockets.add(s) })
	if err := s.EmitMany(Message{"one", []any{1}}, Message{"bin", []any{[]byte{7}}}, Message{"two", nil}); err != nil {
		t.Fatal(err)
	}
	readAll(t, "websocket", ws, `42["one",1]`, `451-["bin",{"_placeholder":true,"num":0}]`, "binary:\x07", `42["two"]`)

	poll := ts.pollingSocket(t)
	p := sockets.next(t)
	if err := p.Volatile().EmitMany(Message{"v1", nil}, Message{"v2", nil}); err != nil {
		t.Fatal(err)
	}
	if err := p.EmitMany(Message{"a", []any{"x"}}, Message{"b", nil}); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := do(t, "GET", poll, ""); code != 200 || body != "42[\"a\",\"x\"]\x1e42[\"b\"]" {
		t.Fatalf("poll: %d %q, want both events in one response and no volatile one", code, body)
	}
}

// Socket.EmitMany checks every event before it queues any, and reports a
// disconnected socket.
func TestSocketEmitManyRefusesBeforeSendingAnything(t *testing.T) {
	_, _, c, s := oneSocket(t)
	ok := Message{"fine", nil}
	for _, bad := range []Message{{"connect", nil}, {"chan", []any{make(chan int)}}} {
		if err := s.EmitMany(ok, bad); err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", bad.Event)) {
			t.Errorf("EmitMany with %q: %v", bad.Event, err)
		}
	}
	if err := s.EmitMany(); err != nil {
		t.Errorf("no events: %v", err)
	}
	_ = s.Emit("marker")
	readAll(t, "client", c, `42["marker"]`)
	s.Disconnect(false)
	if err := s.EmitMany(ok); !errors.Is(err, ErrDisconnected) {
		t.Errorf("after Disconnect: %v", err)
	}
}
