package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/engineio"
	"switchboard/socketio"
)

// The socket.io-client options a user may set, and the client features
// beyond plain emits (volatile, compress, emitWithAck, retries, auth as a
// function, Manager multiplexing), against the Go server.

// sameJSON reports whether raw is the JSON of want.
func sameJSON(t *testing.T, raw []byte, want any) bool {
	t.Helper()
	var got any
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return reflect.DeepEqual(got, jsonCanon(t, want))
}

// requestLog records the target of every request that reaches the server.
type requestLog struct {
	mu   sync.Mutex
	urls []*url.URL
}

func (l *requestLog) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := *r.URL
		l.mu.Lock()
		l.urls = append(l.urls, &u)
		l.mu.Unlock()
		next.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []*url.URL {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.urls)
}

// loggedEchoServer is echoServer with every request recorded.
func loggedEchoServer(t *testing.T, opts *socketio.Options) (*server, *sockets, *requestLog) {
	t.Helper()
	log := &requestLog{}
	srv, reg := echoServer(t, opts, func(io *socketio.Server) http.Handler { return log.wrap(io) })
	return srv, reg, log
}

// The query option reaches Handshake().Query() over either transport, and
// every request carries it; timestampRequests with a custom timestampParam
// puts a fresh cache-busting value in every request, and
// timestampRequests: false none.
func TestClientQueryAndTimestampOptions(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg, log := loggedEchoServer(t, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{
				"transports":        []string{transport},
				"query":             map[string]any{"token": "tök en&=", "n": 1},
				"timestampRequests": true,
				"timestampParam":    "ts",
			})})
			s := reg.get(t, "a")
			if q := s.Handshake().Query(); q.Get("token") != "tök en&=" || q.Get("n") != "1" || q.Get("ts") == "" || q.Get("transport") != transport {
				t.Errorf("Handshake().Query() = %v", q)
			}
			roundTrip(t, n, reg, "a", transport)
			stamps := map[string]bool{}
			reqs := log.all()
			for _, u := range reqs {
				q := u.Query()
				if q.Get("token") != "tök en&=" || q.Get("ts") == "" || q.Has("t") {
					t.Errorf("request %s: want the query and a ts stamp", u)
				}
				stamps[q.Get("ts")] = true
			}
			if transport == "polling" && len(stamps) < 2 { // random stamps: a repeat is possible, one for all is not
				t.Errorf("%d requests with %d distinct stamps: %v", len(reqs), len(stamps), reqs)
			}
		})
	}
	t.Run("no timestamps", func(t *testing.T) {
		t.Parallel()
		srv, reg, log := loggedEchoServer(t, nil)
		n := startNode(t, "client.mjs")
		n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{
			"transports":        []string{"polling"},
			"timestampRequests": false,
		})})
		roundTrip(t, n, reg, "a", "polling")
		for _, u := range log.all() {
			if u.Query().Has("t") {
				t.Errorf("request %s carries a timestamp", u)
			}
		}
	})
}

// A server on a custom path serves a client given the same path (the client
// adds the trailing slash), through the upgrade; requests for the default
// path are not answered as Socket.IO.
func TestCustomPath(t *testing.T) {
	t.Parallel()
	opts := options()
	opts.Path = "/realtime/"
	srv, reg, log := loggedEchoServer(t, opts)
	n := startNode(t, "client.mjs")
	n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"path": "/realtime"})})
	if open := n.want(t, "open", "a"); open.Transport != "polling" {
		t.Fatalf("opened over %q", open.Transport)
	}
	n.want(t, "upgrade", "a")
	reg.connections.next(t, "connection")
	roundTrip(t, n, reg, "a", "websocket")
	for _, u := range log.all() {
		if u.Path != "/realtime/" {
			t.Errorf("request for %s", u)
		}
	}

	n.connect(t, "b", srv.URL, clientOpts{Opts: auth("b", map[string]any{"reconnection": false})})
	if ce := n.want(t, "connect_error", "b"); ce.Message != "xhr poll error" {
		t.Errorf("default path: connect_error %q", ce.Message)
	}
	reg.connections.none(t, 0, "connection on the default path")
}

// With addTrailingSlash: false the client asks for /socket.io?EIO=4… (no
// slash after the path). The server answers it as the path with its slash,
// over both transports and through the upgrade, on the default path and a
// custom one. (Node answers it only when its server is also given
// addTrailingSlash: false; a Go server accepting both costs nothing.)
func TestClientAddTrailingSlashFalse(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "/realtime/"} {
		name := path
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			opts := options()
			opts.Path = path
			srv, reg, log := loggedEchoServer(t, opts)
			clientPath := "/socket.io"
			if path != "" {
				clientPath = "/realtime"
			}
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"path": clientPath, "addTrailingSlash": false})})
			n.want(t, "upgrade", "a")
			roundTrip(t, n, reg, "a", "websocket")
			reqs := log.all()
			for _, u := range reqs {
				if u.Path != clientPath {
					t.Errorf("request for %s, want path %s", u, clientPath)
				}
			}
			if len(reqs) < 3 { // handshake, CONNECT, poll, upgrade…
				t.Errorf("only %d requests", len(reqs))
			}
		})
	}
}

// With forceBase64 the client sends binary as base64 text: "b…" packets in
// polling payloads, and "b…" text frames over WebSocket, where it also asks
// for b64=1 and, as from Node, gets binary as "b…" text frames too (a
// client forcing base64 may not handle binary frames), compressed or not.
// Binary arrives intact both ways, over each transport and across the
// upgrade, also inside objects relayed with Args.Values.
func TestForceBase64(t *testing.T) {
	t.Parallel()
	for _, transports := range [][]string{{"polling"}, {"websocket"}, {"polling", "websocket"}} {
		want := transports[len(transports)-1]
		t.Run(want+"-from-"+transports[0], func(t *testing.T) {
			t.Parallel()
			opts := options()
			opts.Engine.PerMessageDeflate = &engineio.PerMessageDeflate{} // the 3,000-byte blob is compressed
			srv, reg := echoServer(t, opts, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": transports, "forceBase64": true})})
			if len(transports) == 2 {
				n.want(t, "upgrade", "a")
			}
			s := reg.get(t, "a")
			if q := s.Handshake().Query(); q.Get("b64") != "1" {
				t.Errorf("Handshake().Query() = %v, want b64=1", q)
			}
			n.event(t, "a", "welcome")

			payload := []byte{0, 1, 2, 254, 255}
			seq := n.emitAck(t, "a", 0, "echo", payload, "text ✓", map[string]any{"blob": largeBinary(3000)})
			got := reg.event(t, "a", "echo")
			if got.Transport != want {
				t.Errorf("server got the event over %s", got.Transport)
			}
			if b, err := got.Event.Args.Bytes(0); err != nil || !bytes.Equal(b, payload) {
				t.Errorf("server got % x, %v", b, err)
			}
			var obj struct {
				Blob []byte `json:"blob"`
			}
			if err := got.Event.Args.Decode(2, &obj); err != nil || !bytes.Equal(obj.Blob, largeBinary(3000)) {
				t.Errorf("server got a nested blob of %d bytes, %v", len(obj.Blob), err)
			}
			ack := n.ackOf(t, "a", seq)
			sameArgs(t, ack, payload, "text ✓", map[string]any{"blob": largeBinary(3000)})
			sameArgs(t, n.event(t, "a", "echo"), payload, "text ✓", map[string]any{"blob": largeBinary(3000)})

			if err := s.Emit("from go", []byte{9, 8, 7}); err != nil {
				t.Fatal(err)
			}
			ev := n.event(t, "a", "from go")
			sameArgs(t, ev, []byte{9, 8, 7})
			if typ := binType(ev.arg(t, 0)); typ != "Buffer" {
				t.Errorf("binary arrived as %s", typ)
			}
			roundTrip(t, n, reg, "a", want)
			if tr := n.transport(t, "a"); tr.N != 0 {
				t.Errorf("the client got %d binary WebSocket frames, want none", tr.N)
			}
			if want == "websocket" { // a client without forceBase64 gets binary frames
				n.connected(t, "p", srv.URL, clientOpts{Opts: auth("p", map[string]any{"transports": transports})})
				if len(transports) == 2 {
					n.want(t, "upgrade", "p")
				}
				seq := n.emitAck(t, "p", 0, "echo", payload)
				reg.event(t, "p", "echo")
				sameArgs(t, n.ackOf(t, "p", seq), payload)
				if tr := n.transport(t, "p"); tr.N == 0 || tr.Name != "websocket" {
					t.Errorf("the plain client got %d binary WebSocket frames over %s", tr.N, tr.Name)
				}
			}
			n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
			reg.gone.none(t, 0, "disconnection")
		})
	}
}

// With upgrade: false the client stays on polling though the server offers
// WebSocket: it never even tries.
func TestClientUpgradeFalse(t *testing.T) {
	t.Parallel()
	srv, reg, log := loggedEchoServer(t, heartbeatOptions())
	n := startNode(t, "client.mjs")
	n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"upgrade": false})})
	roundTrip(t, n, reg, "a", "polling")
	time.Sleep(time.Second) // heartbeats: a probe would have started at the open
	roundTrip(t, n, reg, "a", "polling")
	for _, u := range log.all() {
		if u.Query().Get("transport") != "polling" {
			t.Errorf("request %s", u)
		}
	}
	n.none(t, 0, "an upgrade", func(r *report) bool { return r.T == "upgrade" })
}

// With rememberUpgrade, once a connection has upgraded to WebSocket the
// client's next connections open on WebSocket directly; without it they
// start on polling again.
func TestClientRememberUpgrade(t *testing.T) {
	t.Parallel()
	srv, reg, log := loggedEchoServer(t, nil)
	n := startNode(t, "client.mjs")
	remember := map[string]any{"rememberUpgrade": true}
	n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", remember)})
	if open := n.want(t, "open", "a"); open.Transport != "polling" {
		t.Fatalf("first connection opened over %q, want polling", open.Transport)
	}
	n.want(t, "upgrade", "a")
	roundTrip(t, n, reg, "a", "websocket")

	before := len(log.all())
	n.connected(t, "b", srv.URL, clientOpts{Opts: auth("b", remember)})
	if open := n.want(t, "open", "b"); open.Transport != "websocket" {
		t.Fatalf("second connection opened over %q, want websocket", open.Transport)
	}
	if first := log.all()[before]; first.Query().Get("transport") != "websocket" || first.Query().Has("sid") {
		t.Errorf("the second connection started with %s, want a WebSocket handshake", first)
	}
	if got := reg.get(t, "b").Transport(); got != "websocket" {
		t.Errorf("server sees %s", got)
	}
	roundTrip(t, n, reg, "b", "websocket")

	n.connected(t, "c", srv.URL, clientOpts{Opts: auth("c", nil)})
	if open := n.want(t, "open", "c"); open.Transport != "polling" {
		t.Errorf("a connection without rememberUpgrade opened over %q", open.Transport)
	}
}

// transports: ["websocket", "polling"] opens on WebSocket. On a server
// without WebSocket, tryAllTransports falls back to polling (and on one
// without polling, from polling to WebSocket); without it the connection
// fails ("websocket error"), as with Node.
func TestClientTransportOrderAndTryAllTransports(t *testing.T) {
	t.Parallel()
	t.Run("websocket first", func(t *testing.T) {
		t.Parallel()
		srv, reg, log := loggedEchoServer(t, nil)
		n := startNode(t, "client.mjs")
		conn := n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{"websocket", "polling"}})})
		if conn.Transport != "websocket" {
			t.Fatalf("connected over %q", conn.Transport)
		}
		if first := log.all()[0]; first.Query().Get("transport") != "websocket" {
			t.Errorf("first request %s", first)
		}
		roundTrip(t, n, reg, "a", "websocket")
	})
	pollingOnly := func() *socketio.Options {
		o := options()
		o.Engine.Transports = []string{engineio.TransportPolling}
		return o
	}
	t.Run("fallback", func(t *testing.T) {
		t.Parallel()
		srv, reg := echoServer(t, pollingOnly(), nil)
		n := startNode(t, "client.mjs")
		conn := n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{
			"transports": []string{"websocket", "polling"}, "tryAllTransports": true,
		})})
		if conn.Transport != "polling" {
			t.Fatalf("connected over %q", conn.Transport)
		}
		roundTrip(t, n, reg, "a", "polling")
	})
	t.Run("fallback to websocket", func(t *testing.T) {
		t.Parallel()
		o := options()
		o.Engine.Transports = []string{engineio.TransportWebSocket}
		srv, reg := echoServer(t, o, nil)
		n := startNode(t, "client.mjs")
		conn := n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"tryAllTransports": true})})
		if conn.Transport != "websocket" {
			t.Fatalf("connected over %q", conn.Transport)
		}
		roundTrip(t, n, reg, "a", "websocket")
	})
	t.Run("no fallback", func(t *testing.T) {
		t.Parallel()
		srv, reg := echoServer(t, pollingOnly(), nil)
		n := startNode(t, "client.mjs")
		n.connect(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{
			"transports": []string{"websocket", "polling"}, "reconnection": false,
		})})
		if ce := n.want(t, "connect_error", "a"); ce.Message != "websocket error" {
			t.Errorf("connect_error %q", ce.Message)
		}
		reg.connections.none(t, 0, "connection")
	})
}

// Volatile emits: the client's arrive on a writable connection; the
// server's (Socket.Volatile, Server.Volatile) arrive when the transport can
// take them and are dropped — not queued — over polling while no poll
// request waits, where Node's are dropped too.
func TestVolatileEmits(t *testing.T) {
	t.Parallel()
	t.Run("websocket", func(t *testing.T) {
		t.Parallel()
		srv, reg := echoServer(t, nil, nil)
		n := startNode(t, "client.mjs")
		n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{"websocket"}})})
		n.event(t, "a", "welcome")
		n.emitFlagged(t, "a", emitFlags{Volatile: true}, "echo", "volatile from the client")
		reg.event(t, "a", "echo")
		sameArgs(t, n.event(t, "a", "echo"), "volatile from the client")

		s := reg.get(t, "a")
		if err := s.Volatile().Emit("v", 1); err != nil {
			t.Fatal(err)
		}
		sameArgs(t, n.event(t, "a", "v"), 1)
		if err := srv.Volatile().Emit("v", 2); err != nil {
			t.Fatal(err)
		}
		sameArgs(t, n.event(t, "a", "v"), 2)
	})
	t.Run("polling", func(t *testing.T) {
		t.Parallel()
		gate := newPollGate()
		srv, reg := echoServer(t, nil, gate.wrap)
		n := startNode(t, "client.mjs")
		n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{"polling"}})})
		n.event(t, "a", "welcome")
		s := reg.get(t, "a")

		// no poll waits (the client's poll request is held on its way,
		// before or after it fetched "flush"): dropped
		gate.arm()
		if err := s.Emit("flush"); err != nil {
			t.Fatal(err)
		}
		gate.waitHeld(t)
		if err := s.Volatile().Emit("v", "dropped"); err != nil {
			t.Fatal(err)
		}
		if err := srv.Volatile().Emit("v", "dropped too"); err != nil {
			t.Fatal(err)
		}
		if err := s.Emit("after", "kept"); err != nil {
			t.Fatal(err)
		}
		gate.open()
		n.event(t, "a", "flush")
		sameArgs(t, n.event(t, "a", "after"), "kept")
		n.none(t, 0, "a dropped volatile event", func(r *report) bool { return r.Event == "v" })
		roundTrip(t, n, reg, "a", "polling")
	})
}

// socket.compress(false) and compress(true) over a WebSocket with
// per-message deflate negotiated: the server reads both kinds of frames,
// and the client reads the server's own compressed and uncompressed emits.
// A client with perMessageDeflate: false gets no compression and works too.
func TestClientCompressFlag(t *testing.T) {
	t.Parallel()
	for _, deflate := range []bool{true, false} {
		t.Run(fmt.Sprintf("perMessageDeflate-%v", deflate), func(t *testing.T) {
			t.Parallel()
			opts := options()
			opts.Engine.PerMessageDeflate = &engineio.PerMessageDeflate{}
			srv, reg := echoServer(t, opts, nil)
			n := startNode(t, "client.mjs")
			copts := map[string]any{"transports": []string{"websocket"}}
			if !deflate {
				copts["perMessageDeflate"] = false
			}
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", copts)})
			n.event(t, "a", "welcome")
			if ext := n.transport(t, "a").Text; strings.Contains(ext, "permessage-deflate") != deflate {
				t.Fatalf("negotiated extensions %q", ext)
			}
			big := largeString(50_000)
			for _, compress := range []bool{false, true} {
				seq := n.emitFlagged(t, "a", emitFlags{Compress: &compress, Ack: true}, "echo", big, compress)
				got := reg.event(t, "a", "echo")
				if str, err := got.Event.Args.String(0); err != nil || str != big {
					t.Fatalf("compress(%v): server got %d bytes, %v", compress, len(str), err)
				}
				sameArgs(t, n.ackOf(t, "a", seq), big, compress)
				sameArgs(t, n.event(t, "a", "echo"), big, compress)
			}
			// The server's own compress(false) and compress(true): to the
			// socket, and broadcast.
			s := reg.get(t, "a")
			for _, compress := range []bool{false, true} {
				if err := s.Compress(compress).Emit("to-one", big, compress); err != nil {
					t.Fatal(err)
				}
				sameArgs(t, n.event(t, "a", "to-one"), big, compress)
				if err := srv.Compress(compress).Emit("to-all", big, compress); err != nil {
					t.Fatal(err)
				}
				sameArgs(t, n.event(t, "a", "to-all"), big, compress)
			}
		})
	}
}

// socket.emitWithAck resolves with the server's first ack argument; with
// socket.timeout(ms) and a server that never answers it rejects with the
// client's timeout error, and the connection stays up.
func TestClientEmitWithAckPromise(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := ackServer(t, nil)
			n := startNode(t, "client.mjs")
			n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"transports": []string{transport}})})
			n.event(t, "a", "welcome")

			seq := n.emitFlagged(t, "a", emitFlags{WithAck: true}, "sum", []any{1, 2, 3})
			reg.event(t, "a", "sum")
			sameArgs(t, n.ackOf(t, "a", seq), 6)

			seq = n.emitFlagged(t, "a", emitFlags{WithAck: true, Timeout: 5 * time.Second}, "later")
			reg.event(t, "a", "later")
			sameArgs(t, n.ackOf(t, "a", seq), "late answer")

			seq = n.emitFlagged(t, "a", emitFlags{WithAck: true, Timeout: 300 * time.Millisecond}, "never")
			if got := reg.event(t, "a", "never"); !got.Event.HasAck() {
				t.Error("HasAck is false for emitWithAck")
			}
			if ack := n.ackOf(t, "a", seq); ack.Error == nil || *ack.Error != "operation has timed out" {
				t.Fatalf("client: %s, want the timeout error", ack)
			}
			roundTrip(t, n, reg, "a", transport)
			n.none(t, 0, "a disconnection", func(r *report) bool { return r.T == "disconnect" })
		})
	}
}

// With retries, an event the server acknowledges too late is sent again
// (with a new ack id) and the client takes the answer to the copy that
// came in time; the late answer to the first copy is ignored. An event
// never acknowledged is sent 1+retries times, then fails, and the queue
// moves on.
func TestClientRetriesWithLateAndMissingAcks(t *testing.T) {
	t.Parallel()
	srv, _ := echoServer(t, nil, nil)
	copies := newQueue[*socketio.Event]()
	var first *socketio.Event // the handlers of one client run one at a time
	srv.On("flaky", func(s *socketio.Socket, e *socketio.Event) {
		copies.put(e)
		if str, _ := e.Args.String(0); str != "once" {
			return // never answered
		}
		if first == nil {
			first = e // not answered in time
			return
		}
		_ = first.Ack("answer to copy", 1) // late: the client gave up on it
		_ = e.Ack("answer to copy", 2)
	})
	n := startNode(t, "client.mjs")
	n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", map[string]any{"retries": 2, "ackTimeout": 1000})})
	n.event(t, "a", "welcome")

	seq := n.emitFlagged(t, "a", emitFlags{Ack: true}, "flaky", "once")
	c1 := copies.next(t, "first copy")
	c2 := copies.next(t, "second copy (after the client's ack timeout)")
	for _, e := range []*socketio.Event{c1, c2} {
		if !e.HasAck() {
			t.Fatal("a copy without ack id")
		}
		if str, _ := e.Args.String(0); str != "once" {
			t.Fatalf("copy with %q", str)
		}
	}
	ack := n.ackOf(t, "a", seq)
	if ack.Error != nil {
		t.Fatalf("client: %s", ack)
	}
	sameArgs(t, ack, nil, "answer to copy", 2) // with retries, callbacks are error-first

	// never answered: three copies, then the client's error
	seq = n.emitFlagged(t, "a", emitFlags{Ack: true}, "flaky", "never")
	for i := range 3 {
		if str, _ := copies.next(t, "copy").Args.String(0); str != "never" {
			t.Fatalf("copy %d with %q", i, str)
		}
	}
	if ack := n.ackOf(t, "a", seq); ack.Error == nil || *ack.Error != "operation has timed out" {
		t.Fatalf("client: %s, want the timeout error", ack)
	}
	// the queue moves on; the echo handler acknowledges at once
	seq = n.emitFlagged(t, "a", emitFlags{Ack: true}, "echo", "next")
	sameArgs(t, n.ackOf(t, "a", seq), nil, "next")
	copies.none(t, 0, "another copy")
	n.none(t, 0, "a second ack", func(r *report) bool { return r.T == "ack" })
}

// auth given as a function is called for every CONNECT: after a refusal
// (socket.connect() again) and after a lost connection (the Manager
// reconnects by itself), the server sees the credentials of that attempt.
func TestClientAuthFunction(t *testing.T) {
	t.Parallel()
	srv, reg := adminServer(t)
	n := startNode(t, "client.mjs")
	n.connect(t, "adm", srv.URL+"/admin", clientOpts{
		Opts: map[string]any{"reconnectionDelay": 50, "reconnectionDelayMax": 100},
		AuthSeq: []map[string]any{
			{"name": "adm", "token": "wrong"},
			{"name": "adm", "token": "s3cret", "attempt": 2},
			{"name": "adm", "token": "s3cret", "attempt": 3},
		},
	})
	n.want(t, "auth_called", "adm")
	if ce := n.want(t, "connect_error", "adm"); ce.Message != "unauthorized" {
		t.Fatalf("connect_error %q", ce.Message)
	}
	n.send(t, map[string]any{"op": "reconnect", "c": "adm"})
	if a := n.want(t, "auth_called", "adm"); a.N != 2 {
		t.Fatalf("auth function call %d", a.N)
	}
	conn := n.want(t, "connect", "adm")
	if got := reg.connections.next(t, "connection"); got != "adm" {
		t.Fatalf("connection of %q", got)
	}
	s := reg.get(t, "adm")
	if !sameJSON(t, s.Handshake().Auth, map[string]any{"name": "adm", "token": "s3cret", "attempt": 2}) || s.ID() != conn.Sid {
		t.Errorf("socket %s (client's %s), auth %s", s.ID(), conn.Sid, s.Handshake().Auth)
	}
	n.event(t, "adm", "welcome")

	// the server closes the connection: the Manager reconnects and asks again
	sess, ok := srv.Engine().Session(conn.Eid)
	if !ok {
		t.Fatalf("no Engine.IO session %q", conn.Eid)
	}
	sess.Close()
	reg.disconnected(t, "adm", socketio.ReasonForcedServerClose) // Node: "forced close" for socket.conn.close()
	if d := n.want(t, "disconnect", "adm"); d.Reason != "transport close" || d.Active == nil || !*d.Active {
		t.Errorf("client: %s, want an active socket after \"transport close\"", d)
	}
	if a := n.want(t, "auth_called", "adm"); a.N != 3 {
		t.Fatalf("auth function call %d", a.N)
	}
	n.want(t, "reconnect", "adm")
	conn = n.want(t, "connect", "adm")
	if got := reg.connections.next(t, "reconnection"); got != "adm" {
		t.Fatalf("connection of %q", got)
	}
	s = reg.get(t, "adm")
	if !sameJSON(t, s.Handshake().Auth, map[string]any{"name": "adm", "token": "s3cret", "attempt": 3}) || s.ID() != conn.Sid {
		t.Errorf("socket %s (client's %s), auth %s", s.ID(), conn.Sid, s.Handshake().Auth)
	}
	sameArgs(t, n.event(t, "adm", "welcome"), "/admin")
}

// Sockets of one Manager share a connection: io(url) without forceNew
// reuses the cached Manager for another namespace (multiplexing); forceNew
// and multiplex: false get a connection of their own. Closing the Manager (socket.io.disconnect())
// disconnects its sockets ("forced close" for the client, "transport
// close" for the server, as with Node); socket.connect() then opens a new
// connection, on which both sockets connect again, as with Node, and what
// was emitted meanwhile arrives.
func TestClientManagerMultiplexing(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"polling", "websocket"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			srv, reg := adminServer(t)
			n := startNode(t, "client.mjs")
			shared := map[string]any{"forceNew": false, "transports": []string{transport}}
			a := n.connected(t, "a", srv.URL, clientOpts{Opts: auth("a", shared)})
			r := n.connected(t, "r", srv.URL+"/room-1", clientOpts{Opts: auth("r", shared)})
			if a.Eid == "" || a.Eid != r.Eid {
				t.Fatalf("engine ids %q and %q: want one shared connection", a.Eid, r.Eid)
			}
			own := n.connected(t, "own", srv.URL+"/room-2", clientOpts{Opts: auth("own", map[string]any{"transports": []string{transport}})})
			if own.Eid == a.Eid {
				t.Fatal("forceNew shares the connection")
			}
			single := n.connected(t, "single", srv.URL+"/room-3", clientOpts{Opts: auth("single", merge(shared, map[string]any{"multiplex": false}))})
			if single.Eid == a.Eid || single.Eid == own.Eid {
				t.Fatal("multiplex: false shares a connection")
			}
			if c := srv.Engine().Count(); c != 3 {
				t.Errorf("%d Engine.IO sessions, want 3", c)
			}
			for range 4 {
				reg.connections.next(t, "connection")
			}
			n.event(t, "a", "welcome")
			n.event(t, "r", "welcome")
			roundTrip(t, n, reg, "a", transport)

			n.send(t, map[string]any{"op": "closeManager", "c": "a"})
			for _, c := range []string{"a", "r"} {
				if d := n.want(t, "disconnect", c); d.Reason != "forced close" {
					t.Errorf("client %s: %s", c, d)
				}
			}
			left := map[string]socketio.DisconnectReason{}
			for range 2 {
				g := reg.gone.next(t, "disconnection")
				left[g.Socket] = g.Reason
			}
			if left["a"] != socketio.ReasonTransportClose || left["r"] != socketio.ReasonTransportClose {
				t.Errorf("server saw %v, want a and r with %q", left, socketio.ReasonTransportClose)
			}
			reg.gone.none(t, 0, "another disconnection (own, single)")

			// emitted while disconnected: buffered by the client, sent once
			// connected again
			n.emit(t, "a", "echo", "buffered while closed")
			n.send(t, map[string]any{"op": "reconnect", "c": "a"})
			a2 := n.want(t, "connect", "a")
			r2 := n.want(t, "connect", "r")
			if a2.Eid != r2.Eid || a2.Eid == a.Eid {
				t.Errorf("engine ids %q and %q after %q: want one new shared connection", a2.Eid, r2.Eid, a.Eid)
			}
			for range 2 {
				reg.connections.next(t, "connection")
			}
			if got, _ := reg.event(t, "a", "echo").Event.Args.String(0); got != "buffered while closed" {
				t.Errorf("server got %q", got)
			}
			sameArgs(t, n.event(t, "a", "echo"), "buffered while closed")
			roundTrip(t, n, reg, "a", transport)
			if c := srv.Engine().Count(); c != 3 {
				t.Errorf("%d Engine.IO sessions, want 3", c)
			}
		})
	}
}
