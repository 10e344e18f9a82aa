package interop

import (
	"bytes"
	"net/http"
	"sync"
	"testing"
	"time"

	"switchboard/socketio"
)

// echoServer serves the main namespace: sockets are tracked, every event is
// recorded, "echo" is emitted back with the same arguments and acknowledged with them,
// and each socket is greeted with "welcome" (its transport) on connection.
func echoServer(t *testing.T, opts *socketio.Options, h func(io *socketio.Server) http.Handler) (*server, *sockets) {
	t.Helper()
	if opts == nil {
		opts = options()
	}
	io := socketio.NewServer(opts)
	reg := newSockets()
	io.OnConnection(func(s *socketio.Socket) {
		reg.track(s)
		s.OnAny(reg.record)
		_ = s.Emit("welcome", s.Transport())
	})
	io.On("echo", func(s *socketio.Socket, e *socketio.Event) {
		_ = s.Emit("echo", echoArgs(e)...)
		_ = e.Ack(echoArgs(e)...)
	})
	var handler http.Handler
	if h != nil {
		handler = h(io)
	}
	return serve(t, "127.0.0.1:0", io, handler), reg
}

// heartbeatOptions ping often, so that a few seconds cover many heartbeats,
// with a pong deadline lenient enough for a loaded machine.
func heartbeatOptions() *socketio.Options {
	o := options()
	o.Engine.PingInterval = 200 * time.Millisecond
	o.Engine.PingTimeout = time.Second
	return o
}

// roundTrip checks one exchange each way on transport: the client emits
// "echo" with an ack, the server records it and answers, the server emits.
func roundTrip(t *testing.T, n *node, reg *sockets, c, transport string) {
	t.Helper()
	seq := n.emitAck(t, c, 0, "echo", "ping over "+transport)
	got := reg.event(t, c, "echo")
	if got.Transport != transport {
		t.Errorf("server handled the event on %q, want %q", got.Transport, transport)
	}
	ack := n.ackOf(t, c, seq)
	sameArgs(t, ack, "ping over "+transport)
	if ack.Transport != transport {
		t.Errorf("client got the ack on %q, want %q", ack.Transport, transport)
	}
	echo := n.event(t, c, "echo")
	sameArgs(t, echo, "ping over "+transport)

	if err := reg.get(t, c).Emit("server says", "hello over "+transport, 42); err != nil {
		t.Fatal(err)
	}
	ev := n.event(t, c, "server says")
	sameArgs(t, ev, "hello over "+transport, 42)
	if ev.Transport != transport {
		t.Errorf("client got the event on %q, want %q", ev.Transport, transport)
	}
}

// A client restricted to one transport connects, exchanges events both
// ways, survives several heartbeats and never upgrades.
func TestSingleTransport(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := echoServer(t, heartbeatOptions(), nil)
			n := startNode(t, "client.mjs")
			conn := n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{transport}})})
			if conn.Transport != transport {
				t.Errorf("client connected over %q, want %q", conn.Transport, transport)
			}
			s := reg.get(t, "a")
			if conn.Sid != s.ID() {
				t.Errorf("client socket id %q, server's %q", conn.Sid, s.ID())
			}
			if s.Transport() != transport {
				t.Errorf("server sees transport %q, want %q", s.Transport(), transport)
			}
			sameArgs(t, n.event(t, "a", "welcome"), transport)
			roundTrip(t, n, reg, "a", transport)

			time.Sleep(1500 * time.Millisecond) // ~7 heartbeats
			if tr := n.transport(t, "a"); !tr.Connected || tr.Name != transport {
				t.Errorf("after the heartbeats the client is on %q, connected %v", tr.Name, tr.Connected)
			}
			if !s.Connected() {
				t.Error("the server disconnected the socket")
			}
			roundTrip(t, n, reg, "a", transport)
			n.none(t, 0, "a disconnection or an upgrade", func(r *report) bool {
				return r.T == "disconnect" || r.T == "upgrade"
			})
			reg.gone.none(t, 0, "disconnection")
		})
	}
}

// upgradeGate holds the WebSocket requests that upgrade a polling session
// until release is called; held receives a value when one arrives.
type upgradeGate struct {
	gate    chan struct{}
	held    chan struct{}
	release func()
}

func newUpgradeGate() *upgradeGate {
	g := &upgradeGate{gate: make(chan struct{}), held: make(chan struct{}, 1)}
	var once sync.Once
	g.release = func() { once.Do(func() { close(g.gate) }) }
	return g
}

func (g *upgradeGate) wrap(io *socketio.Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("transport") == "websocket" && q.Get("sid") != "" { // the upgrade probe
			select {
			case g.held <- struct{}{}:
			default:
			}
			select {
			case <-g.gate:
			case <-r.Context().Done():
				return
			case <-time.After(waitTimeout):
			}
		}
		io.ServeHTTP(w, r)
	})
}

// waitHeld waits until the client tries to upgrade.
func (g *upgradeGate) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-g.held:
	case <-time.After(waitTimeout):
		t.Fatal("the client never tried to upgrade")
	}
}

// With the default transports the client starts on polling and upgrades to
// WebSocket. The test holds the WebSocket handshake back until traffic has
// flowed over polling, then lets the upgrade finish and checks traffic again.
func TestUpgradeFromPollingToWebSocket(t *testing.T) {
	t.Parallel()
	gate := newUpgradeGate()
	srv, reg := echoServer(t, heartbeatOptions(), gate.wrap)
	n := startNode(t, "client.mjs")
	conn := n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", nil)})
	if conn.Transport != "polling" {
		t.Fatalf("client connected over %q, want polling first", conn.Transport)
	}
	if open := n.want(t, "open", "a"); open.Transport != "polling" {
		t.Fatalf("engine opened over %q, want polling", open.Transport)
	}
	sameArgs(t, n.event(t, "a", "welcome"), "polling")
	gate.waitHeld(t)
	roundTrip(t, n, reg, "a", "polling")
	if got := reg.get(t, "a").Transport(); got != "polling" {
		t.Fatalf("server sees %q before the upgrade", got)
	}

	gate.release()
	if up := n.want(t, "upgrade", "a"); up.Transport != "websocket" {
		t.Fatalf("client upgraded to %q", up.Transport)
	}
	roundTrip(t, n, reg, "a", "websocket")
	if got := reg.get(t, "a").Transport(); got != "websocket" {
		t.Fatalf("server sees %q after the upgrade", got)
	}
	if tr := n.transport(t, "a"); tr.Name != "websocket" || !tr.Connected {
		t.Fatalf("client engine on %q, connected %v", tr.Name, tr.Connected)
	}
	time.Sleep(time.Second) // heartbeats over the upgraded connection
	roundTrip(t, n, reg, "a", "websocket")
	n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
	reg.gone.none(t, 0, "disconnection")
}

// Events flowing both ways while the connection upgrades are neither lost
// nor reordered: the server emits 300 events and the client 300 (every
// tenth with a binary attachment), one every 3 ms each, and the upgrade is
// let through while they flow.
func TestNoLossAcrossTheUpgrade(t *testing.T) {
	t.Parallel()
	const count = 300
	gate := newUpgradeGate()
	srv, reg := echoServer(t, nil, gate.wrap)
	n := startNode(t, "client.mjs")
	n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", nil)})
	n.event(t, "a", "welcome")
	s := reg.get(t, "a")
	gate.waitHeld(t)

	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // the server's stream
		defer wg.Done()
		for i := range count {
			var err error
			if i%10 == 0 {
				err = s.Emit("tick", i, s.Transport(), []byte{byte(i), 1, 2, 3})
			} else {
				err = s.Emit("tick", i, s.Transport())
			}
			if err != nil {
				t.Errorf("emit %d: %v", i, err)
				return
			}
			time.Sleep(3 * time.Millisecond)
		}
	}()
	defer wg.Wait()
	n.send(t, map[string]any{"op": "burst", "c": "a", "event": "tock", "count": count, "interval": 3, "binaryEvery": 10})

	// checkTick and checkTock check the i-th event each side received and
	// count the transports they came over.
	ticksVia, tocksVia := map[string]int{}, map[string]int{}
	checkTick := func(i int) {
		t.Helper()
		ev := n.event(t, "a", "tick")
		if got := ev.arg(t, 0); got != float64(i) {
			t.Fatalf("client: tick %v arrived where %d was expected", got, i)
		}
		if i%10 == 0 {
			if len(ev.Args) != 3 || !bytes.Equal(binBytes(t, ev.arg(t, 2)), []byte{byte(i), 1, 2, 3}) {
				t.Fatalf("client: tick %d without its binary attachment: %s", i, ev)
			}
		}
		ticksVia[ev.Transport]++
	}
	checkTock := func(i int) {
		t.Helper()
		got := reg.event(t, "a", "tock")
		var j int
		if err := got.Event.Args.Decode(0, &j); err != nil || j != i {
			t.Fatalf("server: tock %d (%v) arrived where %d was expected", j, err, i)
		}
		if i%10 == 0 {
			if b, err := got.Event.Args.Bytes(2); err != nil || !bytes.Equal(b, []byte{byte(i), 1, 2, 3}) {
				t.Fatalf("server: tock %d without its binary attachment: %q, %v", i, b, err)
			}
		}
		tocksVia[got.Transport]++
	}

	// the first events go over polling; then the upgrade is let through
	const before = 20
	for i := range before {
		checkTick(i)
		checkTock(i)
	}
	gate.release()
	if up := n.want(t, "upgrade", "a"); up.Transport != "websocket" {
		t.Fatalf("upgraded to %q", up.Transport)
	}
	for i := before; i < count; i++ {
		checkTick(i)
		checkTock(i)
	}
	n.want(t, "burst_done", "a")
	if ticksVia["polling"] == 0 || ticksVia["websocket"] == 0 {
		t.Errorf("client received ticks over %v, want both transports", ticksVia)
	}
	if tocksVia["polling"] == 0 || tocksVia["websocket"] == 0 {
		t.Errorf("server received tocks over %v, want both transports", tocksVia)
	}
	wg.Wait()
	roundTrip(t, n, reg, "a", "websocket")
}
