package interop

import (
	"net/url"
	"testing"
	"time"

	"switchboard/socketio"
)

// After Server.Close and the HTTP server's shutdown, a new server on the same
// port gets the client back by itself (default reconnection, shorter
// delays), and events flow again. The old server saw "server shutting down".
func TestClientReconnectsAfterServerRestart(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			first, reg1 := restartServer(t, "127.0.0.1:0", "first")
			n := startNode(t, "client.mjs")
			opts := merge(auth("a", nil), map[string]any{"reconnectionDelay": 100, "reconnectionDelayMax": 200})
			if transport == "polling" {
				opts["transports"] = []string{"polling"}
			}
			conn := n.connected(t, "a", first.URL, clientOpts{Opts: opts})
			if transport == "websocket" {
				n.want(t, "upgrade", "a")
			}
			seq := n.emitAck(t, "a", 0, "which")
			sameArgs(t, n.ackOf(t, "a", seq), "first", conn.Sid)

			// Let the client's next poll request arrive: closing a polling
			// session with no request waiting cannot send it the close packet,
			// and the client then reports "transport error" (as with Node).
			time.Sleep(200 * time.Millisecond)
			first.stop(t)
			reg1.disconnected(t, "a", socketio.ReasonServerShuttingDown)
			d := n.want(t, "disconnect", "a")
			if d.Active == nil || !*d.Active {
				t.Fatalf("client: %s, want an active socket that reconnects", d)
			}
			if d.Reason != "transport close" { // as with Node's io.close()
				t.Errorf("client disconnect reason %q, want \"transport close\"", d.Reason)
			}
			// the client tries while nothing listens
			n.want(t, "reconnect_attempt", "a")
			n.want(t, "reconnect_error", "a")

			u, err := url.Parse(first.URL)
			if err != nil {
				t.Fatal(err)
			}
			second, reg2 := restartServer(t, u.Host, "second")
			n.want(t, "reconnect", "a")
			conn = n.want(t, "connect", "a")
			if s := reg2.get(t, "a"); s.ID() != conn.Sid {
				t.Fatalf("client sid %s, new server's %s", conn.Sid, s.ID())
			}
			seq = n.emitAck(t, "a", 0, "which")
			sameArgs(t, n.ackOf(t, "a", seq), "second", conn.Sid)
			if err := second.Emit("hello again", "from the second server"); err != nil {
				t.Fatal(err)
			}
			sameArgs(t, n.event(t, "a", "hello again"), "from the second server")
			n.none(t, 0, "another disconnection", func(r *report) bool { return r.T == "disconnect" })
		})
	}
}

// restartServer serves a server named name on addr: "which" is acknowledged
// with the name and the socket id.
func restartServer(t *testing.T, addr, name string) (*server, *sockets) {
	t.Helper()
	io := socketio.NewServer(options())
	reg := newSockets()
	io.OnConnection(reg.track)
	io.On("which", func(s *socketio.Socket, e *socketio.Event) { _ = e.Ack(name, s.ID()) })
	return serve(t, addr, io, nil), reg
}
