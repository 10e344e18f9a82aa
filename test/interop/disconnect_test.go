package interop

import (
	"syscall"
	"testing"
	"time"

	"switchboard/socketio"
)

// fastReconnect makes the client retry quickly, so that "it does not
// reconnect" is checked over many would-be attempts.
var fastReconnect = map[string]any{"reconnectionDelay": 50, "reconnectionDelayMax": 100}

// Socket.Disconnect(true) reaches the client as "io server disconnect"
// (before the connection closes) on each of its namespaces, after the events
// emitted before it, and the client does not reconnect.
func TestServerDisconnectClosesTheConnection(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			gate := newPollGate()
			srv, reg := adminServerWith(t, gate.wrap)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: merge(auth("a", fastReconnect), map[string]any{"transports": []string{transport}})})
			n.event(t, "a", "welcome")
			reg.connections.next(t, "connection")
			n.connected(t, "a-admin", "/admin", clientOpts{
				SameManagerAs: "a",
				Opts:          map[string]any{"auth": map[string]any{"name": "a-admin", "token": "s3cret"}},
			})
			n.event(t, "a-admin", "welcome")
			reg.connections.next(t, "connection")
			s := reg.get(t, "a")

			if transport == "polling" {
				// Hold the client's next poll request, so that what follows
				// is queued and answered in one response, deterministically
				// (the case where no request is waiting at that moment).
				gate.arm()
				if err := s.Emit("flush"); err != nil { // ends a waiting poll, if any
					t.Fatal(err)
				}
				gate.waitHeld(t) // now no poll request is waiting in the server
			}
			if err := s.Emit("bye", "last words"); err != nil {
				t.Fatal(err)
			}
			s.Disconnect(true)
			gate.open()

			// The client gets the event emitted just before, then its only
			// disconnect event on each namespace says "io server
			// disconnect". Node's server never puts the Engine.IO close
			// packet in the same polling response as other packets (it goes
			// in the next one): the client handles a payload's close packet
			// at once but the Socket.IO packets before it on the next tick,
			// so a close in the same payload makes it see "transport close"
			// (and schedule a reconnection) first, and lose the event.
			checkDisconnect := func(d *report) {
				t.Helper()
				if d.Reason != "io server disconnect" || d.Active == nil || *d.Active {
					t.Errorf("client: %s, want reason \"io server disconnect\" and not active", d)
				}
			}
			first := n.waitFor(t, `"bye" or a disconnection of a`, func(r *report) bool {
				return r.C == "a" && (r.T == "disconnect" || r.T == "event" && r.Event == "bye")
			})
			if first.T == "event" {
				sameArgs(t, first, "last words")
				checkDisconnect(n.want(t, "disconnect", "a"))
			} else {
				t.Errorf("client: %s before the \"bye\" event emitted just before Disconnect(true)", first)
				checkDisconnect(first)
			}
			checkDisconnect(n.want(t, "disconnect", "a-admin"))
			left := map[string]socketio.DisconnectReason{}
			for range 2 {
				g := reg.gone.next(t, "disconnection")
				left[g.Socket] = g.Reason
			}
			if left["a"] != socketio.ReasonServerNamespaceDisconnect || left["a-admin"] != socketio.ReasonServerNamespaceDisconnect {
				t.Errorf("server saw %v, want both with %q", left, socketio.ReasonServerNamespaceDisconnect)
			}
			n.none(t, time.Second, "a second disconnection or a reconnection", func(r *report) bool {
				return r.T == "disconnect" || r.T == "reconnect_attempt" || r.T == "connect" || r.T == "connect_error"
			})
			reg.connections.none(t, 0, "connection")
			if c := srv.Engine().Count(); c != 0 {
				t.Errorf("%d Engine.IO sessions left open", c)
			}
		})
	}
}

// Socket.Disconnect(false) disconnects one namespace; the client's other
// namespace on the same connection keeps working, and the client can
// connect the namespace again.
func TestServerDisconnectOneNamespace(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := adminServer(t)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: merge(auth("a", fastReconnect), map[string]any{"transports": []string{transport}})})
			n.event(t, "a", "welcome")
			n.connected(t, "a-admin", "/admin", clientOpts{
				SameManagerAs: "a",
				Opts:          map[string]any{"auth": map[string]any{"name": "a-admin", "token": "s3cret"}},
			})
			n.event(t, "a-admin", "welcome")
			reg.connections.next(t, "connection of a")
			reg.connections.next(t, "connection of a-admin")
			if srv.Engine().Count() != 1 {
				t.Fatalf("%d Engine.IO sessions, want both namespaces on one", srv.Engine().Count())
			}

			reg.get(t, "a-admin").Disconnect(false)
			d := n.want(t, "disconnect", "a-admin")
			if d.Reason != "io server disconnect" || d.Active == nil || *d.Active {
				t.Fatalf("client: %s, want reason \"io server disconnect\" and not active", d)
			}
			reg.disconnected(t, "a-admin", socketio.ReasonServerNamespaceDisconnect)

			roundTrip(t, n, reg, "a", transport) // the main namespace goes on
			if !reg.get(t, "a").Connected() {
				t.Fatal("the main namespace's socket was disconnected")
			}
			n.none(t, 500*time.Millisecond, "a disconnection or reconnection", func(r *report) bool {
				return r.T == "disconnect" || r.T == "reconnect_attempt" || r.T == "connect"
			})

			n.send(t, map[string]any{"op": "reconnect", "c": "a-admin"})
			conn := n.want(t, "connect", "a-admin")
			if got := reg.connections.next(t, "connection again"); got != "a-admin" {
				t.Fatalf("connection of %q", got)
			}
			if s := reg.get(t, "a-admin"); s.ID() != conn.Sid || !s.Connected() {
				t.Fatalf("after reconnecting: client sid %s, server %s", conn.Sid, s.ID())
			}
			n.event(t, "a-admin", "welcome")
			if srv.Engine().Count() != 1 {
				t.Errorf("%d Engine.IO sessions, want still one", srv.Engine().Count())
			}
		})
	}
}

// Socket.Disconnect(false) on a client's only namespace: the client sees
// "io server disconnect" and closes the connection itself.
func TestServerDisconnectOnlyNamespace(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := echoServer(t, nil, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: merge(auth("a", fastReconnect), map[string]any{"transports": []string{transport}})})
			n.event(t, "a", "welcome")
			reg.get(t, "a").Disconnect(false)
			d := n.want(t, "disconnect", "a")
			if d.Reason != "io server disconnect" || d.Active == nil || *d.Active {
				t.Errorf("client: %s, want reason \"io server disconnect\" and not active", d)
			}
			reg.disconnected(t, "a", socketio.ReasonServerNamespaceDisconnect)
			deadline := time.Now().Add(waitTimeout)
			for srv.Engine().Count() != 0 { // the client closes the connection
				if time.Now().After(deadline) {
					t.Fatalf("%d Engine.IO sessions still open", srv.Engine().Count())
				}
				time.Sleep(10 * time.Millisecond)
			}
			n.none(t, 500*time.Millisecond, "a reconnection", func(r *report) bool {
				return r.T == "disconnect" || r.T == "reconnect_attempt" || r.T == "connect"
			})
		})
	}
}

// The server sees why a client left: socket.disconnect() is "client
// namespace disconnect", a killed process "transport close" on WebSocket and
// "transport error" on polling (its pending poll request breaks), as in Node.
func TestServerSeesClientDisconnectReason(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run("disconnect()/"+transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := echoServer(t, nil, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: merge(auth("a", nil), map[string]any{"transports": []string{transport}})})
			n.event(t, "a", "welcome")
			n.send(t, map[string]any{"op": "disconnect", "c": "a"})
			if d := n.want(t, "disconnect", "a"); d.Reason != "io client disconnect" {
				t.Errorf("client: %s", d)
			}
			reg.disconnected(t, "a", socketio.ReasonClientNamespaceDisconnect)
		})
	}
	for transport, reason := range map[string]socketio.DisconnectReason{
		"websocket": socketio.ReasonTransportClose,
		"polling":   socketio.ReasonTransportError,
	} {
		t.Run("SIGKILL/"+transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := echoServer(t, nil, nil)
			n := startNode(t, "client.mjs")
			opts := auth("a", nil)
			if transport == "polling" {
				opts["transports"] = []string{"polling"}
			}
			n.connected(t, "a", srv.URL, clientOpts{Opts: opts})
			n.event(t, "a", "welcome")
			if transport == "websocket" {
				n.want(t, "upgrade", "a") // polling first, then the upgrade
			}
			roundTrip(t, n, reg, "a", transport)
			time.Sleep(200 * time.Millisecond) // the client's next poll request is waiting
			n.signal(t, syscall.SIGKILL)
			n.exited(t)
			reg.disconnected(t, "a", reason)
		})
	}
}

// A frozen client (its process stopped with SIGSTOP: the connection stays
// open but nothing answers) is disconnected with "ping timeout" after
// pingInterval + pingTimeout, while a live client stays connected; once
// resumed, the frozen client notices and reconnects.
//
// The heartbeat is 1 s + 1 s: CI runs other packages' tests (and links
// their binaries) meanwhile, and with 300 + 600 ms the healthy clients of a
// starved machine timed out their pings too.
func TestPingTimeoutOfAFrozenClient(t *testing.T) {
	o := options()
	o.Engine.PingInterval = time.Second
	o.Engine.PingTimeout = time.Second
	srv, reg := echoServer(t, o, nil)

	healthy := startNode(t, "client.mjs")
	healthy.connected(t, "healthy", srv.URL, clientOpts{Opts: auth("healthy", nil)})
	frozen := map[string]*node{}
	for _, transport := range []string{"polling", "websocket"} {
		n := startNode(t, "client.mjs")
		n.connected(t, transport, srv.URL, clientOpts{Opts: merge(auth(transport, map[string]any{"reconnectionDelay": 100}), map[string]any{"transports": []string{transport}})})
		frozen[transport] = n
	}
	for range 3 {
		reg.connections.next(t, "connection")
	}
	time.Sleep(2500 * time.Millisecond) // a few heartbeats for everyone
	reg.gone.none(t, 0, "disconnection before the freeze")

	stopped := time.Now()
	for _, n := range frozen {
		n.signal(t, syscall.SIGSTOP)
	}
	t.Cleanup(func() { // never leave a stopped process behind
		for _, n := range frozen {
			_ = n.cmd.Process.Signal(syscall.SIGCONT)
		}
	})
	left := map[string]socketio.DisconnectReason{}
	for range 2 {
		g := reg.gone.next(t, "ping timeout of the frozen clients")
		left[g.Socket] = g.Reason
	}
	elapsed := time.Since(stopped)
	for _, transport := range []string{"polling", "websocket"} {
		if left[transport] != socketio.ReasonPingTimeout {
			t.Errorf("frozen %s client: disconnected with %q, want %q (all: %v)", transport, left[transport], socketio.ReasonPingTimeout, left)
		}
	}
	if elapsed > 6*time.Second {
		t.Errorf("ping timeouts took %v, want about 2 s", elapsed)
	}

	reg.gone.none(t, 2*time.Second, "disconnection of the healthy client")
	if tr := healthy.transport(t, "healthy"); !tr.Connected {
		t.Error("the healthy client is disconnected")
	}
	healthy.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })

	for _, n := range frozen {
		n.signal(t, syscall.SIGCONT)
	}
	sids := map[string]string{}
	for transport, n := range frozen {
		if d := n.want(t, "disconnect", transport); d.Active == nil || !*d.Active {
			t.Errorf("resumed %s client: %s, want an active socket that reconnects", transport, d)
		}
		sids[transport] = n.want(t, "connect", transport).Sid
	}
	for range 2 {
		reg.connections.next(t, "reconnection of a resumed client")
	}
	for transport, sid := range sids {
		if s := reg.get(t, transport); s.ID() != sid || !s.Connected() {
			t.Errorf("resumed %s client: sid %s, server's %s", transport, sid, s.ID())
		}
	}
}
