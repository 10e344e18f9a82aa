package interop

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"switchboard/socketio"
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

// The client sizes its polling batches by the maxPayload the handshake
// announces (MaxHTTPBufferSize): with a small limit, many messages sent at
// once go in several requests, none refused.
func TestPollingBatchesRespectMaxPayload(t *testing.T) {
	t.Parallel()
	opts := options()
	opts.Engine.MaxHTTPBufferSize = 10_000
	var mu sync.Mutex
	var posts []int64 // body sizes
	srv, reg := echoServer(t, opts, func(io *socketio.Server) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				mu.Lock()
				posts = append(posts, r.ContentLength)
				mu.Unlock()
			}
			io.ServeHTTP(w, r)
		})
	})
	srv.On("chunk", func(s *socketio.Socket, e *socketio.Event) {})
	n := startNode(t, "client.mjs")
	n.connected(t, "a", srv.URL, clientOpts{Opts: merge(auth("a", nil), map[string]any{"transports": []string{"polling"}})})
	n.event(t, "a", "welcome")
	const count = 30
	chunk := strings.Repeat("ünïcödé ✓ ", 150) // 2,100 bytes of UTF-8, 1,500 characters
	for i := range count {
		n.emit(t, "a", "chunk", i, chunk)
	}
	for i := range count {
		got := reg.event(t, "a", "chunk")
		var j int
		var text string
		if err := got.Event.Args.Decode(0, &j); err != nil || j != i {
			t.Fatalf("chunk %d (%v) where %d was expected", j, err, i)
		}
		if err := got.Event.Args.Decode(1, &text); err != nil || text != chunk {
			t.Fatalf("chunk %d: %d bytes (%v)", i, len(text), err)
		}
	}
	n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
	reg.gone.none(t, 0, "disconnection")
	mu.Lock()
	defer mu.Unlock()
	batched := false
	for _, size := range posts {
		if size > 10_000 {
			t.Errorf("a POST of %d bytes, over the announced maxPayload", size)
		}
		batched = batched || size > 2*2_100
	}
	if !batched {
		t.Errorf("POST sizes %v: the client never batched", posts)
	}
}
