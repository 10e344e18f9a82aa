package interop

import (
	"slices"
	"strings"
	"testing"
)

// A message over MaxHTTPBufferSize (default 1e6) is not delivered and costs
// the client its connection, not its socket: it reconnects and goes on.
//
// On WebSocket the reasons are Node's: the server closes the connection
// ("transport error") and the client sees "transport close". On polling,
// Node answers 413 and keeps the session until the client, having seen
// "transport error", sends a close packet (server: "transport close"); this
// server closes the session along with the 413, so the client may see the
// close packet first ("transport close") and the server says "transport
// error". Both lead to the same reconnection, so either is accepted.
func TestOversizedMessageCostsTheConnection(t *testing.T) {
	t.Parallel()
	for transport, want := range map[string]struct{ client, server []string }{
		"websocket": {[]string{"transport close"}, []string{"transport error"}},
		"polling":   {[]string{"transport error", "transport close"}, []string{"transport close", "transport error"}},
	} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := echoServer(t, nil, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: merge(auth("a", fastReconnect), map[string]any{"transports": []string{transport}})})
			n.event(t, "a", "welcome")
			reg.connections.next(t, "connection")
			n.emit(t, "a", "echo", strings.Repeat("x", 1_200_000))
			if d := n.want(t, "disconnect", "a"); !slices.Contains(want.client, d.Reason) || d.Active == nil || !*d.Active {
				t.Errorf("client: %s, want an active socket and a reason in %q", d, want.client)
			}
			g := reg.gone.next(t, "disconnection")
			if !slices.Contains(want.server, string(g.Reason)) {
				t.Errorf("server saw %q, want one of %q", g.Reason, want.server)
			}

			n.want(t, "connect", "a")
			reg.connections.next(t, "reconnection")
			n.event(t, "a", "welcome")
			roundTrip(t, n, reg, "a", transport)
			n.emit(t, "a", "echo", strings.Repeat("y", 900_000)) // under the limit
			if got := reg.event(t, "a", "echo"); len(got.Event.Args.Raw(0)) != 900_002 {
				t.Errorf("server got %d bytes", len(got.Event.Args.Raw(0)))
			}
			n.event(t, "a", "echo")
			reg.events.none(t, 0, "event") // the oversized one never arrives
		})
	}
}
